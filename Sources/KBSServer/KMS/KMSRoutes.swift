import Foundation
import HTTPTypes
import Hummingbird
import KBSBroker
import KBSClaims
import KBSIdentity
import NIOCore

/// AWS KMS's JSON 1.1 protocol at `POST /`: `X-Amz-Target: TrentService.<Operation>`, a JSON body, SigV4 with API keys
/// as access keys. Unmodified AWS clients (boto3, the AWS CLI) point `endpoint_url` here.
///
/// The route reads the body (64 KiB at most), verifies the signature over it, turns the session token (if any) into
/// the caller's tier, dispatches the operation to the broker's ``KeyService`` and answers in AWS's shapes; every
/// refusal, from a bad signature to a key's state, is `{"__type", "message"}` with AWS's status, and each request is
/// counted by operation and outcome.
struct KMSRoutes: Sendable {
    let keys: KeyService
    let identity: IdentityHolder
    let metrics: ServerMetrics

    /// The largest body taken: AWS's largest members (a 6 KiB ciphertext, 4 KiB plaintexts, 50 tags) fit many times.
    static let maximumBody = 64 * 1024
    static let targetPrefix = "TrentService."
    static let target = HTTPField.Name("X-Amz-Target")!

    /// One operation's handler: the request's input and caller in, the response body (JSON text) out.
    typealias Handler = @Sendable (KMSRoutes, Call) async throws(ServerError) -> String

    /// What a handler works with.
    struct Call {
        let input: KMSInput
        let caller: KMSCaller
        /// The region the client signed for: ARNs in responses name it.
        let region: String
    }

    func add(to router: Router<KBSRequestContext>) {
        router.post("/") { request, _ in await handle(request) }
    }

    /// Answers one request; never throws (every refusal is an AWS error response).
    func handle(_ request: Request) async -> Response {
        let requestID = UUID().uuidString.lowercased()
        var operation = "unknown"
        do throws(ServerError) {
            let output = try await respond(request, operation: &operation)
            metrics.recordKMS(operation: operation, result: "ok")
            return Response(status: .ok, headers: Self.headers(requestID: requestID), body: .init(byteBuffer: ByteBuffer(string: output)))
        } catch {
            metrics.recordKMS(operation: operation, result: error.code)
            return KMSError.response(error, requestID: requestID)
        }
    }

    /// The response body of one request; `operation` is set once the target names a served one.
    private func respond(_ request: Request, operation: inout String) async throws(ServerError) -> String {
        var request = request
        let body: [UInt8]
        do { body = Array(try await request.body.collect(upTo: Self.maximumBody).readableBytesView) } catch is NIOTooManyBytesError {
            throw KMSError.validation("the request body exceeds \(Self.maximumBody) bytes")
        } catch {
            throw KMSError.serialization("the request body could not be read")
        }
        let target = request.headers[Self.target] ?? ""
        let name = String(target.dropFirst(Self.targetPrefix.count))
        guard target.hasPrefix(Self.targetPrefix), let handler = Self.handlers[name] else {
            throw ServerError(.badRequest, "UnknownOperationException", "unknown operation `\(target.prefix(128))`")
        }
        operation = name
        let verified: SigV4Verifier.Verified
        do { verified = try await identity.current.sigV4.verify(Self.signed(request, body: body), at: Date()) } catch {
            throw KMSError.from(error)
        }
        let caller = try await Self.brokering { () throws(BrokerError) in
            try await keys.caller(identity: CallerIdentity(principal: verified.principal), sessionToken: verified.securityToken)
        }
        let input = try KMSInput(body)
        if try input.bool("DryRun") == true {
            throw ServerError(.badRequest, "UnsupportedOperationException", "DryRun is not offered; the kms policy bundle can be evaluated offline")
        }
        return try await handler(self, Call(input: input, caller: caller, region: verified.region))
    }

    /// The headers of every answer: JSON 1.1 and the request id AWS clients log.
    static func headers(requestID: String) -> HTTPFields {
        [.contentType: "application/x-amz-json-1.1", HTTPField.Name("x-amzn-RequestId")!: requestID]
    }

    /// The request as SigV4 reads it: the `Host` header (HTTP/2's `:authority`) first, then the headers as received.
    static func signed(_ request: Request, body: [UInt8]) -> SigV4Verifier.Request {
        var headers: [(name: String, value: String)] = [("host", request.head.authority ?? "")]
        for field in request.headers { headers.append((field.name.canonicalName, field.value)) }
        return SigV4Verifier.Request(
            method: request.method.rawValue, path: request.uri.path, query: request.uri.query, headers: headers, body: body)
    }

    /// Runs a broker call, its refusal as AWS's error.
    static func brokering<T>(_ body: () async throws(BrokerError) -> T) async throws(ServerError) -> T {
        do { return try await body() } catch { throw KMSError.from(error) }
    }

    /// Every operation served, by its name in `X-Amz-Target`.
    static let handlers: [String: Handler] = keyHandlers.merging(cryptoHandlers) { first, _ in first }

    // MARK: Response helpers

    /// `arn:aws:kms:<region>:<account>:key/<id>`.
    func arn(_ call: Call, key id: String) -> String { "arn:aws:kms:\(call.region):\(keys.account):key/\(id)" }

    /// `arn:aws:kms:<region>:<account>:<alias name>`.
    func arn(_ call: Call, alias name: String) -> String { "arn:aws:kms:\(call.region):\(keys.account):\(name)" }

    /// A JSON object written by `body`.
    static func object(_ body: (inout JSONWriter) -> Void) -> String {
        var writer = JSONWriter()
        writer.object(body)
        return writer.text
    }
}
