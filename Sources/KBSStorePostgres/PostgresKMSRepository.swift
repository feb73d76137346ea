package import KBSBroker
import KBSClaims
import KBSStore
import PostgresNIO

/// ``KMSRepository`` on the `kms_key` and `kms_alias` tables: the AWS KMS API's keys and aliases, one view for every
/// replica.
package struct PostgresKMSRepository: KMSRepository {
    let store: PostgresStore

    /// Adapts `store`.
    package init(_ store: PostgresStore) { self.store = store }

    package func insert(_ key: KMSKeyEntry) async throws {
        guard !key.id.isEmpty, key.id.utf8.count <= 64, key.creator.utf8.count <= 1024, key.description.utf8.count <= 8192 else {
            throw StoreError(.invalid, "a KMS key's id, creator or description is too long")
        }
        let inserted = try await store.count(
            """
            INSERT INTO kms_key (id, creator, description, key_usage, key_spec, created_at, rotation_period_days,
                rotation_started_at, deletion_window_days)
            VALUES (\(key.id), \(key.creator), \(key.description), \(key.usage.rawValue), \(key.spec.rawValue), \(key.createdAt),
                \(key.rotationPeriodDays), \(key.rotationStartedAt), \(key.deletionWindowDays))
            ON CONFLICT (id) DO NOTHING RETURNING 1
            """)
        guard inserted == 1 else { throw StoreError(.invalid, "a KMS key with id \(key.id) exists already") }
    }

    package func key(_ id: String) async throws -> KMSKeyEntry? {
        try await store.rows("SELECT \(unescaped: Self.keyColumns) FROM kms_key WHERE id = \(id)", Self.key).compactMap { $0 }.first
    }

    package func keys(after marker: String?, limit: Int) async throws -> [KMSKeyEntry] {
        try await store.rows(
            "SELECT \(unescaped: Self.keyColumns) FROM kms_key WHERE id > \(marker ?? "") ORDER BY id LIMIT \(max(0, limit))", Self.key
        ).compactMap { $0 }
    }

    package func update(_ key: KMSKeyEntry) async throws -> Bool {
        try await store.count(
            """
            UPDATE kms_key SET creator = \(key.creator), description = \(key.description), key_usage = \(key.usage.rawValue),
                key_spec = \(key.spec.rawValue), created_at = \(key.createdAt), rotation_period_days = \(key.rotationPeriodDays),
                rotation_started_at = \(key.rotationStartedAt), deletion_window_days = \(key.deletionWindowDays)
            WHERE id = \(key.id) RETURNING 1
            """) == 1
    }

    package func createAlias(_ alias: KMSAlias) async throws -> Bool {
        guard alias.name.utf8.count <= 256, alias.keyID.utf8.count <= 64 else { throw StoreError(.invalid, "an alias name is at most 256 bytes") }
        return try await store.count(
            """
            INSERT INTO kms_alias (name, key_id, created_at, updated_at)
            VALUES (\(alias.name), \(alias.keyID), \(alias.createdAt), \(alias.updatedAt))
            ON CONFLICT (name) DO NOTHING RETURNING 1
            """) == 1
    }

    package func alias(_ name: String) async throws -> KMSAlias? {
        try await store.rows("SELECT name, key_id, created_at, updated_at FROM kms_alias WHERE name = \(name)", Self.alias).first
    }

    package func aliases(after marker: String?, limit: Int, keyID: String?) async throws -> [KMSAlias] {
        if let keyID {
            return try await store.rows(
                """
                SELECT name, key_id, created_at, updated_at FROM kms_alias WHERE key_id = \(keyID) AND name > \(marker ?? "")
                ORDER BY name LIMIT \(max(0, limit))
                """, Self.alias)
        }
        return try await store.rows(
            "SELECT name, key_id, created_at, updated_at FROM kms_alias WHERE name > \(marker ?? "") ORDER BY name LIMIT \(max(0, limit))",
            Self.alias)
    }

    package func updateAlias(_ name: String, keyID: String, at time: Int64) async throws -> Bool {
        try await store.count("UPDATE kms_alias SET key_id = \(keyID), updated_at = \(time) WHERE name = \(name) RETURNING 1") == 1
    }

    package func deleteAlias(_ name: String) async throws -> Bool {
        try await store.count("DELETE FROM kms_alias WHERE name = \(name) RETURNING 1") == 1
    }

    private static let keyColumns =
        "id, creator, description, key_usage, key_spec, created_at, rotation_period_days, rotation_started_at, deletion_window_days"

    /// A row as an entry; nil for a usage or spec this build does not know (a newer server's key), which is then skipped,
    /// as SQLite's store does.
    private static func key(_ row: PostgresRow) throws -> KMSKeyEntry? {
        let (id, creator, description, usage, spec, created, period, started, window) = try row.decode(
            (String, String, String, String, String, Int64, Int?, Int64?, Int?).self)
        guard let usage = KMSKeyUsage(rawValue: usage), let spec = KMSKeySpec(rawValue: spec) else { return nil }
        return KMSKeyEntry(
            id: id, creator: creator, description: description, usage: usage, spec: spec, createdAt: created, rotationPeriodDays: period,
            rotationStartedAt: started, deletionWindowDays: window)
    }

    private static func alias(_ row: PostgresRow) throws -> KMSAlias {
        let (name, keyID, created, updated) = try row.decode((String, String, Int64, Int64).self)
        return KMSAlias(name: name, keyID: keyID, createdAt: created, updatedAt: updated)
    }
}
