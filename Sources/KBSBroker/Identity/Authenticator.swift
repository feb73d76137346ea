import Foundation
import KBSClaims
package import KBSIdentity
import KBSJOSE

/// Turns the credential a request carries into a ``CallerIdentity``, or refuses it (401, a code per reason).
///
/// Bearer tokens are told apart by their form: `kbs_k_…` is an API key, `kbsc1.…` a capability token, anything else a
/// JWT from one of the configured OIDC issuers (picked by its `iss`, then fully verified by that issuer's keys).
package struct Authenticator: Sendable {
    /// The OIDC issuers whose JWTs are accepted.
    package var issuers: [OIDCIssuer]
    /// API keys, checked against the store's peppered hashes.
    package var apiKeys: APIKeys?
    /// Login sessions, for the `kbs-login` cookie.
    package var sessions: Sessions?
    /// RFC 9421 request signatures with API keys' secrets.
    package var signatures: HTTPSignatureVerifier?
    let capabilities: CapabilityAuthority
    let clock: @Sendable () -> Date

    /// An authenticator that accepts capability tokens alone until the other members are set.
    package init(broker: Broker) {
        issuers = []
        capabilities = broker.capabilities
        clock = broker.clock
    }

    /// The identity `credential` proves, checked as of now.
    package func identify(_ credential: PresentedCredential) async throws(BrokerError) -> CallerIdentity {
        let now = clock()
        switch credential {
        case .bearer(let token) where token.hasPrefix("kbsc1."):
            let verified = try await capabilities.verify(token)
            return CallerIdentity(
                agent: verified.subject,
                grant: .init(tokenID: verified.id, token: token, capabilities: verified.capabilities.map(\.description)),
                expires: verified.expires, verifiedAt: now)
        case .bearer(let token) where token.hasPrefix(APIKeys.prefix):
            guard let apiKeys else { throw Self.unsupported("API keys") }
            return CallerIdentity(principal: try await Self.verified { () async throws(IdentityError) in try await apiKeys.verify(token, at: now) })
        case .bearer(let token):
            let issuer = try issuer(of: token)
            let principal = try await Self.verified { () async throws(IdentityError) in try await issuer.verify(Array(token.utf8), at: now) }
            var expires: Int64?
            if case .time(let date)? = principal.claims.value(at: "jwt.exp") { expires = Int64(date.timeIntervalSince1970) }
            return CallerIdentity(principal: principal, expires: expires)
        case .loginCookie(let id):
            guard let sessions else { throw Self.unsupported("login sessions") }
            let record = try await Self.verified { () async throws(IdentityError) in try await sessions.resume(id, at: now) }
            guard let node = try? JSONNode.parse(Array(record.principalJSON.utf8)), case .record(let claims)? = ClaimValue(json: node) else {
                throw BrokerError(.unauthenticated, "identity_malformed", "the login session's record does not parse")
            }
            return CallerIdentity(session: record, claims: claims)
        case .signedRequest(let request):
            guard let signatures else { throw Self.unsupported("request signatures") }
            let principal = try await Self.verified { () async throws(IdentityError) in try await signatures.verify(request, at: now) }
            return CallerIdentity(principal: principal)
        }
    }

    /// The configured issuer a JWT names in `iss`; the signature is checked afterwards, by that issuer's keys only.
    private func issuer(of token: String) throws(BrokerError) -> OIDCIssuer {
        guard !issuers.isEmpty else { throw Self.unsupported("OIDC tokens") }
        let payload: [UInt8]
        do { payload = try CompactJWS(Array(token.utf8)).payload } catch {
            throw BrokerError(.unauthenticated, "identity_malformed", "the bearer token is not a JWT, an API key or a capability token")
        }
        guard let claims = try? JSONNode.parse(payload), let name = claims["iss"]?.stringValue else {
            throw BrokerError(.unauthenticated, "identity_missing_claim", "the JWT names no issuer")
        }
        guard let issuer = issuers.first(where: { $0.issuer == name }) else {
            throw BrokerError(.unauthenticated, "identity_issuer", "the JWT's issuer is not one this server trusts")
        }
        return issuer
    }

    /// A credential kind this server was not configured to accept.
    static func unsupported(_ what: String) -> BrokerError {
        BrokerError(.unauthenticated, "unsupported_credential", "this server is not configured to accept \(what)")
    }

    /// Runs a verifier; its refusal becomes a 401 `identity_<reason>` (a store failure, 503).
    static func checked<T>(_ body: () throws(IdentityError) -> T) throws(BrokerError) -> T {
        do { return try body() } catch { throw refusal(error) }
    }

    /// ``checked(_:)`` for a verifier that awaits.
    static func verified<T>(_ body: () async throws(IdentityError) -> T) async throws(BrokerError) -> T {
        do { return try await body() } catch { throw refusal(error) }
    }

    /// A verifier's refusal as the broker's: `identity_<reason>`, 401; the verifier's own trouble reaching its
    /// documents or store is 503, since the credential may be fine.
    static func refusal(_ error: IdentityError) -> BrokerError {
        switch error.reason {
        case .configuration: BrokerError(.unavailable, "identity_unavailable", error.message)
        default: BrokerError(.unauthenticated, "identity_" + error.reason.rawValue, error.message)
        }
    }
}
