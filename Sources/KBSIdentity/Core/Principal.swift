public import Foundation
import KBSClaims

/// A verified attribute of a principal.
public enum AttributeValue: Sendable, Equatable {
    case string(String)
    case int(Int64)
    case bool(Bool)
    case strings([String])
    /// A time, in seconds since the epoch; printed as RFC 3339.
    case time(Int64)
    /// Named lists of strings (SAML attributes, which may repeat).
    case lists([String: [String]])
}

/// Someone a verifier authenticated: only code in `KBSIdentity` can make one, so holding a `Principal` means a
/// credential was checked (trust as a type).
///
/// Roles are not here: the broker joins them from the store by `subject`.
public struct Principal: Sendable, Equatable {
    /// Who: a JWT `sub`, a SAML `NameID`, an EIP-55 address, a DID, an API key id.
    public let subject: String
    /// Who vouches: the token issuer, the IdP entity id, `eip155:<chain>`, the DID method, `hmac`.
    public let issuer: String
    /// The credential kind that proved it.
    public let method: CredentialKind
    /// When the credential was verified.
    public let verifiedAt: Date
    /// Further verified claims, by name (only what the signature covered).
    public let attributes: [String: AttributeValue]

    init(subject: String, issuer: String, method: CredentialKind, verifiedAt: Date, attributes: [String: AttributeValue] = [:]) {
        self.subject = subject
        self.issuer = issuer
        self.method = method
        self.verifiedAt = verifiedAt
        self.attributes = attributes
    }

    /// The principal as one JSON object, in the shape of the `Principal` claim schema (``IdentitySchemas``):
    /// `{"subject", "issuer", "method", "verified_at", "<method>": {attributes}}`.
    public var json: String {
        let attributeText = attributes.keys.sorted().map { name in
            let value: String
            switch attributes[name]! {
            case .string(let text): value = JSONString.quote(text)
            case .int(let number): value = String(number)
            case .bool(let flag): value = flag ? "true" : "false"
            case .strings(let list): value = "[" + list.map(JSONString.quote).joined(separator: ",") + "]"
            case .time(let seconds): value = JSONString.quote(Timestamp.rfc3339(Principal.nanoseconds(clamping: seconds)))
            case .lists(let table):
                value = "{" + table.keys.sorted().map { key in
                    JSONString.quote(key) + ":[" + table[key]!.map(JSONString.quote).joined(separator: ",") + "]"
                }.joined(separator: ",") + "}"
            }
            return JSONString.quote(name) + ":" + value
        }
        let members = [
            "\"subject\":" + JSONString.quote(subject), "\"issuer\":" + JSONString.quote(issuer),
            "\"method\":" + JSONString.quote(method.rawValue),
            "\"verified_at\":"
                + JSONString.quote(Timestamp.rfc3339(Principal.nanoseconds(clamping: Int64(verifiedAt.timeIntervalSince1970.rounded(.down))))),
            JSONString.quote(method.rawValue) + ":{" + attributeText.joined(separator: ",") + "}",
        ]
        return "{" + members.joined(separator: ",") + "}"
    }

    /// Whole seconds as the nanoseconds `Timestamp` formats; times outside what nanoseconds hold are clamped, never
    /// trapped on.
    static func nanoseconds(clamping seconds: Int64) -> Int64 {
        min(max(seconds, 0), 9_000_000_000) * 1_000_000_000
    }
}
