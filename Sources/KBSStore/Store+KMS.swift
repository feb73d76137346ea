import GRDB
package import KBSBroker
import KBSClaims

extension Store {
    /// Stores a new KMS key entry; an id already present is refused (ids are random UUIDs, so that means a bug).
    package func insertKMSKey(_ key: KMSKeyEntry) throws(StoreError) {
        guard !key.id.isEmpty, key.id.utf8.count <= 64, key.creator.utf8.count <= 1024, key.description.utf8.count <= 8192 else {
            throw StoreError(.invalid, "a KMS key's id, creator or description is too long")
        }
        try write { db in
            if try Bool.fetchOne(db, sql: "SELECT 1 FROM kms_key WHERE id = ?", arguments: [key.id]) != nil {
                throw StoreError(.invalid, "a KMS key with id \(key.id) exists already")
            }
            try db.execute(
                sql: """
                    INSERT INTO kms_key (id, creator, description, key_usage, key_spec, created_at, rotation_period_days,
                        rotation_started_at, deletion_window_days)
                    VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)
                    """,
                arguments: Self.arguments(key))
        }
    }

    /// The entry of KMS key `id`, or nil.
    package func kmsKey(_ id: String) throws(StoreError) -> KMSKeyEntry? {
        try read { db in try Row.fetchOne(db, sql: "SELECT * FROM kms_key WHERE id = ?", arguments: [id]).flatMap(Self.kmsKey) }
    }

    /// Up to `limit` entries in id order after `marker`.
    package func kmsKeys(after marker: String?, limit: Int) throws(StoreError) -> [KMSKeyEntry] {
        try read { db in
            try Row.fetchAll(
                db, sql: "SELECT * FROM kms_key WHERE id > ? ORDER BY id LIMIT ?", arguments: [marker ?? "", max(0, limit)]
            ).compactMap(Self.kmsKey)
        }
    }

    /// Replaces the entry with `key`'s id; false when there is none.
    package func updateKMSKey(_ key: KMSKeyEntry) throws(StoreError) -> Bool {
        try write { db in
            try db.execute(
                sql: """
                    UPDATE kms_key SET creator = ?2, description = ?3, key_usage = ?4, key_spec = ?5, created_at = ?6,
                        rotation_period_days = ?7, rotation_started_at = ?8, deletion_window_days = ?9
                    WHERE id = ?1
                    """,
                arguments: Self.arguments(key))
            return db.changesCount > 0
        }
    }

    /// Stores a new alias; false when the name is taken.
    package func insertKMSAlias(_ alias: KMSAlias) throws(StoreError) -> Bool {
        guard alias.name.utf8.count <= 256, alias.keyID.utf8.count <= 64 else { throw StoreError(.invalid, "an alias name is at most 256 bytes") }
        return try write { db in
            try db.execute(
                sql: "INSERT OR IGNORE INTO kms_alias (name, key_id, created_at, updated_at) VALUES (?, ?, ?, ?)",
                arguments: [alias.name, alias.keyID, alias.createdAt, alias.updatedAt])
            return db.changesCount > 0
        }
    }

    /// The alias `name`, or nil.
    package func kmsAlias(_ name: String) throws(StoreError) -> KMSAlias? {
        try read { db in try Row.fetchOne(db, sql: "SELECT * FROM kms_alias WHERE name = ?", arguments: [name]).map(Self.kmsAlias) }
    }

    /// Up to `limit` aliases in name order after `marker`, only those naming `keyID` when given.
    package func kmsAliases(after marker: String?, limit: Int, keyID: String?) throws(StoreError) -> [KMSAlias] {
        try read { db in
            if let keyID {
                return try Row.fetchAll(
                    db, sql: "SELECT * FROM kms_alias WHERE key_id = ? AND name > ? ORDER BY name LIMIT ?",
                    arguments: [keyID, marker ?? "", max(0, limit)]
                ).map(Self.kmsAlias)
            }
            return try Row.fetchAll(
                db, sql: "SELECT * FROM kms_alias WHERE name > ? ORDER BY name LIMIT ?", arguments: [marker ?? "", max(0, limit)]
            ).map(Self.kmsAlias)
        }
    }

    /// Points alias `name` at `keyID`; false when there is no such alias.
    package func updateKMSAlias(_ name: String, keyID: String, at time: Int64) throws(StoreError) -> Bool {
        try write { db in
            try db.execute(sql: "UPDATE kms_alias SET key_id = ?, updated_at = ? WHERE name = ?", arguments: [keyID, time, name])
            return db.changesCount > 0
        }
    }

    /// Removes alias `name`; false when there is none.
    package func deleteKMSAlias(_ name: String) throws(StoreError) -> Bool {
        try write { db in
            try db.execute(sql: "DELETE FROM kms_alias WHERE name = ?", arguments: [name])
            return db.changesCount > 0
        }
    }

    private static func arguments(_ key: KMSKeyEntry) -> StatementArguments {
        [
            key.id, key.creator, key.description, key.usage.rawValue, key.spec.rawValue, key.createdAt, key.rotationPeriodDays,
            key.rotationStartedAt, key.deletionWindowDays,
        ]
    }

    /// A row as an entry; nil for a usage or spec this build does not know (a newer server's key), which is then skipped.
    private static func kmsKey(_ row: Row) -> KMSKeyEntry? {
        guard let usage = KMSKeyUsage(rawValue: row["key_usage"]), let spec = KMSKeySpec(rawValue: row["key_spec"]) else { return nil }
        return KMSKeyEntry(
            id: row["id"], creator: row["creator"], description: row["description"], usage: usage, spec: spec, createdAt: row["created_at"],
            rotationPeriodDays: row["rotation_period_days"], rotationStartedAt: row["rotation_started_at"],
            deletionWindowDays: row["deletion_window_days"])
    }

    private static func kmsAlias(_ row: Row) -> KMSAlias {
        KMSAlias(name: row["name"], keyID: row["key_id"], createdAt: row["created_at"], updatedAt: row["updated_at"])
    }
}

/// ``KMSRepository`` on the `kms_key` and `kms_alias` tables.
package struct SQLiteKMSRepository: KMSRepository {
    let store: Store

    /// Adapts `store`.
    package init(_ store: Store) { self.store = store }

    package func insert(_ key: KMSKeyEntry) async throws { try await store.offPool { store throws(StoreError) in try store.insertKMSKey(key) } }

    package func key(_ id: String) async throws -> KMSKeyEntry? {
        try await store.offPool { store throws(StoreError) in try store.kmsKey(id) }
    }

    package func keys(after marker: String?, limit: Int) async throws -> [KMSKeyEntry] {
        try await store.offPool { store throws(StoreError) in try store.kmsKeys(after: marker, limit: limit) }
    }

    package func update(_ key: KMSKeyEntry) async throws -> Bool {
        try await store.offPool { store throws(StoreError) in try store.updateKMSKey(key) }
    }

    package func createAlias(_ alias: KMSAlias) async throws -> Bool {
        try await store.offPool { store throws(StoreError) in try store.insertKMSAlias(alias) }
    }

    package func alias(_ name: String) async throws -> KMSAlias? {
        try await store.offPool { store throws(StoreError) in try store.kmsAlias(name) }
    }

    package func aliases(after marker: String?, limit: Int, keyID: String?) async throws -> [KMSAlias] {
        try await store.offPool { store throws(StoreError) in try store.kmsAliases(after: marker, limit: limit, keyID: keyID) }
    }

    package func updateAlias(_ name: String, keyID: String, at time: Int64) async throws -> Bool {
        try await store.offPool { store throws(StoreError) in try store.updateKMSAlias(name, keyID: keyID, at: time) }
    }

    package func deleteAlias(_ name: String) async throws -> Bool {
        try await store.offPool { store throws(StoreError) in try store.deleteKMSAlias(name) }
    }
}
