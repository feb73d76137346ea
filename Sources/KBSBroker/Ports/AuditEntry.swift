import KBSClaims

/// A lowercase name in an audit record (its kind, its outcome): an open set, stored as text. The audit trail refuses
/// one that is not 1 to 64 of `a-z 0-9 _ . -`. `Role` only keeps kinds and outcomes apart in the type system.
package struct AuditName<Role>: RawRepresentable, Hashable, Sendable, ExpressibleByStringLiteral, CustomStringConvertible {
    /// The name, as stored.
    package var rawValue: String

    /// Wraps a name.
    package init(rawValue: String) { self.rawValue = rawValue }

    /// Wraps a literal name.
    package init(stringLiteral value: String) { self.rawValue = value }

    package var description: String { rawValue }
}

/// The role of a kind's name.
package enum AuditKindRole {}
/// The role of an outcome's name.
package enum AuditOutcomeRole {}

/// What an audit record is about, with the broker's own kinds as constants.
package typealias AuditKind = AuditName<AuditKindRole>
/// How an audited action ended, with the usual outcomes as constants.
package typealias AuditOutcome = AuditName<AuditOutcomeRole>

extension AuditKind {
    /// A policy decision (permit or deny) on a request.
    package static let decision: AuditKind = "decision"
    /// Something done with a key: release, wrap, unwrap, rotation, creation, deletion.
    package static let keyOperation: AuditKind = "key_operation"
    /// An attestation appraisal.
    package static let attestation: AuditKind = "attestation"
    /// An identity credential checked.
    package static let authentication: AuditKind = "authentication"
    /// A change made through the admin API.
    package static let admin: AuditKind = "admin"
}

extension AuditOutcome {
    /// The policy permitted.
    package static let permit: AuditOutcome = "permit"
    /// The policy denied.
    package static let deny: AuditOutcome = "deny"
    /// The operation succeeded.
    package static let success: AuditOutcome = "success"
    /// The operation was refused or failed for a stated reason.
    package static let failure: AuditOutcome = "failure"
    /// The operation failed unexpectedly.
    package static let error: AuditOutcome = "error"
}

/// A value in an audit record's `details`: JSON without floating point, so its encoding is canonical.
package enum AuditValue: Sendable, Hashable, ExpressibleByStringLiteral, ExpressibleByIntegerLiteral, ExpressibleByBooleanLiteral,
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
    package init(stringLiteral value: String) { self = .string(value) }
    /// An integer value.
    package init(integerLiteral value: Int64) { self = .integer(value) }
    /// A boolean value.
    package init(booleanLiteral value: Bool) { self = .bool(value) }
    /// A list value.
    package init(arrayLiteral elements: AuditValue...) { self = .list(elements) }
    /// An object value; a repeated name keeps the last value.
    package init(dictionaryLiteral elements: (String, AuditValue)...) {
        self = .object(Dictionary(elements, uniquingKeysWith: { $1 }))
    }
}

/// One event to audit, before the store gives it a sequence number and a hash.
///
/// There is deliberately no field for key material: secrets are never audited. Identifiers that are themselves
/// sensitive (API key ids, session ids, wallet addresses where policy says so) go through an ``AuditRedactor``
/// first, and ``details`` names that suggest a secret (``AuditEntry/deniedDetailNames``) are refused.
package struct AuditEntry: Sendable, Hashable {
    /// When it happened, in milliseconds since 1970; nil takes the store's clock at append time.
    package var at: Int64?
    /// What the record is about.
    package var kind: AuditKind
    /// Who acted: a principal, a workload, `admin`; already redacted where sensitive.
    package var actor: String
    /// What was attempted: `release`, `rotate`, `evaluate`, an AuthZEN action name.
    package var action: String
    /// What it was attempted on: a key path, an entity, a policy bundle.
    package var resource: String
    /// How it ended.
    package var outcome: AuditOutcome
    /// Anything else worth keeping: rule names, tier, evidence kind, a refusal code.
    package var details: [String: AuditValue]

    /// Names refused anywhere in ``details`` (compared lowercased, with `-` read as `_`), alone or as the last
    /// `_`-separated part of a longer name (`client_secret`, `access_token`); `value` only alone.
    package static let deniedDetailNames: Set<String> = ["value", "secret", "key_material", "plaintext", "password", "token"]

    /// Creates an entry.
    package init(
        at: Int64? = nil, kind: AuditKind, actor: String, action: String, resource: String, outcome: AuditOutcome,
        details: [String: AuditValue] = [:]
    ) {
        self.at = at
        self.kind = kind
        self.actor = actor
        self.action = action
        self.resource = resource
        self.outcome = outcome
        self.details = details
    }
}
