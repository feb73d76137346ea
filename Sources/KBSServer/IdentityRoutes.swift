import Foundation
import HTTPTypes
import Hummingbird
import KBSBroker
import KBSClaims
import KBSPolicy
import NIOCore

/// Logins and identity-only release under `/kbs/v1` (DESIGN, "Credentials on requests", "Identity-only release"):
/// open routes, each checking its own credential.
struct IdentityRoutes: Sendable {
    let holder: IdentityHolder
    let broker: Broker
    let configuration: ServerConfiguration

    /// Adds the routes to `limited`, a `/kbs/v1` group behind the per-address rate limit.
    /// The identity side in service now (the configuration file may have been reloaded).
    private var identity: ServerIdentity { holder.current }
    /// Under TLS the login cookie is `Secure`: a browser then never sends it over plain HTTP.
    private var secureAttribute: String { configuration.servesTLS ? "; Secure" : "" }

    func add(to limited: RouterGroup<KBSRequestContext>) {
        limited.get("/login/challenge") { _, _ in try await challenge() }
        limited.post("/login/siwe") { request, _ in
            try await login(request) { (body) async throws(BrokerError) in try await identity.logins.siwe(body) }
        }
        limited.post("/login/eip712") { request, _ in
            try await login(request) { (body) async throws(BrokerError) in try await identity.logins.eip712(body) }
        }
        limited.post("/login/did") { request, _ in
            try await login(request) { (body) async throws(BrokerError) in try await identity.logins.did(body) }
        }
        limited.get("/login/saml/{name}") { _, context in try await samlRedirect(context) }
        limited.post("/login/saml/{name}") { request, context in try await samlLogin(request, context) }
        limited.delete("/login") { request, _ in try await logout(request) }
        limited.post("/release/{repo}/{type}/{tag}") { request, context in try await release(request, context) }
    }

    private func challenge() async throws(ServerError) -> Response {
        let (nonce, expires) = try await KBSProtocolRoutes.brokering { () async throws(BrokerError) in try await identity.logins.challenge() }
        return JSONResponse.make(
            "{\"nonce\":\(JSONText.quote(nonce)),\"expires\":\(JSONText.quote(Timestamp.rfc3339(Int64(expires.timeIntervalSince1970) * 1_000_000_000)))}",
            headers: [.cacheControl: "no-store"])
    }

    private func login(
        _ request: Request, _ verify: @Sendable ([UInt8]) async throws(BrokerError) -> Logins.Session
    ) async throws(ServerError) -> Response {
        var request = request
        let body = try await request.bodyBytes(limit: configuration.maxBodyBytes)
        let session = try await KBSProtocolRoutes.brokering { () async throws(BrokerError) in try await verify(body) }
        return started(session)
    }

    private func samlRedirect(_ context: KBSRequestContext) async throws(ServerError) -> Response {
        let name = context.parameters.get("name") ?? ""
        let url = try await KBSProtocolRoutes.brokering { () async throws(BrokerError) in try await identity.logins.samlRedirect(provider: name) }
        return Response(status: .found, headers: [.location: url, .cacheControl: "no-store"])
    }

    /// The IdP's HTTP-POST: an `application/x-www-form-urlencoded` body with `SAMLResponse` and `RelayState`.
    private func samlLogin(_ request: Request, _ context: KBSRequestContext) async throws(ServerError) -> Response {
        let name = context.parameters.get("name") ?? ""
        var request = request
        let body = try await request.bodyBytes(limit: configuration.maxBodyBytes)
        let form = FormFields(body)
        guard let response = form["SAMLResponse"], !response.isEmpty else {
            throw .badRequest("invalid_request", "the form needs a `SAMLResponse` field")
        }
        let session = try await KBSProtocolRoutes.brokering { () async throws(BrokerError) in
            try await identity.logins.saml(provider: name, response: response, relayState: form["RelayState"])
        }
        return started(session)
    }

    private func logout(_ request: Request) async throws(ServerError) -> Response {
        guard let id = RequestCredential.cookie(RequestCredential.loginCookie, in: request) else {
            throw ServerError(.unauthorized, "no_session", "there is no `kbs-login` cookie to end")
        }
        let ended = try await KBSProtocolRoutes.brokering { () async throws(BrokerError) in try await identity.logins.logout(id) }
        guard ended else { throw ServerError(.unauthorized, "no_session", "the `kbs-login` cookie names no session") }
        let expired = "\(RequestCredential.loginCookie)=; Max-Age=0; Path=/; HttpOnly; SameSite=Strict\(secureAttribute)"
        return Response(status: .noContent, headers: [.setCookie: expired])
    }

    /// `POST /kbs/v1/release/{repo}/{type}/{tag}` `{"recipient": <public JWK>}`: the value as a JWE to the recipient,
    /// decided at tier 1 for a verified caller, 0 for an anonymous one.
    private func release(_ request: Request, _ context: KBSRequestContext) async throws(ServerError) -> Response {
        let path = try KBSProtocolRoutes.path(context)
        var request = request
        let body = try await request.bodyBytes(limit: configuration.maxBodyBytes)
        let caller = try await identity.identify(request, body: body)
        let fields = try JSONBody(body, members: ["recipient"], shape: "{\"recipient\": <public JWK>}")
        guard let recipient = fields.root["recipient"], case .object = recipient.value else {
            throw .badRequest("invalid_request", "`recipient` must be a public JWK object")
        }
        let jwe = try await KBSProtocolRoutes.brokering { () async throws(BrokerError) in
            try await broker.release(path: path, identity: caller, recipient: recipient)
        }
        return JSONResponse.make(jwe, headers: [.cacheControl: "no-store"])
    }

    /// The login's answer: the subject and end, and the session as an HttpOnly cookie (never in the body).
    private func started(_ session: Logins.Session) -> Response {
        let maxAge = max(0, session.expires - Int64(Date().timeIntervalSince1970))
        let cookie = "\(RequestCredential.loginCookie)=\(session.id); Max-Age=\(maxAge); Path=/; HttpOnly; SameSite=Strict\(secureAttribute)"
        let expires = Timestamp.rfc3339(session.expires * 1_000_000_000)
        return JSONResponse.make(
            "{\"subject\":\(JSONText.quote(session.subject)),\"expires\":\(JSONText.quote(expires))}",
            headers: [.setCookie: cookie, .cacheControl: "no-store"])
    }
}

/// The fields of an `application/x-www-form-urlencoded` body: `+` is a space, `%XX` a byte; the first of a repeated
/// name wins.
struct FormFields {
    private var fields: [String: String] = [:]

    init(_ body: [UInt8]) {
        for pair in body.split(separator: UInt8(ascii: "&")) {
            let parts = pair.split(separator: UInt8(ascii: "="), maxSplits: 1, omittingEmptySubsequences: false)
            guard let name = Self.decode(parts[0]) else { continue }
            let value = parts.count > 1 ? Self.decode(parts[1]) : ""
            if fields[name] == nil, let value { fields[name] = value }
        }
    }

    subscript(name: String) -> String? { fields[name] }

    static func decode(_ bytes: ArraySlice<UInt8>) -> String? {
        var out: [UInt8] = []
        out.reserveCapacity(bytes.count)
        var index = bytes.startIndex
        while index < bytes.endIndex {
            let byte = bytes[index]
            if byte == UInt8(ascii: "+") {
                out.append(0x20)
            } else if byte == UInt8(ascii: "%") {
                guard index + 2 < bytes.endIndex, let high = Self.hex(bytes[index + 1]), let low = Self.hex(bytes[index + 2]) else { return nil }
                out.append(high << 4 | low)
                index += 2
            } else {
                out.append(byte)
            }
            index += 1
        }
        return String(validating: out, as: UTF8.self)
    }

    static func hex(_ byte: UInt8) -> UInt8? {
        switch byte {
        case 0x30...0x39: byte - 0x30
        case 0x41...0x46: byte - 0x41 + 10
        case 0x61...0x66: byte - 0x61 + 10
        default: nil
        }
    }
}
