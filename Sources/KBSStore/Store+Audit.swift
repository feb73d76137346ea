import Foundation
import GRDB
package import KBSBroker
import KBSClaims

extension Store {
    /// Largest accepted actor, action or resource, in bytes.
    package static let maximumAuditFieldBytes = 4096
    /// Largest accepted details object, as canonical JSON, in bytes.
    package static let maximumAuditDetailsBytes = 64 * 1024

    /// Appends one record to the audit chain and returns it with its sequence number and hash.
    ///
    /// The last hash is read and the new record inserted in one IMMEDIATE transaction, so appends from any number
    /// of `Store` instances or processes on the same file form one chain. Throws when the record is refused
    /// (``StoreError/Code/invalid``: a bad kind, an oversized field, a details name that suggests a secret) or the
    /// database cannot be written (``StoreError/Code/database``); either way nothing is written. The broker
    /// releases nothing when this throws.
    @discardableResult
    package func appendAudit(_ entry: AuditEntry) throws(StoreError) -> AuditRecord {
        let detailsJSON = try AuditChain.admit(entry)
        let at = entry.at ?? Store.now
        return try writeImmediate { db in
            // Chains onto whatever the last row holds, even a tampered one: verification reports that row.
            let last = try Row.fetchOne(db, sql: "SELECT seq, hash FROM audit ORDER BY seq DESC LIMIT 1")
            var record = AuditRecord(
                seq: (last.flatMap { Int64.fromDatabaseValue($0["seq"]) } ?? 0) + 1, at: at, kind: entry.kind, actor: entry.actor,
                action: entry.action, resource: entry.resource, outcome: entry.outcome, detailsJSON: detailsJSON,
                prevHash: last.map { Store.bytes($0["hash"]) } ?? AuditChain.genesis, hash: [])
            record.hash = AuditChain.hash(record)
            try db.execute(
                sql: """
                    INSERT INTO audit (seq, at, kind, actor, action, resource, outcome, details, prev_hash, hash)
                    VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
                    """,
                arguments: [
                    record.seq, record.at, record.kind.rawValue, record.actor, record.action, record.resource,
                    record.outcome.rawValue, record.detailsJSON, Data(record.prevHash), Data(record.hash),
                ])
            return record
        }
    }

    /// Records in sequence order from `seq` on, at most `limit` of them.
    package func auditRecords(from seq: Int64 = 1, limit: Int = 1000) throws(StoreError) -> [AuditRecord] {
        try read { db in
            guard try db.tableExists("audit") else { return [] }
            return try Row.fetchAll(db, sql: "SELECT * FROM audit WHERE seq >= ? ORDER BY seq LIMIT ?", arguments: [seq, max(0, limit)])
                .map { row in
                    guard let record = Store.auditRecord(from: row) else {
                        throw StoreError(.database, "audit record \(row["seq"] as DatabaseValue) holds a value of the wrong type")
                    }
                    return record
                }
        }
    }

    /// Walks the whole chain in one read snapshot and reports the first record that does not verify.
    ///
    /// A changed record fails its own hash; a removed one leaves a gap in `seq` (or, if the rest were renumbered,
    /// a `prev_hash` that no longer matches); reordered records fail `prev_hash`. Records cut off the end leave a
    /// valid, shorter chain: only comparing ``AuditVerification/head`` with a head kept elsewhere shows that.
    /// A store whose database predates the audit table verifies as an empty log.
    package func verifyAudit() throws(StoreError) -> AuditVerification {
        try read { db in
            guard try db.tableExists("audit") else { return AuditVerification(records: 0, head: nil, firstBreak: nil) }
            var walk = AuditChain.Walk()
            let rows = try Row.fetchCursor(db, sql: "SELECT * FROM audit ORDER BY seq")
            while let row = try rows.next() {
                if let record = Store.auditRecord(from: row) {
                    walk.add(record)
                } else {
                    // A column of the wrong type (seq, an INTEGER PRIMARY KEY, is always an integer).
                    walk.addMalformed(seq: Int64.fromDatabaseValue(row["seq"]), "a column holds a value of the wrong type")
                }
            }
            return walk.verification
        }
    }

    /// A row as a record, or nil when a column holds a type it never should: decoded by hand because GRDB's
    /// typed subscripts trap on a mismatch, and a tampered file must be reported, not crash the reader.
    private static func auditRecord(from row: Row) -> AuditRecord? {
        func text(_ column: String) -> String? {
            let value: DatabaseValue = row[column]
            guard case .string(let text) = value.storage else { return nil }
            return text
        }
        func integer(_ column: String) -> Int64? {
            let value: DatabaseValue = row[column]
            guard case .int64(let number) = value.storage else { return nil }
            return number
        }
        guard let seq = integer("seq"), let at = integer("at"), let kind = text("kind"), let actor = text("actor"),
            let action = text("action"), let resource = text("resource"), let outcome = text("outcome"),
            let details = text("details")
        else { return nil }
        return AuditRecord(
            seq: seq, at: at, kind: AuditKind(rawValue: kind), actor: actor, action: action, resource: resource,
            outcome: AuditOutcome(rawValue: outcome), detailsJSON: details, prevHash: Store.bytes(row["prev_hash"]),
            hash: Store.bytes(row["hash"]))
    }

    /// A BLOB column as bytes; anything else (a tampered TEXT, NULL) as the bytes of its text, so it fails to verify.
    private static func bytes(_ value: DatabaseValue) -> [UInt8] {
        switch value.storage {
        case .blob(let data): [UInt8](data)
        case .string(let text): Array(text.utf8)
        default: []
        }
    }
}
