package import Foundation
package import KBSClaims
package import KBSIdentity

/// Who a request speaks for, as a credential verifier or the capability authority established it: one subject id
/// (DESIGN, "Subjects") and the claims the release policy reads as `identity`.
///
/// Only verified credentials make one (a ``Principal`` or a verified capability token), so holding a
/// `CallerIdentity` means the credential was checked.
package struct CallerIdentity: Sendable {
    /// The subject id role bindings name: `oidc:<issuer>#<sub>`, `eth:<address>`, `agent:<name>`, ….
    package let subject: String
    /// How it was proved: `oidc`, `saml`, `siwe`, `eip712`, `eip191`, `did`, `apikey`, `hmac`, `capability`.
    package let method: String
    /// Who vouches: the token issuer, the IdP, `eip155:<chain>`, `did:<method>`, `kbs-capability`.
    package let issuer: String
    /// The `Principal` record the release policy sees as `identity`.
    package let claims: ClaimRecord
    /// When the credential stops counting, in seconds since 1970 (a token's `exp`, a session's end), when it says.
    package let expires: Int64?
    /// The capability token behind the identity, re-checked at every release.
    package let capability: CapabilityGrant?

    /// A capability token's grant: its id, the token itself while at hand, and what it granted.
    package struct CapabilityGrant: Sendable {
        package var tokenID: String
        /// The token as presented; nil when the identity came back from an attestation token (which holds only the id).
        package var token: String?
        package var capabilities: [String]
    }

    /// The identity a verified principal stands for; `expires` bounds it (a login session's end, a token's `exp`).
    package init(principal: Principal, expires: Int64? = nil) {
        subject = principal.subjectID
        method = principal.method.methodName
        issuer = principal.issuer
        claims = principal.claims
        self.expires = expires
        capability = nil
    }

    /// The identity a login session stands for: the principal as recorded at login, until the session ends.
    package init(session: SessionRecord, claims: ClaimRecord) {
        subject = Self.text(claims["id"]) ?? session.subject
        method = Self.text(claims["method"]) ?? session.method
        issuer = session.issuer
        self.claims = claims
        expires = session.expiresAt
        capability = nil
    }

    /// The identity a verified capability token names: `agent:<name>`.
    package init(agent: String, grant: CapabilityGrant, expires: Int64, verifiedAt: Date) {
        subject = "agent:" + agent
        method = "capability"
        issuer = "kbs-capability"
        claims = ClaimRecord([
            ("id", .string("agent:" + agent)), ("subject", .string(agent)), ("issuer", .string("kbs-capability")),
            ("method", .string("capability")), ("verified_at", .time(Date(timeIntervalSince1970: verifiedAt.timeIntervalSince1970.rounded(.down)))),
        ])
        self.expires = expires
        capability = grant
    }

    static func text(_ value: ClaimValue?) -> String? {
        if case .string(let text)? = value { return text }
        return nil
    }

    /// An identity as an attestation token carried it (its claims were verified when the token was issued).
    init(subject: String, method: String, issuer: String, claims: ClaimRecord, expires: Int64?, capability: CapabilityGrant?) {
        self.subject = subject
        self.method = method
        self.issuer = issuer
        self.claims = claims
        self.expires = expires
        self.capability = capability
    }
}
