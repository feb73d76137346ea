import Foundation
import HTTPTypes
import KBSBroker
import KBSClaims
import KBSIdentity
import KBSKeys
import KBSStore
import KBSStorePostgres
import Logging

/// Where a server keeps its state, opened from the configuration's store: SQLite in the data directory (the default,
/// one server), or PostgreSQL (`KBS_STORE_URL=postgresql://…`), shared by every replica.
///
/// Everything a request reads or writes goes through the ports here, so a replica answers any step of a flow another
/// began. What stays per process: the decision log, the policy bundles, trust anchors and collateral files, and, on
/// SQLite, the data directory's secrets.
struct ServerStorage: Sendable {
    /// The broker's repositories; RCAR sessions are set by ``BrokerSetup`` on SQLite (this process's memory).
    var ports: BrokerPorts
    /// The AWS KMS API's key metadata and aliases.
    var kms: any KMSRepository
    /// The Vault API's tokens, KV entries and Transit keys.
    var vault: any VaultRepository
    /// The key hierarchy's records, for the sweeper.
    var keyRecords: any KeyRecordStore
    /// Opens the key hierarchy, once, when first needed.
    var keys: KeySource
    /// The key API-key hashes are made with, outside the tables that hold the hashes.
    var apiKeyPepper: [UInt8]
    /// Login sessions (`POST /kbs/v1/login/…`, the session cookie).
    var sessions: any SessionStore
    /// The single-use values of identity verification (SIWE nonces, SAML assertion ids, signed-request nonces).
    var replay: any ReplayCache
    /// Entities and roles, the policies' entity store.
    var entities: any EntityRepository
    /// The shared database, when the state lives in PostgreSQL.
    var postgres: PostgresStore?

    /// Opens the store `configuration` names: SQLite in the data directory, or the PostgreSQL database of its store URL
    /// (migrated, with its shared secrets made or opened). `passphrase` is the master key's, for the local provider.
    static func open(configuration: ServerConfiguration, logger: Logger) async throws(ServerError) -> ServerStorage {
        guard let url = configuration.postgresURL else {
            let sqlite: Store
            do throws(StoreError) { sqlite = try Store(directory: configuration.dataDirectory) } catch {
                throw ServerError(.internalServerError, "store", error.message)
            }
            return try sqliteStorage(sqlite, configuration: configuration, logger: logger)
        }
        let store: PostgresStore
        do throws(StoreError) { store = try await PostgresStore(url: url) } catch {
            throw ServerError(.internalServerError, "store", "cannot open the PostgreSQL store: \(error.message)")
        }
        do {
            return try await postgresStorage(store, configuration: configuration, logger: logger)
        } catch {
            await store.close()
            throw error
        }
    }

    /// The data directory's SQLite store, the master key sealed in `DATA_DIR/master.sealed` and opened on first use.
    static func sqliteStorage(_ store: Store, configuration: ServerConfiguration, logger: Logger) throws(ServerError) -> ServerStorage {
        let directory = configuration.dataDirectory
        let secret = try passphrase(configuration, creating: true, logger: logger)
        let environment = configuration.environment
        let keys = KeySource {
            try await BrokerKeys.open(directory: directory, environment: environment, create: true, actor: "kbs-serve", passphrase: { secret })
                .hierarchy
        }
        let pepper = try ServerIdentity.apiKeyPepper(dataDirectory: directory)
        return ServerStorage(
            ports: .sqlite(store), kms: SQLiteKMSRepository(store), vault: SQLiteVaultRepository(store), keyRecords: StoreKeyRecordStore(store),
            keys: keys, apiKeyPepper: pepper, sessions: SQLiteSessionStore(store), replay: SQLiteReplayCache(store),
            entities: SQLiteEntities(store), postgres: nil)
    }

    /// The shared PostgreSQL store: the master key opened now (its sealed copy in the store unless `DATA_DIR/master.sealed`
    /// exists), and the pepper and audit redaction key the replicas share, sealed under it.
    static func postgresStorage(
        _ store: PostgresStore, configuration: ServerConfiguration, logger: Logger
    ) async throws(ServerError) -> ServerStorage {
        let directory = configuration.dataDirectory
        let secrets = PostgresSharedSecrets(store: store)
        let master: any MasterKeyProvider
        let pepper: [UInt8]
        do {
            master = try await MasterKeySelection.provider(environment: configuration.environment, create: true) {
                let secret = try passphrase(configuration, creating: false, logger: logger)
                let file = BrokerKeys.masterPath(directory)
                if FileManager.default.fileExists(atPath: file) { return try LocalMasterKeyProvider.unseal(at: file, passphrase: secret) }
                return try await secrets.masterKey(passphrase: secret)
            }
            pepper = try await secrets.sealedKey("api-key-pepper", master: master)
            store.redactAudit(with: try AuditRedactor(key: try await secrets.sealedKey("audit-redaction-key", master: master)))
        } catch let error as ServerError {
            throw error
        } catch let error as KeyError {
            throw ServerError(.internalServerError, "master_key", error.message)
        } catch let error as StoreError {
            throw ServerError(.internalServerError, "store", error.message)
        } catch {
            throw ServerError(.internalServerError, "master_key", "\(error)")
        }
        let records = PostgresKeyRecordStore(store)
        logger.info("state in PostgreSQL, shared by every replica on it")
        return ServerStorage(
            ports: .postgres(store), kms: PostgresKMSRepository(store), vault: PostgresVaultRepository(store), keyRecords: records,
            keys: KeySource(KeyHierarchy(master: master, store: records)), apiKeyPepper: pepper, sessions: PostgresSessionStore(store),
            replay: PostgresReplayCache(store), entities: PostgresEntities(store), postgres: store)
    }

    /// The master passphrase: configured (`KBS_MASTER_PASSPHRASE`), else `DATA_DIR/master-passphrase`, made there on
    /// first use only when `creating` (one server): replicas must share one, so on PostgreSQL it is never invented.
    static func passphrase(_ configuration: ServerConfiguration, creating: Bool, logger: Logger) throws(ServerError) -> [UInt8] {
        if let given = configuration.masterPassphrase { return Array(given.utf8) }
        let path = configuration.dataDirectory + "/master-passphrase"
        guard creating || FileManager.default.fileExists(atPath: path) else {
            throw ServerError(
                .internalServerError, "master_key",
                "replicas on one PostgreSQL store share the master key: set KBS_MASTER_PASSPHRASE (the same on every replica), "
                    + "or KBS_MASTER_KEY=pkcs11 or infisical")
        }
        let (text, created) = try SecretFile.readOrCreate(path: path, code: "master_key")
        if created {
            logger.warning(
                "generated a master passphrase beside the data; set KBS_MASTER_PASSPHRASE (and remove the file) in production",
                metadata: ["path": "\(path)", "mode": "0600"])
        }
        return Array(text.utf8)
    }

    /// Closes the shared store's connections.
    func close() async {
        await postgres?.close()
    }
}
