import Dispatch
import Foundation
import GRDB
package import KBSBroker
import KBSClaims
import Synchronization

extension Store {
    /// Largest accepted actor, action or resource, in bytes.
    package static let maximumAuditFieldBytes = 4096
    /// Largest accepted details object, as canonical JSON, in bytes.
    package static let maximumAuditDetailsBytes = 64 * 1024

    /// Appends one record to the audit chain and returns it, durable, with its sequence number and hash.
    ///
    /// The record joins the store's group commit (``AuditGroupCommit``): the last hash is read and the records queued
    /// meanwhile inserted in one IMMEDIATE transaction, so appends from any number of threads, `Store` instances or
    /// processes on the same file form one chain, and this returns only once that transaction committed. Throws when
    /// the record is refused (``StoreError/Code/invalid``: a bad kind, an oversized field, a details name that suggests
    /// a secret) or the database cannot be written (``StoreError/Code/database``); either way nothing of it is written.
    /// The broker releases nothing when this throws. Blocks the calling thread; async callers use
    /// ``appendAudit(_:spending:)``.
    @discardableResult
    package func appendAudit(_ entry: AuditEntry) throws(StoreError) -> AuditRecord {
        let outcome = Mutex<Result<AuditAppend, StoreError>?>(nil)
        let committed = DispatchSemaphore(value: 0)
        let pending = try Self.pending(entry, spending: nil) { result in
            outcome.withLock { $0 = result }
            committed.signal()
        }
        auditWriter.submit(pending, to: self)
        committed.wait()
        guard case .appended(let record) = try outcome.withLock({ $0 })?.get() else {
            throw StoreError(.database, "the audit append produced no record")
        }
        return record
    }

    /// Appends one record as ``appendAudit(_:)`` does, without blocking a thread, and with `spend` (a single-use
    /// value in the `single_use` table, milliseconds) recorded in the same savepoint of the same commit: both are
    /// written or neither. ``AuditAppend/spent`` when the value is recorded and unexpired (nothing is written).
    package func appendAudit(_ entry: AuditEntry, spending spend: (value: String, namespace: String, expiry: Int64, now: Int64)?)
        async throws(StoreError) -> AuditAppend
    {
        let spend = spend.map { AuditGroupCommit.Spend(namespace: $0.namespace, value: $0.value, expiry: $0.expiry, now: $0.now) }
        let admitted = try Self.pending(entry, spending: spend) { _ in }
        let result = await withCheckedContinuation { continuation in
            var pending = admitted
            pending.done = { continuation.resume(returning: $0) }
            auditWriter.submit(pending, to: self)
        }
        return try result.get()
    }

    /// `entry` admitted (refused here, before it queues, when no store would accept it) and stamped.
    private static func pending(
        _ entry: AuditEntry, spending spend: AuditGroupCommit.Spend?,
        done: @escaping @Sendable (Result<AuditAppend, StoreError>) -> Void
    ) throws(StoreError) -> AuditGroupCommit.Pending {
        let detailsJSON = try AuditChain.admit(entry)
        return AuditGroupCommit.Pending(entry: entry, detailsJSON: detailsJSON, at: entry.at ?? Store.now, spend: spend, done: done)
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
    static func bytes(_ value: DatabaseValue) -> [UInt8] {
        switch value.storage {
        case .blob(let data): [UInt8](data)
        case .string(let text): Array(text.utf8)
        default: []
        }
    }
}
