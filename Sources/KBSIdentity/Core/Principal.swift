package import Foundation
package import KBSClaims

extension ClaimValue {
    /// A list of strings (a JWT's audiences, a SIWE message's resources).
    static func strings(_ list: [String]) -> ClaimValue { .list(list.map { .string($0) }) }

    /// A time given in whole seconds since the epoch; times outside what nanoseconds hold are clamped, never trapped on.
    static func seconds(_ seconds: Int64) -> ClaimValue {
        .time(Date(timeIntervalSince1970: TimeInterval(Principal.clamped(seconds))))
    }

    /// Named lists of strings (SAML attributes, which may repeat), by name.
    static func lists(_ table: [String: [String]]) -> ClaimValue {
        .record(ClaimRecord(table.sorted { $0.key < $1.key }.map { ($0.key, .strings($0.value)) }))
    }
}

/// Someone a verifier authenticated: only code in `KBSIdentity` can make one, so holding a `Principal` means a
/// credential was checked (trust as a type).
///
/// Roles are not here: the broker joins them from the store by `subject`.
package struct Principal: Sendable, Equatable {
    /// Who: a JWT `sub`, a SAML `NameID`, an EIP-55 address, a DID, an API key id.
    package let subject: String
    /// Who vouches: the token issuer, the IdP entity id, `eip155:<chain>`, the DID method, `hmac`.
    package let issuer: String
    /// The credential kind that proved it.
    package let method: CredentialKind
    /// When the credential was verified.
    package let verifiedAt: Date
    /// Further verified claims, by name (only what the signature covered).
    package let attributes: [String: ClaimValue]

    init(subject: String, issuer: String, method: CredentialKind, verifiedAt: Date, attributes: [String: ClaimValue] = [:]) {
        self.subject = subject
        self.issuer = issuer
        self.method = method
        self.verifiedAt = verifiedAt
        self.attributes = attributes
    }

    /// The one subject id role bindings name (DESIGN, "Subjects"): `oidc:<issuer>#<sub>`, `saml:<IdP>#<NameID>`,
    /// `eth:<EIP-55 address>` (EIP-191, SIWE, EIP-712, did:pkh on an eip155 chain), the DID for other DIDs,
    /// `hmac:<key id>`, and an API key's own subject (`apikey:<key id>` unless it was created for another).
    package var subjectID: String {
        switch method {
        case .jwt: return "oidc:\(issuer)#\(subject)"
        case .saml: return "saml:\(issuer)#\(subject)"
        case .eip191, .eip712, .siwe: return "eth:\(subject)"
        case .did:
            if subject.hasPrefix("did:pkh:eip155:"), let address = subject.split(separator: ":").last { return "eth:\(address)" }
            return subject
        case .hmac: return "hmac:\(subject)"
        case .apiKey: return subject
        }
    }

    /// The principal as claims, in the shape of the `Principal` claim schema (``IdentitySchemas``):
    /// `{id, subject, issuer, method, verified_at, <kind>: {attributes}}`, attributes in name order; `method` is the
    /// name policies and `identity_methods` labels use (``CredentialKind/methodName``). The same claim
    /// values evidence verifiers yield, so the release policy reads an identity as it reads evidence.
    package var claims: ClaimRecord {
        ClaimRecord([
            ("id", .string(subjectID)), ("subject", .string(subject)), ("issuer", .string(issuer)), ("method", .string(method.methodName)),
            ("verified_at", .seconds(Int64(verifiedAt.timeIntervalSince1970.rounded(.down)))),
            (method.rawValue, .record(ClaimRecord(attributes.sorted { $0.key < $1.key }.map { ($0.key, $0.value) }))),
        ])
    }

    /// The principal as one JSON object: ``claims`` written out.
    package var json: String { ClaimValue.record(claims).json }

    /// Whole seconds within what a time claim holds: 1970 to the year 2255.
    static func clamped(_ seconds: Int64) -> Int64 {
        min(max(seconds, 0), 9_000_000_000)
    }
}
