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
        try await mapped { () async throws -> AuditRecord in
            try await chainAudit(entry) { query in try await self.rows(query) { $0 } }
        }
    }

    /// Appends one record as ``appendAudit(_:)`` does and records the single-use `spend` (milliseconds) in the same
    /// transaction: both commit or neither. False when the value is recorded and unexpired (nothing is written).
    package func appendAudit(_ entry: AuditEntry, spending spend: (value: String, namespace: String, expiry: Int64, now: Int64))
        async throws(StoreError) -> Bool
    {
        _ = try AuditChain.admit(entry)  // refused before the transaction opens
        return try await transaction { connection in
            let run = { (query: PostgresQuery) async throws -> [PostgresRow] in
                var rows: [PostgresRow] = []
                for try await row in try await connection.query(query, logger: self.logger) { rows.append(row) }
                return rows
            }
            let (sweep, record) = PostgresNonceLedger.useOnceQueries(spend.value, namespace: spend.namespace, expiry: spend.expiry, now: spend.now)
            _ = try await run(sweep)
            guard try await run(record).count == 1 else { return false }
            _ = try await self.chainAudit(entry, run: run)
            return true
        }
    }

    /// The optimistic chaining loop above, its queries run by `run` (on the pool, or on one transaction's connection,
    /// where READ COMMITTED lets each try read the head committed since).
    private func chainAudit(_ entry: AuditEntry, run: (PostgresQuery) async throws -> [PostgresRow]) async throws -> AuditRecord {
        let detailsJSON = try AuditChain.admit(entry)
        let at = entry.at ?? PostgresStore.now
        for _ in 0..<PostgresStore.auditAttempts {
            let head = try await run("SELECT seq, hash FROM audit ORDER BY seq DESC LIMIT 1").first.map { row in
                let (seq, hash) = try row.decode((Int64, Data).self)
                return (seq: seq, hash: Array(hash))
            }
            var record = AuditRecord(
                seq: (head?.seq ?? 0) + 1, at: at, kind: entry.kind, actor: entry.actor, action: entry.action, resource: entry.resource,
                outcome: entry.outcome, detailsJSON: detailsJSON, prevHash: head?.hash ?? AuditChain.genesis, hash: [])
            record.hash = AuditChain.hash(record)
            if try await run(try Self.insertUnlessTaken(record)).count == 1 { return record }
            await Task.yield()
        }
        throw StoreError(.database, "the audit log is contended: no append took a place in \(PostgresStore.auditAttempts) tries")
    }

    /// The insert of `record` unless its sequence number is taken: it returns a row when it inserted.
    private static func insertUnlessTaken(_ record: AuditRecord) throws(StoreError) -> PostgresQuery {
        do {
            return try """
            INSERT INTO audit (seq, at, kind, actor, action, resource, outcome, details, prev_hash, hash)
            VALUES (\(record.seq), \(record.at), \(record.kind.rawValue), \(record.actor), \(record.action), \(record.resource),
                \(record.outcome.rawValue), \(record.detailsJSON), \(Data(record.prevHash)), \(Data(record.hash)))
            ON CONFLICT (seq) DO NOTHING RETURNING 1
            """
        } catch {
            throw StoreError(.database, "cannot encode the audit record: \(error)")
        }
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

    func append(_ entry: AuditEntry, spending value: SingleUseSpend) async throws -> Bool {
        let entry = store.redactor?.redacting(entry) ?? entry
        let milliseconds = { (date: Date) in Int64(date.timeIntervalSince1970 * 1000) }
        return try await store.appendAudit(
            entry, spending: (value.value, value.namespace, milliseconds(value.expires), milliseconds(value.now)))
    }
}
