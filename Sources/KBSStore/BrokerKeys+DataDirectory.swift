import Foundation
package import KBSBroker
package import KBSKeys

extension BrokerKeys {
    /// Opens `directory`'s hierarchy, unsealing the master key with `passphrase`; creates the sealed file when
    /// `create` and none exists yet. `actor` names who acts, in the audit log.
    package static func open(
        directory: String, passphrase: [UInt8], create: Bool, actor: String, scrypt: ScryptParameters = .standard
    ) throws -> BrokerKeys {
        try open(
            directory: directory, master: try localProvider(directory: directory, passphrase: passphrase, create: create, scrypt: scrypt),
            actor: actor)
    }

    /// Opens `directory`'s hierarchy under the master-key provider the environment selects (``MasterKeySelection``).
    package static func open(
        directory: String, environment: [String: String], create: Bool, actor: String, passphrase: () throws -> [UInt8]
    ) async throws -> BrokerKeys {
        let master = try await MasterKeySelection.provider(directory: directory, environment: environment, create: create, passphrase: passphrase)
        return try open(directory: directory, master: master, actor: actor)
    }

    /// Opens `directory`'s hierarchy under `master`: key records and audit log in the directory's SQLite store.
    package static func open(directory: String, master: any MasterKeyProvider, actor: String) throws -> BrokerKeys {
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o700])
        let store = try Store(directory: directory)
        return BrokerKeys(
            hierarchy: KeyHierarchy(master: master, store: StoreKeyRecordStore(store)), audit: SQLiteAuditTrail(store: store),
            actor: actor)
    }
}
