import Dispatch
import Foundation
import GRDB
import KBSBroker
import KBSClaims
import Synchronization

/// Group commit for the audit chain: appends that arrive together share one IMMEDIATE transaction, so one fsync
/// makes many records durable.
///
/// Appends queue here. One writer at a time takes everything queued, writes it in one transaction (the chain in queue
/// order, each entry in its own savepoint so that one refused entry fails alone), commits with `synchronous = FULL`,
/// and only then answers each waiter: an append still returns only once its own record is durable, and a failed
/// commit fails every entry of the batch. Nothing waits on a timer: a lone append is written at once, and whatever
/// queues while a commit runs goes into the next, so batches grow with the load and the disk's fsync time.
/// The head is read inside each transaction, so other `Store`s and processes on the file still extend one chain.
final class AuditGroupCommit: Sendable {
    /// One append waiting for its commit: an admitted entry, and the single-use value to spend with it, if any.
    struct Pending: Sendable {
        var entry: AuditEntry
        var detailsJSON: String
        var at: Int64
        var spend: Spend?
        var done: @Sendable (Result<AuditAppend, StoreError>) -> Void
    }

    /// A single-use value, times in milliseconds as the `single_use` table keeps them.
    struct Spend: Sendable {
        var namespace: String
        var value: String
        var expiry: Int64
        var now: Int64
    }

    private struct State {
        var queue: [Pending] = []
        var writing = false
    }

    private let state = Mutex(State())
    /// The most entries one transaction takes, so that one commit's work (and its waiters' latency) stays bounded.
    static let maximumBatch = 256

    /// Queues `pending`; its `done` runs once its record is committed or refused. Starts the writer when idle.
    func submit(_ pending: Pending, to store: Store) {
        let start = state.withLock { state in
            state.queue.append(pending)
            if state.writing { return false }
            state.writing = true
            return true
        }
        // The `writing` flag keeps one writer at a time, so no serial queue is needed; a worker of the root queue
        // the store's reads run on (not a queue's own thread, woken for each batch) blocks on the disk, never the
        // cooperative pool.
        if start { DispatchQueue.global(qos: .userInitiated).async { self.drain(store) } }
    }

    /// Commits batches until the queue is empty.
    private func drain(_ store: Store) {
        while true {
            let batch: [Pending] = state.withLock { state in
                guard !state.queue.isEmpty else {
                    state.writing = false
                    return []
                }
                let count = min(state.queue.count, Self.maximumBatch)
                defer { state.queue.removeFirst(count) }
                return Array(state.queue.prefix(count))
            }
            if batch.isEmpty { return }
            let outcomes = Self.commit(batch, in: store)
            for (pending, outcome) in zip(batch, outcomes) { pending.done(outcome) }
        }
    }

    /// Writes `batch` in one IMMEDIATE transaction and commits it; each entry's outcome, in order.
    private static func commit(_ batch: [Pending], in store: Store) -> [Result<AuditAppend, StoreError>] {
        var outcomes = [Result<AuditAppend, StoreError>](repeating: .failure(StoreError(.database, "not written")), count: batch.count)
        do {
            try store.writeImmediate { db in
                // Chains onto whatever the last row holds, even a tampered one: verification reports that row.
                let last = try Row.fetchOne(db.cachedStatement(sql: "SELECT seq, hash FROM audit ORDER BY seq DESC LIMIT 1"))
                var head = AuditHead(
                    seq: last.flatMap { Int64.fromDatabaseValue($0["seq"]) } ?? 0,
                    hash: last.map { Store.bytes($0["hash"]) } ?? AuditChain.genesis)
                if let now = batch.compactMap(\.spend?.now).min() {
                    try db.cachedStatement(sql: "DELETE FROM single_use WHERE expires_at <= ?").execute(arguments: [now])
                }
                // A lone entry needs no savepoint: its failure is the transaction's, and fails only it.
                if batch.count == 1 {
                    outcomes[0] = .success(try Self.write(batch[0], after: head, in: db))
                    return
                }
                for (index, pending) in batch.enumerated() {
                    var outcome = AuditAppend.spent
                    do {
                        try db.inSavepoint {
                            outcome = try Self.write(pending, after: head, in: db)
                            return outcome == .spent ? .rollback : .commit
                        }
                    } catch {
                        // SQLite rolls the whole transaction back on some errors (a full disk, an I/O error): then
                        // nothing of the batch stands, and the transaction's failure fails every entry.
                        guard db.isInsideTransaction else { throw error }
                        outcomes[index] = .failure(StoreError(.database, Store.describe(error)))
                        continue
                    }
                    if case .appended(let record) = outcome { head = AuditHead(seq: record.seq, hash: record.hash) }
                    outcomes[index] = .success(outcome)
                }
            }
        } catch {
            return batch.map { _ in .failure(error) }
        }
        return outcomes
    }

    /// Spends `pending`'s value, if it has one, and unless it was spent inserts its record after `head`.
    private static func write(_ pending: Pending, after head: AuditHead, in db: Database) throws -> AuditAppend {
        if let spend = pending.spend, try !Self.record(spend, in: db) { return .spent }
        return .appended(try Self.insert(pending, after: head, in: db))
    }

    /// Inserts `pending` as the record after `head`.
    private static func insert(_ pending: Pending, after head: AuditHead, in db: Database) throws -> AuditRecord {
        let entry = pending.entry
        var record = AuditRecord(
            seq: head.seq + 1, at: pending.at, kind: entry.kind, actor: entry.actor, action: entry.action, resource: entry.resource,
            outcome: entry.outcome, detailsJSON: pending.detailsJSON, prevHash: head.hash, hash: [])
        record.hash = AuditChain.hash(record)
        try db.cachedStatement(
            sql: """
                INSERT INTO audit (seq, at, kind, actor, action, resource, outcome, details, prev_hash, hash)
                VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
                """
        ).execute(
            arguments: [
                record.seq, record.at, record.kind.rawValue, record.actor, record.action, record.resource, record.outcome.rawValue,
                record.detailsJSON, Data(record.prevHash), Data(record.hash),
            ])
        return record
    }

    /// Records `spend` unless it is recorded and unexpired (an expired row is taken over); whether it was recorded.
    private static func record(_ spend: Spend, in db: Database) throws -> Bool {
        try db.cachedStatement(
            sql: """
                INSERT INTO single_use (namespace, value, expires_at) VALUES (?, ?, ?)
                ON CONFLICT (namespace, value) DO UPDATE SET expires_at = excluded.expires_at WHERE single_use.expires_at <= ?
                """
        ).execute(arguments: [spend.namespace, spend.value, spend.expiry, spend.now])
        return db.changesCount > 0
    }
}

/// What an append did: its record, or nothing because the value it was to spend was already spent.
package enum AuditAppend: Sendable, Hashable {
    /// The record, durable.
    case appended(AuditRecord)
    /// The single-use value was spent and unexpired, so nothing was written.
    case spent
}
