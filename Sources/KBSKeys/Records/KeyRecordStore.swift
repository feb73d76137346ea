import KBSClaims

/// Where key records live: in memory for tests and embedding, SQLite in the broker.
///
/// Saves are compare-and-set on `KeyRecord.revision`, so two concurrent rotations or state changes of one key cannot
/// silently overwrite each other: the loser gets `KeyErrorReason.conflict` and retries from a fresh load.
package protocol KeyRecordStore: Sendable {
    /// The record with `id`, or nil.
    func load(_ id: String) async throws -> KeyRecord?
    /// Every record, in id order.
    func list() async throws -> [KeyRecord]
    /// Stores `record` if the stored record's revision is `expectedRevision`, or, when that is nil, if no record with
    /// its id exists yet; throws `KeyError` with reason `conflict` (or `alreadyExists`) otherwise.
    func save(_ record: KeyRecord, expectedRevision: Int?) async throws
}

/// A `KeyRecordStore` in memory: for tests, and a reference for persistent stores.
package actor InMemoryKeyRecordStore: KeyRecordStore {
    private var records: [String: KeyRecord] = [:]

    /// Creates an empty store.
    package init() {}

    package func load(_ id: String) -> KeyRecord? { records[id] }

    package func list() -> [KeyRecord] { records.values.sorted { $0.id < $1.id } }

    package func save(_ record: KeyRecord, expectedRevision: Int?) throws(KeyError) {
        let stored = records[record.id]
        switch (stored, expectedRevision) {
        case (nil, nil): break
        case (.some, nil): throw KeyError(.alreadyExists, "key \(record.id) already exists")
        case (nil, .some): throw KeyError(.notFound, "no key \(record.id)")
        case (.some(let stored), .some(let expected)):
            guard stored.revision == expected else {
                throw KeyError(.conflict, "key \(record.id) changed since it was read (revision \(stored.revision))")
            }
        }
        records[record.id] = record
    }
}
