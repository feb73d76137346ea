/// The audit log as the broker writes it: append only, each record durable before `append` returns.
///
/// The broker refuses any step whose record cannot be appended (a release, a key change, a token issued), so an
/// implementation throws rather than drop a record.
package protocol AuditTrail: Sendable {
    /// Appends `entry`; the implementation stamps the time when `entry.at` is nil and chains the record.
    func append(_ entry: AuditEntry) async throws
}
