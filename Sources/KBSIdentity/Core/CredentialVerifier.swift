package import Foundation
import KBSClaims

/// The kinds of credential `KBSIdentity` verifies.
package enum CredentialKind: String, Sendable, CaseIterable {
    case jwt
    case saml
    case eip191
    case eip712
    case siwe
    case did
    case hmac
    /// A bearer API key checked against the store's peppered hashes (``APIKeys``).
    case apiKey = "api_key"

    /// The name policies see in `identity.method` and `identity_methods` labels list: `oidc` for JWTs from an OpenID
    /// issuer, `apikey` for API keys, the kind's own name otherwise.
    package var methodName: String {
        switch self {
        case .jwt: "oidc"
        case .apiKey: "apikey"
        default: rawValue
        }
    }
}

/// Turns one kind of credential into a ``Principal``, or refuses it with an ``IdentityError``.
///
/// A verifier holds its trust configuration (keys, issuer, audience, replay state); `verify` checks the
/// credential's bytes as of `time` (the clock is injected so tests and `--at` can pin it). Every failure on the
/// way throws: there is no "unverified" principal.
package protocol CredentialVerifier: Sendable {
    /// The kind this verifier accepts.
    var kind: CredentialKind { get }

    /// Verifies `credential` at `time`.
    func verify(_ credential: [UInt8], at time: Date) async throws(IdentityError) -> Principal
}

/// How far clocks may disagree: at most 60 s either way for expiry, not-before and issued-at checks.
package let clockLeewaySeconds: Int64 = 60
