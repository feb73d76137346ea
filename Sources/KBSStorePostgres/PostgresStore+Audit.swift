import Foundation
package import KBSBroker
import KBSClaims
package import KBSStore
import PostgresNIO

extension PostgresStore {
    /// Appends one record to the one audit chain every replica shares and returns it with its sequence number and hash.
    ///
    /// The table is locked (EXCLUSIVE: plain reads go on, other appends wait) before the last hash is read, and the new
    /// record is inserted in the same transaction, so concurrent appends from any replica chain one after another.
    /// The record is refused (``StoreErrorCode/invalid``) or written exactly as SQLite would, hashed the same way, so
    /// one ``AuditVerification`` serves both stores.
    @discardableResult
    package func appendAudit(_ entry: AuditEntry) async throws(StoreError) -> AuditRecord {
        let detailsJSON = try AuditChain.admit(entry)
        let at = entry.at ?? PostgresStore.now
        return try await transaction { connection in
            try await connection.query("LOCK TABLE audit IN EXCLUSIVE MODE", logger: logger)
            var last: (seq: Int64, hash: [UInt8])?
            let rows = try await connection.query("SELECT seq, hash FROM audit ORDER BY seq DESC LIMIT 1", logger: logger)
            for try await (seq, hash) in rows.decode((Int64, Data).self) { last = (seq, Array(hash)) }
            var record = AuditRecord(
                seq: (last?.seq ?? 0) + 1, at: at, kind: entry.kind, actor: entry.actor, action: entry.action, resource: entry.resource,
                outcome: entry.outcome, detailsJSON: detailsJSON, prevHash: last?.hash ?? AuditChain.genesis, hash: [])
            record.hash = AuditChain.hash(record)
            try await connection.query(
                """
                INSERT INTO audit (seq, at, kind, actor, action, resource, outcome, details, prev_hash, hash)
                VALUES (\(record.seq), \(record.at), \(record.kind.rawValue), \(record.actor), \(record.action), \(record.resource),
                    \(record.outcome.rawValue), \(record.detailsJSON), \(Data(record.prevHash)), \(Data(record.hash)))
                """, logger: logger)
            return record
        }
    }

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
