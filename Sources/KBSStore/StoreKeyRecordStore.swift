package import Foundation
import GRDB
import KBSClaims
package import KBSKeys
import Synchronization

/// `KBSKeys`' ``KeyRecordStore`` port on SQLite: the key records cross as JSON, so the store's schema knows nothing
/// of the key types.
///
/// Every save is a compare-and-set in one IMMEDIATE transaction and is durable when it returns (SQLite WAL with
/// synchronous commits), so an acknowledged key creation or rotation survives a crash.
package struct StoreKeyRecordStore: KeyRecordStore {
    let store: Store
    /// Where `updated_at` comes from (records carry their own times; this only stamps the row).
    let clock: @Sendable () -> Date
    /// Decoded records by id, reused while the row's bytes are unchanged: every release loads the same two records, and
    /// decoding JSON dominated the release path (the row is still read each time, so another writer is seen at once).
    private let decoded = DecodedRecords()

    /// Adapts `store`.
    package init(_ store: Store, clock: @escaping @Sendable () -> Date = { Date() }) {
        self.store = store
        self.clock = clock
    }

    package func load(_ id: String) async throws -> KeyRecord? {
        guard let stored = try await mapped({ store throws(StoreError) in try store.keyRecord(id) }) else { return nil }
        if let hit = decoded.table.withLock({ $0[id] }), hit.bytes == stored.record { return hit.record }
        let record = try KeyRecordCoding.record(stored)
        decoded.table.withLock { cache in
            if cache.count >= 1024 { cache.removeAll(keepingCapacity: true) }
            cache[id] = (stored.record, record)
        }
        return record
    }

    package func list() async throws -> [KeyRecord] {
        try await mapped { store throws(StoreError) in try store.keyRecords() }.map { stored throws(KeyError) in try KeyRecordCoding.record(stored) }
    }

    package func save(_ record: KeyRecord, expectedRevision: Int?) async throws {
        let stored = try KeyRecordCoding.stored(record)
        let now = clock()
        let outcome = try await mapped { store throws(StoreError) in try store.saveKeyRecord(stored, expectedRevision: expectedRevision, now: now) }
        try KeyRecordCoding.check(outcome, id: record.id)
    }

    private func mapped<T: Sendable>(_ body: @escaping @Sendable (Store) throws(StoreError) -> T) async throws(KeyError) -> T {
        do { return try await store.offPool(body) } catch { throw KeyError(.storage, "store: \(error.message)") }
    }
}

/// The decoded-record cache of a ``StoreKeyRecordStore`` (a class, so the store stays a copyable value).
private final class DecodedRecords: Sendable {
    let table = Mutex<[String: (bytes: [UInt8], record: KeyRecord)]>([:])
}
