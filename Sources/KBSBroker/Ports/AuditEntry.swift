import KBSClaims

/// What an audit record is about; an open set of lowercase names, with the broker's own as constants.
public struct AuditKind: RawRepresentable, Hashable, Sendable, ExpressibleByStringLiteral, CustomStringConvertible {
    /// The kind's name, as stored.
    public var rawValue: String

    /// Wraps a kind name; the audit trail refuses one that is not 1 to 64 of `a-z 0-9 _ . -`.
    public init(rawValue: String) { self.rawValue = rawValue }

    /// Wraps a literal kind name.
    public init(stringLiteral value: String) { self.rawValue = value }

    /// A policy decision (permit or deny) on a request.
    public static let decision: AuditKind = "decision"
    /// Something done with a key: release, wrap, unwrap, rotation, creation, deletion.
    public static let keyOperation: AuditKind = "key_operation"
    /// An attestation appraisal.
    public static let attestation: AuditKind = "attestation"
    /// An identity credential checked.
    public static let authentication: AuditKind = "authentication"
    /// A change made through the admin API.
    public static let admin: AuditKind = "admin"

    public var description: String { rawValue }
}

/// How an audited action ended; an open set of lowercase names, with the usual ones as constants.
public struct AuditOutcome: RawRepresentable, Hashable, Sendable, ExpressibleByStringLiteral, CustomStringConvertible {
    /// The outcome's name, as stored.
    public var rawValue: String

    /// Wraps an outcome name; the audit trail refuses one that is not 1 to 64 of `a-z 0-9 _ . -`.
    public init(rawValue: String) { self.rawValue = rawValue }

    /// Wraps a literal outcome name.
    public init(stringLiteral value: String) { self.rawValue = value }

    /// The policy permitted.
    public static let permit: AuditOutcome = "permit"
    /// The policy denied.
    public static let deny: AuditOutcome = "deny"
    /// The operation succeeded.
    public static let success: AuditOutcome = "success"
    /// The operation was refused or failed for a stated reason.
    public static let failure: AuditOutcome = "failure"
    /// The operation failed unexpectedly.
    public static let error: AuditOutcome = "error"

    public var description: String { rawValue }
}

/// A value in an audit record's `details`: JSON without floating point, so its encoding is canonical.
public enum AuditValue: Sendable, Hashable, ExpressibleByStringLiteral, ExpressibleByIntegerLiteral, ExpressibleByBooleanLiteral,
    ExpressibleByArrayLiteral, ExpressibleByDictionaryLiteral
{
    /// A JSON string.
    case string(String)
    /// A JSON number, always an integer.
    case integer(Int64)
    /// `true` or `false`.
    case bool(Bool)
    /// `null`.
    case null
    /// A JSON array.
    case list([AuditValue])
    /// A JSON object.
    case object([String: AuditValue])

    /// A string value.
    public init(stringLiteral value: String) { self = .string(value) }
    /// An integer value.
    public init(integerLiteral value: Int64) { self = .integer(value) }
    /// A boolean value.
    public init(booleanLiteral value: Bool) { self = .bool(value) }
    /// A list value.
    public init(arrayLiteral elements: AuditValue...) { self = .list(elements) }
    /// An object value; a repeated name keeps the last value.
    public init(dictionaryLiteral elements: (String, AuditValue)...) {
        self = .object(Dictionary(elements, uniquingKeysWith: { $1 }))
    }
}

/// One event to audit, before the store gives it a sequence number and a hash.
///
/// There is deliberately no field for key material: secrets are never audited. Identifiers that are themselves
/// sensitive (API key ids, session ids, wallet addresses where policy says so) go through an ``AuditRedactor``
/// first, and ``details`` names that suggest a secret (``AuditEntry/deniedDetailNames``) are refused.
public struct AuditEntry: Sendable, Hashable {
    /// When it happened, in milliseconds since 1970; nil takes the store's clock at append time.
    public var at: Int64?
    /// What the record is about.
    public var kind: AuditKind
    /// Who acted: a principal, a workload, `admin`; already redacted where sensitive.
    public var actor: String
    /// What was attempted: `release`, `rotate`, `evaluate`, an AuthZEN action name.
    public var action: String
    /// What it was attempted on: a key path, an entity, a policy bundle.
    public var resource: String
    /// How it ended.
    public var outcome: AuditOutcome
    /// Anything else worth keeping: rule names, tier, evidence kind, a refusal code.
    public var details: [String: AuditValue]

    /// Names refused anywhere in ``details`` (compared lowercased, with `-` read as `_`), alone or as the last
    /// `_`-separated part of a longer name (`client_secret`, `access_token`); `value` only alone.
    public static let deniedDetailNames: Set<String> = ["value", "secret", "key_material", "plaintext", "password", "token"]

    /// Creates an entry.
    public init(at: Int64? = nil, kind: AuditKind, actor: String, action: String, resource: String, outcome: AuditOutcome,
        details: [String: AuditValue] = [:])
    {
        self.at = at
        self.kind = kind
        self.actor = actor
        self.action = action
        self.resource = resource
        self.outcome = outcome
        self.details = details
    }
}
