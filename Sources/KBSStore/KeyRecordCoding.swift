import Foundation
import KBSClaims
package import KBSKeys

/// How every store keeps a key record: the hierarchy's own JSON (sorted keys), checked on the way back against the row
/// it came from, so SQLite and PostgreSQL hold the same bytes and refuse the same mismatches.
package enum KeyRecordCoding {
    /// `record` as the stored row.
    package static func stored(_ record: KeyRecord) throws(KeyError) -> StoredKeyRecord {
        let encoded: Data
        do { encoded = try encoder.encode(record) } catch {
            throw KeyError(.storage, "key \(record.id) does not encode: \(error)")
        }
        return StoredKeyRecord(id: record.id, revision: record.revision, record: Array(encoded))
    }

    /// The record a row holds; throws when it does not decode or disagrees with its row (id or revision).
    package static func record(_ stored: StoredKeyRecord) throws(KeyError) -> KeyRecord {
        let record: KeyRecord
        do { record = try JSONDecoder().decode(KeyRecord.self, from: Data(stored.record)) } catch {
            throw KeyError(.storage, "stored key \(stored.id) does not decode: \(error)")
        }
        guard record.id == stored.id, record.revision == stored.revision else {
            throw KeyError(.storage, "stored key \(stored.id) disagrees with its row (id or revision)")
        }
        return record
    }

    /// A compare-and-set save's outcome as the key hierarchy expects it: nothing when saved, else its `KeyError`.
    package static func check(_ outcome: KeyRecordSave, id: String) throws(KeyError) {
        switch outcome {
        case .saved: return
        case .alreadyExists: throw KeyError(.alreadyExists, "key \(id) already exists")
        case .notFound: throw KeyError(.notFound, "no key \(id)")
        case .conflict(let current): throw KeyError(.conflict, "key \(id) changed since it was read (revision \(current))")
        }
    }

    private static let encoder: JSONEncoder = {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        return encoder
    }()
}
