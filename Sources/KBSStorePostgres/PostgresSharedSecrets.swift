import Foundation
import KBSClaims
package import KBSKeys
import KBSStore
import PostgresNIO

/// The secrets replicas on one database must share, kept in its `shared_secret` table: the sealed master key (for
/// the passphrase provider) and 32-byte keys sealed under the master key (the API-key pepper, the audit redaction key).
///
/// Each is made by whichever replica needs it first: a row is inserted only when absent and then read back, so two
/// replicas starting together settle on one value. A copy of the database alone opens none of them: the master key
/// needs the passphrase, the others the master key.
package struct PostgresSharedSecrets: Sendable {
    let store: PostgresStore

    /// The secrets of `store`.
    package init(store: PostgresStore) { self.store = store }

    /// The master key sealed under `passphrase`, created (with `scrypt`) when the store holds none yet.
    package func masterKey(passphrase: [UInt8], scrypt: ScryptParameters = .standard) async throws -> LocalMasterKeyProvider {
        let name = "master.sealed"
        if let sealed = try await value(name) {
            return try LocalMasterKeyProvider.unseal(sealed: sealed, named: "the store's master.sealed", passphrase: passphrase)
        }
        let (provider, sealed) = try LocalMasterKeyProvider.seal(passphrase: passphrase, scrypt: scrypt)
        let kept = try await keep(name, sealed)
        // Another replica's key won the race: open that one, since every record is sealed under it.
        if kept == sealed { return provider }
        return try LocalMasterKeyProvider.unseal(sealed: kept, named: "the store's master.sealed", passphrase: passphrase)
    }

    /// The 32-byte key `name`, sealed under `master` (context `kbs-shared-secret:<name>`), made when absent. A master
    /// key that does not open the stored one (another replica's) is refused with `integrity`.
    package func sealedKey(_ name: String, master: any MasterKeyProvider) async throws -> [UInt8] {
        let context = Array("kbs-shared-secret:\(name)".utf8)
        var sealed = try await value(name)
        if sealed == nil {
            let fresh = SecretBytes.random(count: 32)
            sealed = try await keep(name, try await master.wrap(fresh, context: context))
        }
        let key: SecretBytes
        do { key = try await master.unwrap(sealed ?? [], context: context) } catch {
            throw KeyError(
                .integrity,
                "the store's \(name) is sealed under another master key than this replica's: every replica needs the same master key")
        }
        return key.withUnsafeBytes { Array($0) }
    }

    /// The stored value of `name`, or nil.
    private func value(_ name: String) async throws -> [UInt8]? {
        let values = try await store.rows("SELECT value FROM shared_secret WHERE name = \(name)") { row in Array(try row.decode(Data.self)) }
        return values.first
    }

    /// Stores `value` under `name` unless a value is there already; returns the value that is kept.
    private func keep(_ name: String, _ value: [UInt8]) async throws -> [UInt8] {
        try await store.count(
            """
            INSERT INTO shared_secret (name, value, created_at) VALUES (\(name), \(Data(value)), \(PostgresStore.now))
            ON CONFLICT (name) DO NOTHING RETURNING 1
            """)
        guard let kept = try await self.value(name) else { throw StoreError(.database, "the shared secret \(name) vanished") }
        return kept
    }
}
