package import Foundation
import KBSClaims
package import KBSKeys
import KBSStore
import PostgresNIO

/// `KBSKeys`' ``KeyRecordStore`` port on PostgreSQL: the records cross as the same JSON as on SQLite, and every save is
/// a compare-and-set decided by one statement, so two replicas rotating one key cannot both win.
package struct PostgresKeyRecordStore: KeyRecordStore {
    let store: PostgresStore
    /// Where `updated_at` comes from (records carry their own times; this only stamps the row).
    let clock: @Sendable () -> Date

    /// Adapts `store`.
    package init(_ store: PostgresStore, clock: @escaping @Sendable () -> Date = { Date() }) {
        self.store = store
        self.clock = clock
    }

    package func load(_ id: String) async throws -> KeyRecord? {
        guard
            let stored = try await mapped({ () async throws in
                try await store.rows("SELECT id, revision, record FROM key_record WHERE id = \(id)", Self.stored)
            }).first
        else { return nil }
        return try KeyRecordCoding.record(stored)
    }

    package func list() async throws -> [KeyRecord] {
        try await mapped { () async throws in
            try await store.rows("SELECT id, revision, record FROM key_record ORDER BY id", Self.stored)
        }.map { stored throws(KeyError) in
            try KeyRecordCoding.record(stored)
        }
    }

    package func save(_ record: KeyRecord, expectedRevision: Int?) async throws {
        let stored = try KeyRecordCoding.stored(record)
        guard !stored.id.isEmpty, stored.id.utf8.count <= 256 else { throw KeyError(.storage, "key record id must be 1…256 bytes") }
        guard stored.record.count <= Store.maximumKeyRecordBytes else {
            throw KeyError(.storage, "key record \(stored.id) is over \(Store.maximumKeyRecordBytes) bytes")
        }
        let at = Int64((clock().timeIntervalSince1970 * 1000).rounded())
        let outcome = try await mapped { () async throws -> KeyRecordSave in
            let written: Int
            if let expectedRevision {
                written = try await store.count(
                    """
                    UPDATE key_record SET revision = \(stored.revision), record = \(Data(stored.record)), updated_at = \(at)
                    WHERE id = \(stored.id) AND revision = \(expectedRevision) RETURNING 1
                    """)
            } else {
                written = try await store.count(
                    """
                    INSERT INTO key_record (id, revision, record, updated_at) VALUES (\(stored.id), \(stored.revision),
                        \(Data(stored.record)), \(at))
                    ON CONFLICT (id) DO NOTHING RETURNING 1
                    """)
            }
            if written == 1 { return .saved }
            // Lost: say why, from the row as it stands now.
            let current = try await store.rows("SELECT revision FROM key_record WHERE id = \(stored.id)") { row in try row.decode(Int.self) }
            switch (current.first, expectedRevision) {
            case (.some, nil): return .alreadyExists
            case (nil, _): return .notFound
            case (.some(let revision), .some): return .conflict(current: revision)
            }
        }
        try KeyRecordCoding.check(outcome, id: record.id)
    }

    private static func stored(_ row: PostgresRow) throws -> StoredKeyRecord {
        let (id, revision, record) = try row.decode((String, Int, Data).self)
        return StoredKeyRecord(id: id, revision: revision, record: Array(record))
    }

    /// A store failure as the key hierarchy reports one.
    private func mapped<T>(_ body: () async throws -> T) async throws(KeyError) -> T {
        do { return try await body() } catch let error as StoreError { throw KeyError(.storage, "store: \(error.message)") } catch {
            throw KeyError(.storage, "store: \(PostgresStore.describe(error))")
        }
    }
}
