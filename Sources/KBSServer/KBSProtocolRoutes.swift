import Foundation
import HTTPTypes
import Hummingbird
import KBSBroker
import KBSClaims
import KBSKeys
import KBSPolicy
import NIOCore

/// Trustee's RCAR protocol v0.4.0 under `/kbs/v0/`: auth, attest, resource (and the admin resource writes Trustee
/// puts on the same path).
struct KBSProtocolRoutes: Sendable {
    let broker: Broker
    let identity: IdentityHolder
    let configuration: ServerConfiguration

    static let cookieName = "kbs-session-id"

    /// Adds RCAR `auth` and `attest` to `limited` (a `/kbs/v0` group behind the per-address rate limit), `resource` to
    /// `router`, and Trustee's resource writes to `admin`, a `/kbs/v0` group behind ``AdminAuthentication``.
    /// Also `GET /.well-known/jwks.json`: the keys attestation tokens are signed with, for relying parties.
    func add(to router: Router<KBSRequestContext>, limited: RouterGroup<KBSRequestContext>, admin: RouterGroup<KBSRequestContext>) {
        let group = router.group("/kbs/v0")
        router.get("/.well-known/jwks.json") { _, _ in try await jwks() }
        guard configuration.enableTEE else {
            // ENABLE_TEE=false: identity-only release serves tiers 0 and 1; nothing attests.
            group.post("/auth") { _, _ -> Response in throw Self.teeDisabled }
            group.post("/attest") { _, _ -> Response in throw Self.teeDisabled }
            group.get("/resource/{repo}/{type}/{tag}") { _, _ -> Response in throw Self.teeDisabled }
            return
        }
        limited.post("/auth") { request, context in try await auth(request, client: context.clientAddress) }
        limited.post("/attest") { request, _ in try await attest(request) }
        group.get("/resource/{repo}/{type}/{tag}") { request, context in try await resource(request, context) }
        admin.post("/resource/{repo}/{type}/{tag}") { request, context in try await putResource(request, context) }
        admin.delete("/resource/{repo}/{type}/{tag}") { _, context in try await deleteResource(context) }
    }

    /// The token signing keys as an RFC 7517 JWK Set; a relying party may cache it for the lifetime of a token.
    private func jwks() async throws(ServerError) -> Response {
        let keys = try await Self.brokering { () async throws(BrokerError) in try await broker.signer.keys.publicJWKs() }
        var writer = JSONWriter()
        writer.object { root in
            root.key("keys")
            root.array { list in
                for key in keys {
                    list.object { jwk in
                        for (name, value) in key.sorted(by: { $0.key < $1.key }) { jwk.member(name, value) }
                    }
                }
            }
        }
        return JSONResponse.make(String(decoding: writer.bytes, as: UTF8.self), headers: [.cacheControl: "max-age=\(Int(broker.signer.lifetime))"])
    }

    private func auth(_ request: Request, client: String) async throws(ServerError) -> Response {
        var request = request
        let body = try await request.bodyBytes(limit: configuration.maxBodyBytes)
        var auth = try RCARRequestDecoding.auth(body)
        auth.client = client
        let challenge = try await Self.brokering { () async throws(BrokerError) in try await broker.auth(auth) }
        let text = "{\"nonce\":\(JSONText.quote(challenge.nonce)),\"extra-params\":\"\"}"
        let cookie = Self.cookie(challenge.sessionID, expires: challenge.expires, secure: configuration.servesTLS)
        return JSONResponse.make(text, headers: [.setCookie: cookie])
    }

    private func attest(_ request: Request) async throws(ServerError) -> Response {
        var request = request
        let session = Self.sessionID(request)
        let body = try await request.bodyBytes(limit: configuration.maxBodyBytes)
        let attest = try RCARRequestDecoding.attest(body)
        let caller = try await identity.current.identify(request, body: body)
        let token = try await Self.brokering { () async throws(BrokerError) in
            try await broker.attest(sessionID: session, request: attest, identity: caller)
        }
        return JSONResponse.make("{\"token\":\(JSONText.quote(token))}")
    }

    private func resource(_ request: Request, _ context: KBSRequestContext) async throws(ServerError) -> Response {
        let path = try Self.path(context)
        let bearer = try Self.bearer(request, code: "invalid_token", expected: "an attestation token")
        let session = Self.sessionID(request)
        let jwe = try await Self.brokering { () async throws(BrokerError) in try await broker.release(path: path, sessionID: session, bearer: bearer)
        }
        return JSONResponse.make(jwe, headers: [.cacheControl: "no-store"])
    }

    /// Trustee's admin write: the raw body is the value; the default tier (PRIVACY_TIER) and no labels (use `/kbs/v1/resources` for more).
    private func putResource(_ request: Request, _ context: KBSRequestContext) async throws(ServerError) -> Response {
        let path = try Self.path(context)
        var request = request
        var body = try await request.bodyBytes(limit: configuration.maxBodyBytes)
        let value = SecretBytes(copying: body)
        SecretBytes.wipe(&body)
        let info = try await Self.brokering { () async throws(BrokerError) in
            try await broker.vault.putResource(path: path, value: value, requiredTier: configuration.defaultPrivacyTier, labels: [:], actor: "admin")
        }
        return JSONResponse.make(BrokerAdminRoutes.render(info), status: info.created ? .created : .ok)
    }

    private func deleteResource(_ context: KBSRequestContext) async throws(ServerError) -> Response {
        let path = try Self.path(context)
        guard try await Self.brokering({ () async throws(BrokerError) in try await broker.vault.deleteResource(path: path, actor: "admin") }) else {
            throw .notFound("no resource at \(path)")
        }
        return Response(status: .noContent)
    }

    // MARK: Helpers

    static let teeDisabled = ServerError(.notFound, "tee_disabled", "this server runs with ENABLE_TEE=false: use POST /kbs/v1/release/…")

    static func path(_ context: KBSRequestContext) throws(ServerError) -> String {
        guard let repo = context.parameters.get("repo"), let type = context.parameters.get("type"), let tag = context.parameters.get("tag") else {
            throw .badRequest("invalid_path", "a resource path is /{repo}/{type}/{tag}")
        }
        return "\(repo)/\(type)/\(tag)"
    }

    /// The credential in `Authorization: Bearer …`, nil without the header; any other scheme is refused as `code`.
    static func bearer(_ request: Request, code: String, expected: String) throws(ServerError) -> String? {
        guard let header = request.headers[.authorization] else { return nil }
        guard header.count > 7, header.prefix(7).lowercased() == "bearer " else {
            throw ServerError(.unauthorized, code, "`Authorization` must be `Bearer <\(expected)>`")
        }
        return String(header.dropFirst(7))
    }

    /// The `kbs-session-id` cookie's value, if the request carries one.
    static func sessionID(_ request: Request) -> String? { RequestCredential.cookie(cookieName, in: request) }

    /// The `Set-Cookie` value for an RCAR session; `secure` (under TLS) keeps browsers from sending it in the clear.
    static func cookie(_ id: String, expires: Date, secure: Bool) -> String {
        let formatter = DateFormatter()
        formatter.locale = Locale(identifier: "en_US_POSIX")
        formatter.timeZone = TimeZone(identifier: "GMT")
        formatter.dateFormat = "EEE, dd MMM yyyy HH:mm:ss 'GMT'"
        return "\(cookieName)=\(id); Expires=\(formatter.string(from: expires)); Path=/kbs; HttpOnly; SameSite=Strict\(secure ? "; Secure" : "")"
    }

    /// Runs a broker step, mapping its refusal onto HTTP.
    static func brokering<T>(_ body: () async throws(BrokerError) -> T) async throws(ServerError) -> T {
        do { return try await body() } catch { throw BrokerErrorStatus.serverError(error) }
    }
}
