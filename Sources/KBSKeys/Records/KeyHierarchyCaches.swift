import Synchronization

/// What a ``KeyHierarchy`` keeps between calls: records by the store's key-record change counter, and unwrapped data
/// keys in ``LockedKeyCache``. A class, so copies of the hierarchy share them.
final class KeyHierarchyCaches: Sendable {
    /// Records remembered at most; past that the table starts over.
    static let maximumRecords = 1024
    private let records = Mutex<[String: (stamp: Int64, record: KeyRecord)]>([:])
    let dataKeys = LockedKeyCache()

    /// The record of `id` read under counter `stamp`, if remembered.
    func record(_ id: String, at stamp: Int64) -> KeyRecord? {
        records.withLock { table in
            guard let entry = table[id], entry.stamp == stamp else { return nil }
            return entry.record
        }
    }

    /// Remembers `record`, read after the counter `stamp` was.
    func remember(_ record: KeyRecord, at stamp: Int64) {
        records.withLock { table in
            if table.count >= Self.maximumRecords && table[record.id] == nil { table.removeAll() }
            table[record.id] = (stamp, record)
        }
    }

    /// Forgets key `id` after this process changed it, wiping its unwrapped material and its data keys'.
    func forget(_ id: String) {
        _ = records.withLock { $0.removeValue(forKey: id) }
        dataKeys.drop(id)
    }
}
