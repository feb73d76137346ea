import Foundation
import HTTPTypes
import Hummingbird
import KBSBroker
import KBSClaims
import NIOCore

/// HashiCorp Vault's HTTP API under `/v1/`: `sys/health`, `sys/seal-status`, `sys/mounts`, token auth, JWT and
/// attestation logins, KV v2 at `secret/` and Transit at `transit/`. Unmodified Vault clients (hvac, Vault Agent,
/// External Secrets) point `VAULT_ADDR` here.
///
/// Each request is read (1 MiB at most), its token (`X-Vault-Token` or `Authorization: Bearer`) turned into a caller,
/// dispatched to the broker's ``VaultService`` and answered in Vault's envelope; every refusal is `{"errors": […]}`
/// with Vault's status, and each request is counted by operation and result. `LIST` arrives as `GET ?list=true`
/// when HTTP/1.1's parser cannot take the verb (``VaultListMethod``).
struct VaultRoutes: Sendable {
    let vault: VaultService
    let broker: Broker
    let identity: IdentityHolder
    let metrics: ServerMetrics

    /// The largest body taken: KV data (512 KiB) and Transit batches fit, base64 included.
    static let maximumBody = 1024 * 1024
    /// The Vault version this API answers as: the API it follows.
    static let version = "1.15.0+kbs"
    static let list = HTTPRequest.Method("LIST")!
    static let tokenHeader = HTTPField.Name("X-Vault-Token")!
    static let namespaceHeader = HTTPField.Name("X-Vault-Namespace")!

    /// One Vault request, as the handlers read it.
    struct Call {
        /// `GET`, `POST` (and `PUT`), `PATCH`, `DELETE`, `LIST` (and `GET ?list=true`), `HEAD`.
        let method: String
        /// The path after `/v1/`.
        let path: String
        let query: [String: String]
        let body: VaultInput
        let token: String?
    }

    /// What a handler answers: Vault's envelope with `data` (JSON text) and/or `auth`, 204, or a status of its own.
    struct Reply {
        var status: HTTPResponse.Status = .ok
        var data: String?
        var auth: String?
        var mountType = ""
        /// A body sent as it is (sys/health, sys/mounts), instead of the envelope.
        var raw: String?

        static let noContent = Reply(status: .noContent)
        static func data(_ json: String, mount: String = "") -> Reply { Reply(data: json, mountType: mount) }
    }

    /// Answers `/v1/**` for every method Vault clients send.
    func add(to router: Router<KBSRequestContext>) {
        for method in [HTTPRequest.Method.get, .head, .post, .put, .patch, .delete, Self.list] {
            router.on("/v1/**", method: method) { request, _ in await handle(request) }
        }
    }

    /// Answers one request; never throws (every refusal is a Vault error response).
    func handle(_ request: Request) async -> Response {
        var operation = "unknown"
        do throws(ServerError) {
            let call = try await Self.call(request)
            let reply = try await dispatch(call, operation: &operation)
            metrics.recordVault(operation: operation, result: "ok")
            return Self.response(reply, head: request.method == .head)
        } catch {
            metrics.recordVault(operation: operation, result: String(error.status.code))
            return Self.errorResponse(error)
        }
    }

    /// Reads the request: method, path, query, body and token.
    static func call(_ request: Request) async throws(ServerError) -> Call {
        let body: [UInt8]
        do { body = Array(try await request.body.collect(upTo: maximumBody).readableBytesView) } catch is NIOTooManyBytesError {
            throw ServerError(.contentTooLarge, "too_large", "the request body exceeds \(maximumBody) bytes")
        } catch {
            throw ServerError(.badRequest, "invalid_request", "the request body could not be read")
        }
        if let namespace = request.headers[namespaceHeader], !namespace.isEmpty, namespace != "root", namespace != "root/" {
            throw ServerError(.badRequest, "invalid_request", "namespaces are not offered; send no X-Vault-Namespace")
        }
        var query: [String: String] = [:]
        for (name, value) in request.uri.queryParameters { query[String(name)] = String(value) }
        var method = request.method == .put ? "POST" : request.method.rawValue
        if method == "GET", query["list"] == "true" { method = "LIST" }
        var token = request.headers[tokenHeader]
        if token == nil, let authorization = request.headers[.authorization], authorization.hasPrefix("Bearer ") {
            token = String(authorization.dropFirst(7))
        }
        let path = String(request.uri.path.dropFirst(4))
        return Call(method: method, path: path, query: query, body: try VaultInput(body), token: token)
    }

    /// Routes a call by its path's first segments.
    private func dispatch(_ call: Call, operation: inout String) async throws(ServerError) -> Reply {
        let parts = call.path.split(separator: "/", maxSplits: 1, omittingEmptySubsequences: false).map(String.init)
        let rest = parts.count > 1 ? parts[1] : ""
        switch parts[0] {
        case "sys": return try await system(call, rest, operation: &operation)
        case "auth": return try await auth(call, rest, operation: &operation)
        case "secret": return try await kv(call, rest, operation: &operation)
        case "transit": return try await transit(call, rest, operation: &operation)
        default: throw Self.noRoute(call.path)
        }
    }

    /// The caller a call's token stands for.
    func caller(_ call: Call) async throws(ServerError) -> VaultCaller {
        guard let token = call.token, !token.isEmpty else { throw ServerError(.forbidden, "permission_denied", "permission denied") }
        return try await brokering { () async throws(BrokerError) in try await vault.caller(token: token) }
    }

    /// Runs a broker call, its refusal as Vault's error.
    func brokering<T>(_ body: () async throws(BrokerError) -> T) async throws(ServerError) -> T {
        do { return try await body() } catch { throw Self.from(error) }
    }

    // MARK: Responses

    /// A broker refusal with Vault's status: 400 for the request, 403 for the token or the policy, 404, else 500 (or
    /// 503 while the master key cannot be reached, as a sealed Vault answers).
    static func from(_ error: BrokerError) -> ServerError {
        let status: HTTPResponse.Status =
            switch error.kind {
            case .invalidRequest, .conflict: .badRequest
            case .unauthenticated, .forbidden: .forbidden
            case .notFound: .notFound
            case .unavailable where error.code == "master_key": .serviceUnavailable
            default: .internalServerError
            }
        return ServerError(status, error.code, error.message)
    }

    /// Vault's "no handler" 404.
    static func noRoute(_ path: String) -> ServerError {
        ServerError(.notFound, "no_route", "no handler for route \"\(path.prefix(256))\". route entry not found.")
    }

    /// Vault's 405 for a method a path does not take.
    static func unsupported(_ call: Call) -> ServerError {
        ServerError(.methodNotAllowed, "unsupported_operation", "unsupported operation: \(call.method) \(call.path.prefix(256))")
    }

    /// `{"errors": [message]}` (an empty list for a 404 without a message, as Vault sends it).
    static func errorResponse(_ error: ServerError) -> Response {
        var writer = JSONWriter()
        writer.object { object in
            object.key("errors")
            object.array { list in if !error.message.isEmpty { list.string(error.message) } }
        }
        return Response(
            status: error.status, headers: [.contentType: "application/json", .cacheControl: "no-store"],
            body: .init(byteBuffer: ByteBuffer(bytes: writer.bytes)))
    }

    /// Vault's envelope around a reply.
    static func response(_ reply: Reply, head: Bool = false) -> Response {
        guard reply.status != .noContent else { return Response(status: .noContent, headers: [.cacheControl: "no-store"]) }
        let text: String
        if let raw = reply.raw {
            text = raw
        } else {
            var writer = JSONWriter()
            writer.object { out in
                out.member("request_id", UUID().uuidString.lowercased())
                out.member("lease_id", "")
                out.key("renewable")
                out.bool(false)
                out.member("lease_duration", 0)
                out.key("data")
                if let data = reply.data { out.raw(Array(data.utf8)) } else { out.null() }
                out.key("wrap_info")
                out.null()
                out.key("warnings")
                out.null()
                out.key("auth")
                if let auth = reply.auth { out.raw(Array(auth.utf8)) } else { out.null() }
                out.member("mount_type", reply.mountType)
            }
            text = writer.text
        }
        return Response(
            status: reply.status, headers: [.contentType: "application/json", .cacheControl: "no-store"],
            body: head ? .init() : .init(byteBuffer: ByteBuffer(string: text)))
    }

    /// A JSON object written by `body`.
    static func object(_ body: (inout JSONWriter) -> Void) -> String {
        var writer = JSONWriter()
        writer.object(body)
        return writer.text
    }

    /// RFC 3339 in UTC, as Vault writes times, from milliseconds since 1970.
    static func time(milliseconds: Int64) -> String { Timestamp.format(milliseconds * 1_000_000) }
}
