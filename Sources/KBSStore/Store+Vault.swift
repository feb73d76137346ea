import Foundation
import GRDB
package import KBSBroker
import KBSClaims

extension Store {
    /// The largest Vault document kept: a KV secret's versions, each at most 512 KiB sealed, stay well inside it.
    static let maximumVaultDocument = 16 * 1024 * 1024

    /// Entry `name` of `kind` and its revision, or nil.
    package func vaultEntry(_ kind: String, _ name: String) throws(StoreError) -> (document: [UInt8], revision: Int)? {
        try read { db in
            try Row.fetchOne(db, sql: "SELECT document, revision FROM vault_entry WHERE kind = ? AND name = ?", arguments: [kind, name]).map {
                (Array(($0["document"] as Data?) ?? Data()), $0["revision"])
            }
        }
    }

    /// Stores a new entry (`expectedRevision` nil) or replaces revision `expectedRevision`; false when the entry
    /// exists, or changed meanwhile.
    package func saveVaultEntry(_ kind: String, _ name: String, _ document: [UInt8], expectedRevision: Int?, expires: Int64?)
        throws(StoreError) -> Bool
    {
        guard document.count <= Self.maximumVaultDocument, name.utf8.count <= 1024 else {
            throw StoreError(.invalid, "a Vault entry is at most \(Self.maximumVaultDocument) bytes, its name 1024")
        }
        return try write { db in
            if let expectedRevision {
                try db.execute(
                    sql: "UPDATE vault_entry SET document = ?, revision = revision + 1, expires_at = ? WHERE kind = ? AND name = ? AND revision = ?",
                    arguments: [Data(document), expires, kind, name, expectedRevision])
            } else {
                try db.execute(
                    sql: "INSERT OR IGNORE INTO vault_entry (kind, name, document, revision, expires_at) VALUES (?, ?, ?, 1, ?)",
                    arguments: [kind, name, Data(document), expires])
            }
            return db.changesCount == 1
        }
    }

    /// Removes an entry; false when there was none.
    package func deleteVaultEntry(_ kind: String, _ name: String) throws(StoreError) -> Bool {
        try write { db in
            try db.execute(sql: "DELETE FROM vault_entry WHERE kind = ? AND name = ?", arguments: [kind, name])
            return db.changesCount == 1
        }
    }

    /// The names of `kind` starting with `prefix`, in byte order, at most `limit`.
    package func vaultNames(_ kind: String, prefix: String, limit: Int) throws(StoreError) -> [String] {
        try read { db in
            // A range on the primary key, not LIKE: `prefix` may hold `%` or `_`.
            try String.fetchAll(
                db, sql: "SELECT name FROM vault_entry WHERE kind = ? AND name >= ? AND substr(name, 1, ?) = ? ORDER BY name LIMIT ?",
                arguments: [kind, prefix, prefix.unicodeScalars.count, prefix, max(0, limit)])
        }
    }

    /// Removes the entries of `kind` that expired before `time`; how many.
    package func pruneVaultEntries(_ kind: String, expiredBefore time: Int64) throws(StoreError) -> Int {
        try write { db in
            try db.execute(sql: "DELETE FROM vault_entry WHERE kind = ? AND expires_at < ?", arguments: [kind, time])
            return db.changesCount
        }
    }
}

/// The ``VaultRepository`` port on SQLite.
package struct SQLiteVaultRepository: VaultRepository {
    let store: Store

    /// Adapts `store`.
    package init(_ store: Store) { self.store = store }

    package func entry(_ kind: VaultEntryKind, _ name: String) async throws -> (document: [UInt8], revision: Int)? {
        try await store.offPool { store throws(StoreError) in try store.vaultEntry(kind.rawValue, name) }
    }

    package func save(_ kind: VaultEntryKind, _ name: String, _ document: [UInt8], expectedRevision: Int?, expires: Int64?) async throws -> Bool {
        try await store.offPool { store throws(StoreError) in
            try store.saveVaultEntry(kind.rawValue, name, document, expectedRevision: expectedRevision, expires: expires)
        }
    }

    package func delete(_ kind: VaultEntryKind, _ name: String) async throws -> Bool {
        try await store.offPool { store throws(StoreError) in try store.deleteVaultEntry(kind.rawValue, name) }
    }

    package func names(_ kind: VaultEntryKind, prefix: String, limit: Int) async throws -> [String] {
        try await store.offPool { store throws(StoreError) in try store.vaultNames(kind.rawValue, prefix: prefix, limit: limit) }
    }

    package func prune(_ kind: VaultEntryKind, expiredBefore time: Int64) async throws -> Int {
        try await store.offPool { store throws(StoreError) in try store.pruneVaultEntries(kind.rawValue, expiredBefore: time) }
    }
}
