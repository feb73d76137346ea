public import KBSBroker
import KBSClaims

/// An audit record as stored: the entry's fields, its place in the chain and its hash.
public struct AuditRecord: Sendable, Hashable {
    /// 1 for the first record, then one more for each.
    public var seq: Int64
    /// Milliseconds since 1970.
    public var at: Int64
    /// What the record is about.
    public var kind: AuditKind
    /// Who acted.
    public var actor: String
    /// What was attempted.
    public var action: String
    /// What it was attempted on.
    public var resource: String
    /// How it ended.
    public var outcome: AuditOutcome
    /// The details as canonical JSON (members sorted, no whitespace): exactly the bytes the hash covers.
    public var detailsJSON: String
    /// The previous record's hash, or ``AuditChain/genesis`` for the first record.
    public var prevHash: [UInt8]
    /// SHA-256 over ``AuditChain/encode(_:)`` of this record.
    public var hash: [UInt8]

    /// The hash as lowercase hex.
    public var hashHex: String { Hex.encode(hash) }

    /// Creates a record (the store does; tests and tools may).
    public init(seq: Int64, at: Int64, kind: AuditKind, actor: String, action: String, resource: String, outcome: AuditOutcome,
        detailsJSON: String, prevHash: [UInt8], hash: [UInt8])
    {
        self.seq = seq
        self.at = at
        self.kind = kind
        self.actor = actor
        self.action = action
        self.resource = resource
        self.outcome = outcome
        self.detailsJSON = detailsJSON
        self.prevHash = prevHash
        self.hash = hash
    }
}
