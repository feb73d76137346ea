package import KBSBroker
import KBSClaims

/// An audit record as stored: the entry's fields, its place in the chain and its hash.
package struct AuditRecord: Sendable, Hashable {
    /// 1 for the first record, then one more for each.
    package var seq: Int64
    /// Milliseconds since 1970.
    package var at: Int64
    /// What the record is about.
    package var kind: AuditKind
    /// Who acted.
    package var actor: String
    /// What was attempted.
    package var action: String
    /// What it was attempted on.
    package var resource: String
    /// How it ended.
    package var outcome: AuditOutcome
    /// The details as canonical JSON (members sorted, no whitespace): exactly the bytes the hash covers.
    package var detailsJSON: String
    /// The previous record's hash, or ``AuditChain/genesis`` for the first record.
    package var prevHash: [UInt8]
    /// SHA-256 over ``AuditChain/encode(_:)`` of this record.
    package var hash: [UInt8]

    /// The hash as lowercase hex.
    package var hashHex: String { Hex.encode(hash) }

    /// Creates a record (the store does; tests and tools may).
    package init(
        seq: Int64, at: Int64, kind: AuditKind, actor: String, action: String, resource: String, outcome: AuditOutcome,
        detailsJSON: String, prevHash: [UInt8], hash: [UInt8]
    ) {
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
