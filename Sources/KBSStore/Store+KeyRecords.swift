package import Foundation
import GRDB
import KBSClaims

/// A key record as stored: the hierarchy's own encoding (JSON of wrapped material and metadata) and its revision.
package struct StoredKeyRecord: Sendable, Equatable {
    package var id: String
    package var revision: Int
    /// The record's encoding, opaque to the store.
    package var record: [UInt8]

    /// Creates a stored record.
    package init(id: String, revision: Int, record: [UInt8]) {
        self.id = id
        self.revision = revision
        self.record = record
    }
}

/// What a compare-and-set save of a key record found.
package enum KeyRecordSave: Sendable, Equatable {
    case saved
    /// A create found a record with that id already.
    case alreadyExists
    /// An update found no record with that id.
    case notFound
    /// An update found another revision: someone else saved first.
    case conflict(current: Int)
}

extension Store {
    /// The largest record accepted: key records hold a few wrapped versions, never megabytes.
    package static let maximumKeyRecordBytes = 1 << 20

    /// The key record with `id`, or nil.
    package func keyRecord(_ id: String) throws(StoreError) -> StoredKeyRecord? {
        try read { db in
            try Row.fetchOne(db, sql: "SELECT id, revision, record FROM key_record WHERE id = ?", arguments: [id]).map(Self.keyRecord)
        }
    }

    /// Every key record, in id order.
    package func keyRecords() throws(StoreError) -> [StoredKeyRecord] {
        try read { db in try Row.fetchAll(db, sql: "SELECT id, revision, record FROM key_record ORDER BY id").map(Self.keyRecord) }
    }

    /// Saves `record` if the stored revision is `expectedRevision` (nil: only if no record has its id), in one
    /// IMMEDIATE transaction, so the check and the write cannot interleave with another writer's. Returns what it
    /// found; the record is durable when this returns `.saved`.
    package func saveKeyRecord(_ record: StoredKeyRecord, expectedRevision: Int?, now: Date) throws(StoreError) -> KeyRecordSave {
        guard !record.id.isEmpty, record.id.utf8.count <= 256 else { throw StoreError(.invalid, "key record id must be 1…256 bytes") }
        guard record.record.count <= Self.maximumKeyRecordBytes else {
            throw StoreError(.invalid, "key record \(record.id) is over \(Self.maximumKeyRecordBytes) bytes")
        }
        return try writeImmediate { db in
            let stored = try Int.fetchOne(db, sql: "SELECT revision FROM key_record WHERE id = ?", arguments: [record.id])
            let at = Int64((now.timeIntervalSince1970 * 1000).rounded())
            switch (stored, expectedRevision) {
            case (.some, nil): return .alreadyExists
            case (nil, .some): return .notFound
            case (.some(let current), .some(let expected)) where current != expected: return .conflict(current: current)
            case (nil, nil):
                try db.execute(
                    sql: "INSERT INTO key_record (id, revision, record, updated_at) VALUES (?, ?, ?, ?)",
                    arguments: [record.id, record.revision, Data(record.record), at])
            case (.some, .some):
                try db.execute(
                    sql: "UPDATE key_record SET revision = ?, record = ?, updated_at = ? WHERE id = ?",
                    arguments: [record.revision, Data(record.record), at, record.id])
            }
            return .saved
        }
    }

    private static func keyRecord(_ row: Row) -> StoredKeyRecord {
        let data: Data = row["record"] ?? Data()
        return StoredKeyRecord(id: row["id"], revision: row["revision"], record: Array(data))
    }
}
