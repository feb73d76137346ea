import Foundation
import KBSBroker
import KBSStore
import Testing

/// The Vault API's port on SQLite and in memory: the same behaviour, checked by the same cases.
struct VaultRepositoryTests {
    /// Runs `body` against each implementation.
    static func each(_ body: (any VaultRepository) async throws -> Void) async throws {
        let (store, directory) = try temporaryStore()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        try await body(SQLiteVaultRepository(store))
        try await body(InMemoryVaultRepository())
    }

    @Test("entries are created once and replaced only over the revision read (compare-and-set)")
    func compareAndSet() async throws {
        try await Self.each { repository in
            #expect(try await repository.save(.kvSecret, "app/db", Array("one".utf8), expectedRevision: nil, expires: nil))
            #expect(try await repository.save(.kvSecret, "app/db", Array("again".utf8), expectedRevision: nil, expires: nil) == false)
            let first = try #require(try await repository.entry(.kvSecret, "app/db"))
            #expect(first.document == Array("one".utf8) && first.revision == 1)
            #expect(try await repository.save(.kvSecret, "app/db", Array("two".utf8), expectedRevision: 1, expires: nil))
            // A writer that read revision 1 loses to the one that wrote first.
            #expect(try await repository.save(.kvSecret, "app/db", Array("stale".utf8), expectedRevision: 1, expires: nil) == false)
            let found1 = try await repository.entry(.kvSecret, "app/db")
            #expect(found1?.document == Array("two".utf8))
            // Kinds are separate name spaces.
            let found2 = try await repository.entry(.transitKey, "app/db")
            #expect(found2 == nil)
            #expect(try await repository.delete(.kvSecret, "app/db"))
            #expect(try await repository.delete(.kvSecret, "app/db") == false)
        }
    }

    @Test("names are listed by prefix in order, `%` and `_` taken literally; expired entries pruned")
    func namesAndPruning() async throws {
        try await Self.each { repository in
            for name in ["a/x", "a/y", "a%/z", "a_b", "b/x"] {
                #expect(try await repository.save(.kvSecret, name, [1], expectedRevision: nil, expires: nil))
            }
            let found3 = try await repository.names(.kvSecret, prefix: "a/", limit: 10)
            #expect(found3 == ["a/x", "a/y"])
            let found4 = try await repository.names(.kvSecret, prefix: "a%", limit: 10)
            #expect(found4 == ["a%/z"])
            let found5 = try await repository.names(.kvSecret, prefix: "a_", limit: 10)
            #expect(found5 == ["a_b"])
            let found6 = try await repository.names(.kvSecret, prefix: "", limit: 2)
            #expect(found6 == ["a%/z", "a/x"])
            #expect(try await repository.save(.token, "old", [1], expectedRevision: nil, expires: 100))
            #expect(try await repository.save(.token, "new", [1], expectedRevision: nil, expires: 300))
            let found7 = try await repository.prune(.token, expiredBefore: 200)
            #expect(found7 == 1)
            let found8 = try await repository.names(.token, prefix: "", limit: 10)
            #expect(found8 == ["new"])
            let found9 = try await repository.names(.kvSecret, prefix: "", limit: 10)
            #expect(found9.count == 5, "pruning tokens leaves other kinds")
        }
    }
}
