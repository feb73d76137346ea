import Foundation
package import KBSBroker
import KBSClaims
package import KBSStore
import PostgresNIO

extension PostgresStore {
    /// Appends one record to the one audit chain every replica shares and returns it with its sequence number and hash.
    ///
    /// Optimistic, in two statements: read the chain's head, then insert the record as `seq + 1` chained to it, unless
    /// that sequence number is taken (`ON CONFLICT (seq) DO NOTHING`). The primary key lets exactly one of several
    /// racing replicas take each number, and a record's hash covers the previous one, so whoever loses reads the new
    /// head and tries again: the chain stays one line without a table lock held across round trips. Each try is won by
    /// someone, so a few appenders settle in as many tries; a record still unwritten after ``auditAttempts`` is refused
    /// (and so, upstream, whatever it was to record).
    /// The record is refused (``StoreErrorCode/invalid``) or written exactly as SQLite would, hashed the same way, so
    /// one ``AuditVerification`` serves both stores.
    @discardableResult
    package func appendAudit(_ entry: AuditEntry) async throws(StoreError) -> AuditRecord {
        let detailsJSON = try AuditChain.admit(entry)
        let at = entry.at ?? PostgresStore.now
        for _ in 0..<PostgresStore.auditAttempts {
            let head = try await rows("SELECT seq, hash FROM audit ORDER BY seq DESC LIMIT 1") { row in
                let (seq, hash) = try row.decode((Int64, Data).self)
                return (seq: seq, hash: Array(hash))
            }.first
            var record = AuditRecord(
                seq: (head?.seq ?? 0) + 1, at: at, kind: entry.kind, actor: entry.actor, action: entry.action, resource: entry.resource,
                outcome: entry.outcome, detailsJSON: detailsJSON, prevHash: head?.hash ?? AuditChain.genesis, hash: [])
            record.hash = AuditChain.hash(record)
            if try await insertUnlessTaken(record) { return record }
            await Task.yield()
        }
        throw StoreError(.database, "the audit log is contended: no append took a place in \(PostgresStore.auditAttempts) tries")
    }

    /// Inserts `record` unless its sequence number is taken; whether it was.
    private func insertUnlessTaken(_ record: AuditRecord) async throws(StoreError) -> Bool {
        let query: PostgresQuery
        do {
            query = try """
            INSERT INTO audit (seq, at, kind, actor, action, resource, outcome, details, prev_hash, hash)
            VALUES (\(record.seq), \(record.at), \(record.kind.rawValue), \(record.actor), \(record.action), \(record.resource),
                \(record.outcome.rawValue), \(record.detailsJSON), \(Data(record.prevHash)), \(Data(record.hash)))
            ON CONFLICT (seq) DO NOTHING RETURNING 1
            """
        } catch {
            throw StoreError(.database, "cannot encode the audit record: \(error)")
        }
        return try await count(query) == 1
    }

    /// How many times an append reads the head and tries to follow it before giving up.
    static let auditAttempts = 200

    /// Records in sequence order from `seq` on, at most `limit` of them.
    package func auditRecords(from seq: Int64 = 1, limit: Int = 1000) async throws(StoreError) -> [AuditRecord] {
        try await rows(
            "SELECT seq, at, kind, actor, action, resource, outcome, details, prev_hash, hash FROM audit WHERE seq >= \(seq) ORDER BY seq LIMIT \(max(0, limit))",
            PostgresStore.auditRecord)
    }

    /// Walks the whole chain in one snapshot (REPEATABLE READ, so appends meanwhile are not half seen) and reports the
    /// first record that does not verify, as ``Store/verifyAudit()`` does for SQLite.
    package func verifyAudit() async throws(StoreError) -> AuditVerification {
        try await transaction { connection in
            try await connection.query("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY", logger: logger)
            var walk = AuditChain.Walk()
            var next: Int64 = .min
            // Pages by seq, so a long chain is never held in memory whole.
            while true {
                let rows = try await connection.query(
                    """
                    SELECT seq, at, kind, actor, action, resource, outcome, details, prev_hash, hash FROM audit
                    WHERE seq >= \(next) ORDER BY seq LIMIT 1000
                    """, logger: logger)
                var read = 0
                for try await row in rows {
                    read += 1
                    let record = try PostgresStore.auditRecord(row)
                    walk.add(record)
                    next = record.seq + 1
                }
                if read < 1000 { break }
            }
            return walk.verification
        }
    }

    private static func auditRecord(_ row: PostgresRow) throws -> AuditRecord {
        let (seq, at, kind, actor, action, resource, outcome, details, prevHash, hash) = try row.decode(
            (Int64, Int64, String, String, String, String, String, String, Data, Data).self)
        return AuditRecord(
            seq: seq, at: at, kind: AuditKind(rawValue: kind), actor: actor, action: action, resource: resource,
            outcome: AuditOutcome(rawValue: outcome), detailsJSON: details, prevHash: Array(prevHash), hash: Array(hash))
    }
}

/// ``AuditTrail`` on the shared `audit` table: the broker's records from every replica in one chain.
struct PostgresAuditTrail: AuditTrail {
    let store: PostgresStore

    func append(_ entry: AuditEntry) async throws {
        let entry = store.redactor?.redacting(entry) ?? entry
        try await store.appendAudit(entry)
    }
}
