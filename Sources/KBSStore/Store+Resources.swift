import Foundation
import GRDB
package import KBSBroker
import KBSClaims

extension Store {
    /// The largest sealed value accepted.
    package static let maximumResourceBytes = 1 << 20

    /// Creates or replaces the resource at `resource.path`; returns whether it existed before.
    @discardableResult
    package func putResource(_ resource: StoredResource) throws(StoreError) -> Bool {
        guard !resource.path.isEmpty, resource.path.utf8.count <= 1024 else { throw StoreError(.invalid, "resource path must be 1…1024 bytes") }
        guard resource.sealed.count <= Self.maximumResourceBytes else {
            throw StoreError(.invalid, "resource \(resource.path) is over \(Self.maximumResourceBytes) bytes sealed")
        }
        let now = Store.now
        return try writeImmediate { db in
            let existed = try Int64.fetchOne(db, sql: "SELECT created_at FROM resource WHERE path = ?", arguments: [resource.path])
            try db.execute(
                sql: """
                    INSERT OR REPLACE INTO resource (path, sealed, required_tier, labels, created_at, updated_at)
                    VALUES (?, ?, ?, ?, ?, ?)
                    """,
                arguments: [resource.path, Data(resource.sealed), resource.requiredTier, resource.labelsJSON, existed ?? now, now])
            return existed != nil
        }
    }

    /// The resource at `path`, or nil.
    package func resource(_ path: String) throws(StoreError) -> StoredResource? {
        try read { db in
            try Row.fetchOne(db, sql: "SELECT * FROM resource WHERE path = ?", arguments: [path]).map(Self.resource)
        }
    }

    /// Every resource's path, tier and labels (sealed values left empty), in path order.
    package func resources() throws(StoreError) -> [StoredResource] {
        try read { db in
            try Row.fetchAll(db, sql: "SELECT path, X'' AS sealed, required_tier, labels, created_at, updated_at FROM resource ORDER BY path")
                .map(Self.resource)
        }
    }

    /// Deletes the resource at `path`; returns whether there was one.
    package func deleteResource(_ path: String) throws(StoreError) -> Bool {
        try write { db in
            try db.execute(sql: "DELETE FROM resource WHERE path = ?", arguments: [path])
            return db.changesCount > 0
        }
    }

    /// Adds `values` to the reference values `kind`.`name` (idempotent); returns how many were new.
    @discardableResult
    package func addReferenceValues(kind: String, name: String, values: [String]) throws(StoreError) -> Int {
        for text in [kind, name] + values where text.isEmpty || text.utf8.count > 1024 {
            throw StoreError(.invalid, "reference value kinds, names and values must be 1…1024 bytes")
        }
        let now = Store.now
        return try writeImmediate { db in
            var added = 0
            for value in values {
                try db.execute(
                    sql: "INSERT OR IGNORE INTO reference_value (kind, name, value, added_at) VALUES (?, ?, ?, ?)",
                    arguments: [kind, name, value, now])
                added += db.changesCount
            }
            return added
        }
    }

    /// Removes `values` from `kind`.`name`; returns how many were there.
    @discardableResult
    package func removeReferenceValues(kind: String, name: String, values: [String]) throws(StoreError) -> Int {
        try write { db in
            var removed = 0
            for value in values {
                try db.execute(sql: "DELETE FROM reference_value WHERE kind = ? AND name = ? AND value = ?", arguments: [kind, name, value])
                removed += db.changesCount
            }
            return removed
        }
    }

    /// The change counters of resources, reference values and key records (see ``ReleaseRevisions``).
    package func releaseRevisions() throws(StoreError) -> ReleaseRevisions {
        try read { db in
            guard let row = try Row.fetchOne(db, sql: "SELECT resources, reference_values, key_records FROM release_revision") else {
                throw StoreError(.database, "the release_revision row is missing")
            }
            return ReleaseRevisions(resources: row["resources"], referenceValues: row["reference_values"], keyRecords: row["key_records"])
        }
    }

    /// Every reference value: kind → name → values, values sorted.
    package func referenceValues() throws(StoreError) -> [String: [String: [String]]] {
        try read { db in
            var result: [String: [String: [String]]] = [:]
            for row in try Row.fetchAll(db, sql: "SELECT kind, name, value FROM reference_value ORDER BY kind, name, value") {
                result[row["kind"], default: [:]][row["name"], default: []].append(row["value"])
            }
            return result
        }
    }

    private static func resource(_ row: Row) -> StoredResource {
        let sealed: Data = row["sealed"] ?? Data()
        return StoredResource(
            path: row["path"], sealed: Array(sealed), requiredTier: row["required_tier"], labelsJSON: row["labels"],
            createdAt: row["created_at"], updatedAt: row["updated_at"])
    }
}
