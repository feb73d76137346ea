import Foundation
import KBSBroker
import KBSPolicy
import KBSStore
import Testing

@testable import KBSServer
@testable import KBSStorePostgres

/// Two replicas' in-memory entity views on one database: what one writes, the other serves after one refresh.
struct EntityViewReplicaTests {
    @Test("two views on one PostgreSQL store converge after refreshIfChanged")
    func viewsConvergeOnPostgres() async throws {
        guard let url = try PostgresForTests.url() else { return }
        let schema = "kbs_test_" + UUID().uuidString.lowercased().replacingOccurrences(of: "-", with: "")
        let first = try await PostgresStore(url: url, schema: schema, maximumConnections: 2)
        let second: PostgresStore
        do {
            second = try await PostgresStore(url: url, schema: schema, maximumConnections: 2)
        } catch {
            await first.close()
            throw error
        }
        let result: Result<Void, any Error>
        do {
            try await Self.converge(PostgresEntities(first), PostgresEntities(second))
            result = .success(())
        } catch {
            result = .failure(error)
        }
        try? await first.execute("DROP SCHEMA \(schema) CASCADE")
        await first.close()
        await second.close()
        try result.get()
    }

    @Test("two views on one SQLite file converge after refreshIfChanged")
    func viewsConvergeOnSQLite() async throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("kbs-views-\(UUID())").path
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: directory) }
        try await Self.converge(SQLiteEntities(try Store(directory: directory)), SQLiteEntities(try Store(directory: directory)))
    }

    /// Writes through replica A's repository and view and checks replica B's view: stale until it refreshes, equal
    /// after; and the other way round.
    private static func converge(_ repositoryA: any EntityRepository, _ repositoryB: any EntityRepository) async throws {
        let viewA = try await EntityView(repository: repositoryA)
        let viewB = try await EntityView(repository: repositoryB)
        #expect(try await viewB.refreshIfChanged() == false, "nothing written yet")

        try await repositoryA.putEntity(
            type: "User", id: "alice", attributesJSON: Array(#"{"team":"ops"}"#.utf8), roles: [StoredRole(role: "viewer")])
        try await viewA.refresh(type: "User", id: "alice")
        #expect(viewA.snapshot().attributes(ofType: "User", id: "alice") == Array(#"{"team":"ops"}"#.utf8))
        #expect(viewB.snapshot().attributes(ofType: "User", id: "alice") == nil, "B has not looked yet")
        #expect(try await viewB.refreshIfChanged())
        #expect(viewB.snapshot().attributes(ofType: "User", id: "alice") == Array(#"{"team":"ops"}"#.utf8))
        #expect(viewB.snapshot().roles(ofType: "User", id: "alice") == [RoleBinding(role: "viewer")])
        #expect(try await viewB.refreshIfChanged() == false, "one read, no reload, when nothing moved")

        // A role granted on B reaches A.
        try await repositoryB.addRole(type: "User", id: "alice", StoredRole(role: "key-reader", scope: "prod/**"))
        try await viewB.refresh(type: "User", id: "alice")
        #expect(try await viewA.refreshIfChanged())
        #expect(
            viewA.snapshot().roles(ofType: "User", id: "alice") == [RoleBinding(role: "key-reader", scope: "prod/**"), RoleBinding(role: "viewer")])

        // A bundle import on A, and a deletion on B, reach the other.
        try await viewA.importBundle([StoredEntity(type: "Workload", id: "w1", attributesJSON: Array("{}".utf8), roles: [], source: .bundle)])
        #expect(try await viewB.refreshIfChanged())
        #expect(viewB.snapshot().attributes(ofType: "Workload", id: "w1") == Array("{}".utf8))
        try await repositoryB.deleteEntity(type: "User", id: "alice")
        try await viewB.refresh(type: "User", id: "alice")
        #expect(try await viewA.refreshIfChanged())
        #expect(viewA.snapshot().attributes(ofType: "User", id: "alice") == nil)
        #expect(viewA.snapshot().roles(ofType: "User", id: "alice").isEmpty)

        // Settled: both views hold what the store holds, at its generation.
        _ = try await viewB.refreshIfChanged()
        let generation = try await repositoryA.generation()
        #expect(viewA.loadedGeneration == generation && viewB.loadedGeneration == generation)
        #expect(viewA.snapshot().all.map(\.id).sorted() == ["w1"] && viewB.snapshot().all.map(\.id).sorted() == ["w1"])
    }
}
