import Synchronization

/// Where the Vault API keeps its state: tokens (by the SHA-256 of the token, never the token), Transit key entries,
/// KV v2 secrets (their versions sealed by the key hierarchy) and the KV engine's configuration.
///
/// Every entry is an opaque JSON document under a kind and a name, with a revision for compare-and-set: the broker
/// owns the shapes, so a second store (PostgreSQL) implements five calls, not a schema per engine.
package protocol VaultRepository: Sendable {
    /// The entry `name` of `kind`, with its revision; nil when there is none.
    func entry(_ kind: VaultEntryKind, _ name: String) async throws -> (document: [UInt8], revision: Int)?
    /// Stores `document` as entry `name`: new when `expectedRevision` is nil (false when it exists), else only over
    /// that revision (false when it changed meanwhile). `expires` (seconds since 1970) lets expired entries be pruned.
    func save(_ kind: VaultEntryKind, _ name: String, _ document: [UInt8], expectedRevision: Int?, expires: Int64?) async throws -> Bool
    /// Removes entry `name`; false when there was none.
    func delete(_ kind: VaultEntryKind, _ name: String) async throws -> Bool
    /// The names of `kind` that start with `prefix`, in order, at most `limit`.
    func names(_ kind: VaultEntryKind, prefix: String, limit: Int) async throws -> [String]
    /// Removes the entries of `kind` that expired before `time` (seconds since 1970); how many.
    func prune(_ kind: VaultEntryKind, expiredBefore time: Int64) async throws -> Int
}

/// The kinds of Vault entries.
package enum VaultEntryKind: String, Sendable, CaseIterable {
    /// A token, named by the hex SHA-256 of the token.
    case token
    /// A Transit key, by name.
    case transitKey = "transit-key"
    /// A KV v2 secret, by path.
    case kvSecret = "kv-secret"
    /// The KV v2 engine's configuration (one entry, `secret/`).
    case kvConfig = "kv-config"
}

/// A ``VaultRepository`` in memory, for tests and for brokers without a store.
package final class InMemoryVaultRepository: VaultRepository {
    private let entries = Mutex<[String: (document: [UInt8], revision: Int, expires: Int64?)]>([:])

    /// An empty repository.
    package init() {}

    private static func key(_ kind: VaultEntryKind, _ name: String) -> String { kind.rawValue + "\u{0}" + name }

    package func entry(_ kind: VaultEntryKind, _ name: String) async throws -> (document: [UInt8], revision: Int)? {
        entries.withLock { $0[Self.key(kind, name)].map { ($0.document, $0.revision) } }
    }

    package func save(_ kind: VaultEntryKind, _ name: String, _ document: [UInt8], expectedRevision: Int?, expires: Int64?) async throws -> Bool {
        entries.withLock { entries in
            let key = Self.key(kind, name)
            let current = entries[key]
            guard current?.revision == expectedRevision else { return false }
            entries[key] = (document, (current?.revision ?? 0) + 1, expires)
            return true
        }
    }

    package func delete(_ kind: VaultEntryKind, _ name: String) async throws -> Bool {
        entries.withLock { $0.removeValue(forKey: Self.key(kind, name)) != nil }
    }

    package func names(_ kind: VaultEntryKind, prefix: String, limit: Int) async throws -> [String] {
        let start = Self.key(kind, prefix)
        let skip = kind.rawValue.utf8.count + 1
        return entries.withLock { $0.keys.filter { $0.hasPrefix(start) }.map { String($0.dropFirst(skip)) }.sorted().prefix(limit).map { $0 } }
    }

    package func prune(_ kind: VaultEntryKind, expiredBefore time: Int64) async throws -> Int {
        entries.withLock { entries in
            let expired = entries.filter { $0.key.hasPrefix(kind.rawValue + "\u{0}") && ($0.value.expires ?? .max) < time }.map(\.key)
            for key in expired { entries.removeValue(forKey: key) }
            return expired.count
        }
    }
}
