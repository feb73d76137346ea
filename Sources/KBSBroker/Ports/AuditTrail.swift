package import Foundation

/// The audit log as the broker writes it: append only, each record durable before `append` returns.
///
/// The broker refuses any step whose record cannot be appended (a release, a key change, a token issued), so an
/// implementation throws rather than drop a record.
package protocol AuditTrail: Sendable {
    /// Appends `entry`; the implementation stamps the time when `entry.at` is nil and chains the record.
    func append(_ entry: AuditEntry) async throws

    /// Appends `entry` and spends `value` in the ``NonceLedger``'s table atomically: when this returns true both are
    /// durable; when the value is already spent (and unexpired) it returns false and neither is written; when it throws
    /// neither is. The attestation's nonce is spent this way, with its success record, in one commit.
    func append(_ entry: AuditEntry, spending value: SingleUseSpend) async throws -> Bool
}

/// A single-use value to record until it expires, as ``NonceLedger/useOnce(_:namespace:expires:now:)`` records one.
package struct SingleUseSpend: Sendable, Hashable {
    package var value: String
    package var namespace: String
    package var expires: Date
    /// The time the spend decides on: a row that expired by then no longer counts as spent.
    package var now: Date

    /// Describes a spend.
    package init(_ value: String, namespace: String, expires: Date, now: Date) {
        self.value = value
        self.namespace = namespace
        self.expires = expires
        self.now = now
    }
}
