import KBSClaims

/// The newest record of an audit chain: record it elsewhere (another host, a ticket, a signed log) and compare.
package struct AuditHead: Sendable, Hashable {
    /// The newest record's sequence number.
    package var seq: Int64
    /// The newest record's hash.
    package var hash: [UInt8]

    /// The hash as lowercase hex.
    package var hashHex: String { Hex.encode(hash) }

    /// Creates a head.
    package init(seq: Int64, hash: [UInt8]) {
        self.seq = seq
        self.hash = hash
    }
}

/// Where and why an audit chain stops verifying.
package struct AuditBreak: Sendable, Hashable, CustomStringConvertible {
    /// What was found at the break.
    package enum Reason: String, Sendable {
        /// The record's fields no longer hash to its stored hash: it was changed.
        case hashMismatch = "hash_mismatch"
        /// The record's `prev_hash` is not the previous record's hash: a record before it was removed, replaced
        /// or moved, or this one was.
        case prevHashMismatch = "prev_hash_mismatch"
        /// The sequence number expected here is absent: that record was removed.
        case missing
        /// A stored value has the wrong shape (a hash that is not 32 bytes).
        case malformed
    }

    /// The first sequence number that does not verify.
    package var seq: Int64
    /// What was found there.
    package var reason: Reason
    /// One line for people.
    package var message: String

    /// Creates a break.
    package init(seq: Int64, reason: Reason, message: String) {
        self.seq = seq
        self.reason = reason
        self.message = message
    }

    package var description: String { "record \(seq): \(message)" }
}

/// The outcome of walking the audit chain from the first record to the last.
///
/// A valid chain proves that no record was changed, removed from the middle or reordered. It cannot prove that
/// the newest records were not cut off: a truncated chain is still a valid chain. Compare ``head`` with a head
/// recorded elsewhere to detect that.
package struct AuditVerification: Sendable, Hashable {
    /// How many records were read.
    package var records: Int
    /// The last record read (nil for an empty log).
    package var head: AuditHead?
    /// The first break, or nil when the chain verifies.
    package var firstBreak: AuditBreak?

    /// Whether the chain verifies.
    package var isValid: Bool { firstBreak == nil }

    /// Creates a result.
    package init(records: Int, head: AuditHead?, firstBreak: AuditBreak?) {
        self.records = records
        self.head = head
        self.firstBreak = firstBreak
    }
}
