import Foundation
package import KBSBroker
import KBSClaims
import KBSStore
import PostgresNIO

/// The ``VaultRepository`` port on PostgreSQL: tokens, Transit keys and KV secrets shared by every replica, each save a
/// compare-and-set decided by one statement.
package struct PostgresVaultRepository: VaultRepository {
    let store: PostgresStore

    /// Adapts `store`.
    package init(_ store: PostgresStore) { self.store = store }

    package func entry(_ kind: VaultEntryKind, _ name: String) async throws -> (document: [UInt8], revision: Int)? {
        let entries = try await store.rows("SELECT document, revision FROM vault_entry WHERE kind = \(kind.rawValue) AND name = \(name)") {
            row -> (document: [UInt8], revision: Int) in
            let (document, revision) = try row.decode((Data, Int).self)
            return (Array(document), revision)
        }
        return entries.first
    }

    package func save(_ kind: VaultEntryKind, _ name: String, _ document: [UInt8], expectedRevision: Int?, expires: Int64?) async throws -> Bool {
        guard document.count <= Self.maximumDocument, name.utf8.count <= 1024 else {
            throw StoreError(.invalid, "a Vault entry is at most \(Self.maximumDocument) bytes, its name 1024")
        }
        if let expectedRevision {
            return try await store.count(
                """
                UPDATE vault_entry SET document = \(Data(document)), revision = revision + 1, expires_at = \(expires)
                WHERE kind = \(kind.rawValue) AND name = \(name) AND revision = \(expectedRevision) RETURNING 1
                """) == 1
        }
        return try await store.count(
            """
            INSERT INTO vault_entry (kind, name, document, revision, expires_at)
            VALUES (\(kind.rawValue), \(name), \(Data(document)), 1, \(expires))
            ON CONFLICT (kind, name) DO NOTHING RETURNING 1
            """) == 1
    }

    package func delete(_ kind: VaultEntryKind, _ name: String) async throws -> Bool {
        try await store.count("DELETE FROM vault_entry WHERE kind = \(kind.rawValue) AND name = \(name) RETURNING 1") == 1
    }

    package func names(_ kind: VaultEntryKind, prefix: String, limit: Int) async throws -> [String] {
        // A range on the primary key and starts_with, not LIKE: `prefix` may hold `%` or `_`.
        try await store.rows(
            """
            SELECT name FROM vault_entry WHERE kind = \(kind.rawValue) AND name >= \(prefix) AND starts_with(name, \(prefix))
            ORDER BY name LIMIT \(max(0, limit))
            """
        ) { row in try row.decode(String.self) }
    }

    package func prune(_ kind: VaultEntryKind, expiredBefore time: Int64) async throws -> Int {
        try await store.count("DELETE FROM vault_entry WHERE kind = \(kind.rawValue) AND expires_at < \(time) RETURNING 1")
    }

    /// The largest document kept, as SQLite's store.
    private static let maximumDocument = 16 * 1024 * 1024
}
