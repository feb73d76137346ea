import Foundation
import GRDB
import KBSBroker
import KBSIdentity
import KBSKeys
import KBSStore
import Testing

@testable import KBSStorePostgres

/// The databases the store contract runs on: every case runs on each, so the two stores cannot drift apart.
enum StoreBackend: String, CaseIterable, Sendable, CustomTestStringConvertible {
    case sqlite
    case postgres

    var testDescription: String { rawValue }

    /// The backends whose RCAR sessions live in the database, so that every replica sees every session (SQLite's stay
    /// in each process's memory).
    static let sharedSessions: [StoreBackend] = [.postgres]

    /// The PostgreSQL database the cases use (a fresh schema per case), from `KBS_TEST_POSTGRES_URL`: Tools/test sets it
    /// through Tools/with-postgres, which starts a throwaway cluster.
    static var postgresURL: String? { ProcessInfo.processInfo.environment["KBS_TEST_POSTGRES_URL"] }
}

/// One replica's view of the store under test: the ports a broker process opens on it.
struct StoreReplica: Sendable {
    var ports: BrokerPorts
    var kms: any KMSRepository
    var vault: any VaultRepository
    var keyRecords: any KeyRecordStore
    /// Login sessions, as `kbs serve` keeps them.
    var sessions: any SessionStore
    /// The identity verifiers' single-use values (SIWE nonces, SAML assertion ids, RFC 9421 nonces).
    var replay: any ReplayCache
    /// Entities and roles, the policies' entity store.
    var entities: any EntityRepository
    /// The whole audit chain, verified.
    var verifyAudit: @Sendable () async throws -> AuditVerification
    /// Records from `seq` on.
    var auditRecords: @Sendable (_ from: Int64) async throws -> [AuditRecord]
    /// RCAR sessions on this replica with other bounds than the ports' defaults.
    var rcarSessions: @Sendable (_ capacity: Int, _ perClient: Int) -> any RCARSessionStore
}

/// A database opened by two replicas (two connection pools, or two SQLite handles on one file), as several `kbs serve`
/// processes would open it, and a way to change its rows behind their backs.
struct StoreUnderTest: Sendable {
    var replicas: [StoreReplica]
    /// Runs SQL on the database directly, as an attacker with write access to it would.
    var tamper: @Sendable (_ sql: String) async throws -> Void

    var first: StoreReplica { replicas[0] }

    /// The replica that serves request `index`: requests alternate between them.
    func replica(_ index: Int) -> StoreReplica { replicas[index % replicas.count] }

    /// Opens a fresh, empty store on `backend` for `body` and removes it afterwards.
    ///
    /// Without `KBS_TEST_POSTGRES_URL` a PostgreSQL case is cancelled (skipped) with the reason, unless
    /// `KBS_TEST_REQUIRE_POSTGRES` is set, as Tools/test sets it: there a missing database fails the case.
    static func with(_ backend: StoreBackend, _ body: (StoreUnderTest) async throws -> Void) async throws {
        switch backend {
        case .sqlite: try await withSQLite(body)
        case .postgres: try await withPostgres(body)
        }
    }

    private static func withSQLite(_ body: (StoreUnderTest) async throws -> Void) async throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("kbs-contract-\(UUID())").path
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let replicas = try (0..<2).map { _ in
            let store = try Store(directory: directory)
            return StoreReplica(
                ports: .sqlite(store), kms: SQLiteKMSRepository(store), vault: SQLiteVaultRepository(store),
                keyRecords: StoreKeyRecordStore(store), sessions: SQLiteSessionStore(store), replay: SQLiteReplayCache(store),
                entities: SQLiteEntities(store), verifyAudit: { try store.verifyAudit() },
                auditRecords: { from in try store.auditRecords(from: from, limit: 10_000) },
                rcarSessions: { capacity, perClient in InMemoryRCARSessions(capacity: capacity, perClient: perClient) })
        }
        let path = directory + "/kbs.sqlite"
        try await body(
            StoreUnderTest(replicas: replicas) { sql in
                let queue = try DatabaseQueue(path: path)
                try await queue.write { db in try db.execute(sql: sql) }
            })
    }

    private static func withPostgres(_ body: (StoreUnderTest) async throws -> Void) async throws {
        try await withPostgresStores { stores in
            let replicas = stores.map { store in
                StoreReplica(
                    ports: .postgres(store), kms: PostgresKMSRepository(store), vault: PostgresVaultRepository(store),
                    keyRecords: PostgresKeyRecordStore(store), sessions: PostgresSessionStore(store), replay: PostgresReplayCache(store),
                    entities: PostgresEntities(store), verifyAudit: { try await store.verifyAudit() },
                    auditRecords: { from in try await store.auditRecords(from: from, limit: 10_000) },
                    rcarSessions: { capacity, perClient in PostgresRCARSessions(store: store, capacity: capacity, perClient: perClient) })
            }
            let admin = stores[0]
            try await body(StoreUnderTest(replicas: replicas) { sql in try await admin.execute(sql) })
        }
    }

    /// Two pools on one fresh schema of the test database, dropped afterwards; cancelled or failed as ``with(_:_:)``
    /// says when there is no database.
    static func withPostgresStores(_ body: ([PostgresStore]) async throws -> Void) async throws {
        guard let url = StoreBackend.postgresURL else {
            let reason = "KBS_TEST_POSTGRES_URL is not set; Tools/test runs these cases beside a throwaway PostgreSQL (Tools/with-postgres)"
            if ProcessInfo.processInfo.environment["KBS_TEST_REQUIRE_POSTGRES"] != nil {
                Issue.record("\(reason), and KBS_TEST_REQUIRE_POSTGRES says they must run")
                return
            }
            // A warning, so the skip shows in the run's output, then the case is cancelled (skipped), not passed.
            Issue.record(Comment(rawValue: reason), severity: .warning)
            try Test.cancel(Comment(rawValue: reason))
        }
        let schema = "kbs_test_" + UUID().uuidString.lowercased().replacingOccurrences(of: "-", with: "")
        var stores: [PostgresStore] = []
        do {
            for _ in 0..<2 { stores.append(try await PostgresStore(url: url, schema: schema, maximumConnections: 4)) }
        } catch {
            for store in stores { await store.close() }
            throw error
        }
        let result: Result<Void, any Error>
        do {
            try await body(stores)
            result = .success(())
        } catch {
            result = .failure(error)
        }
        try? await stores[0].execute("DROP SCHEMA \(schema) CASCADE")
        for store in stores { await store.close() }
        try result.get()
    }
}
