import Foundation
import KBSClaims
package import KBSIdentity

/// One configured OpenID Connect issuer: its verifiers, one per accepted audience and token type.
package struct OIDCIssuer: Sendable {
    /// The configuration's name for the issuer (logs, metrics).
    package var name: String
    /// The exact `iss` its tokens carry.
    package var issuer: String
    /// Tried in order; a refusal for another audience or token type moves on to the next.
    let verifiers: [JWTVerifier]

    /// An issuer accepting `audiences` for `tokenTypes` (`access`, `id`), keys from `keys`.
    package init(name: String, issuer: String, audiences: [String], tokenTypes: [String], algorithms: Set<String>, keys: IssuerKeys) {
        self.name = name
        self.issuer = issuer
        var verifiers: [JWTVerifier] = []
        for type in tokenTypes {
            for audience in audiences {
                verifiers.append(
                    JWTVerifier(issuer: issuer, audience: audience, accessToken: type == "access", algorithms: algorithms, keys: keys))
            }
        }
        self.verifiers = verifiers
    }

    /// The principal a token from this issuer stands for; the first verifier's refusal when none accepts it, unless a
    /// later one got further (past the token type, past the audience).
    func verify(_ token: [UInt8], at time: Date) async throws(IdentityError) -> Principal {
        var refusal: IdentityError?
        for verifier in verifiers {
            do { return try await verifier.verify(token, at: time) } catch {
                // A wrong type or audience for this verifier may be right for the next; anything else is final.
                guard error.reason == .tokenType || error.reason == .audience else { throw error }
                if refusal == nil || refusal?.reason == .tokenType { refusal = error }
            }
        }
        throw refusal ?? IdentityError(.configuration, "issuer \(name) accepts no token type")
    }
}
