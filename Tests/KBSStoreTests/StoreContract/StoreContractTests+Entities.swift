import Foundation
import KBSBroker
import KBSClaims
import KBSStore
import Testing

/// The store contract's entities and roles: what the admin API and every replica's in-memory view rely on.
extension StoreContractTests {
    @Test("an entity written on one replica is read, replaced and deleted on the other", arguments: StoreBackend.allCases)
    func entityAcrossReplicas(backend: StoreBackend) async throws {
        try await StoreUnderTest.with(backend) { store in
            let writer = store.replica(0).entities
            let reader = store.replica(1).entities
            let attributes = Array(#"{"email":"alice@example.com","team":"ops"}"#.utf8)
            #expect(try await writer.putEntity(type: "User", id: "alice", attributesJSON: attributes, roles: [StoredRole(role: "viewer")]))
            let read = try #require(try await reader.entity(type: "User", id: "alice"))
            #expect(read == StoredEntity(type: "User", id: "alice", attributesJSON: attributes, roles: [StoredRole(role: "viewer")], source: .admin))
            // Replacing keeps the roles held and says the entity was not new.
            #expect(
                try await reader.putEntity(type: "User", id: "alice", attributesJSON: Array("{}".utf8), roles: [StoredRole(role: "editor")]) == false)
            let replaced = try #require(try await writer.entity(type: "User", id: "alice"))
            #expect(replaced.attributesJSON == Array("{}".utf8))
            #expect(replaced.roles == [StoredRole(role: "editor"), StoredRole(role: "viewer")])
            #expect(try await reader.deleteEntity(type: "User", id: "alice"))
            #expect(try await writer.entity(type: "User", id: "alice") == nil)
            #expect(try await writer.deleteEntity(type: "User", id: "alice") == false)
            // Re-creating the entity does not bring back the old roles.
            try await writer.putEntity(type: "User", id: "alice", attributesJSON: Array("{}".utf8), roles: [])
            #expect(try await reader.entity(type: "User", id: "alice")?.roles == [])
            for (type, id, attributes) in [("", "x", "{}"), ("User", "", "{}"), ("User", "a\u{0}b", "{}")] {
                await Self.expectRefusal(.invalid) {
                    try await writer.putEntity(type: type, id: id, attributesJSON: Array(attributes.utf8), roles: [])
                }
            }
            await Self.expectRefusal(.invalid) { try await writer.putEntity(type: "User", id: "x", attributesJSON: [0xff, 0xfe], roles: []) }
            let huge = Array(("{\"a\":\"" + String(repeating: "x", count: StoredEntity.maximumAttributesBytes) + "\"}").utf8)
            await Self.expectRefusal(.invalid) { try await writer.putEntity(type: "User", id: "x", attributesJSON: huge, roles: []) }
            await Self.expectRefusal(.invalid) {
                try await writer.putEntity(type: "User", id: "x", attributesJSON: Array("{}".utf8), roles: [StoredRole(role: "")])
            }
            #expect(try await reader.entity(type: "User", id: "x") == nil)
        }
    }

    @Test("entities list and page in (type, id) byte order, whatever the database's collation", arguments: StoreBackend.allCases)
    func entityPaging(backend: StoreBackend) async throws {
        try await StoreUnderTest.with(backend) { store in
            let keys = [
                ("User", "b"), ("User", "B"), ("User", "a"), ("User", "_x"), ("User", "é"), ("User", "Z"), ("user", "a"),
                ("Workload", "spiffe://w/1"), ("Workload", "spiffe://w/10"), ("Workload", "spiffe://w/2"), ("Group", "ops"),
            ]
            for (index, (type, id)) in keys.enumerated() {
                try await store.replica(index).entities.putEntity(type: type, id: id, attributesJSON: Array("{}".utf8), roles: [])
            }
            let expected = keys.sorted {
                $0.0 == $1.0 ? $0.1.utf8.lexicographicallyPrecedes($1.1.utf8) : $0.0.utf8.lexicographicallyPrecedes($1.0.utf8)
            }
            .map { EntityKey(type: $0.0, id: $0.1) }
            // Paged two at a time, alternating replicas, the cursor being the last key seen.
            var seen: [EntityKey] = []
            var cursor: EntityKey?
            for page in 0... {
                let rows = try await store.replica(page).entities.entities(type: nil, after: cursor, limit: 2)
                seen += rows.map { EntityKey(type: $0.type, id: $0.id) }
                guard rows.count == 2 else { break }
                cursor = seen.last
            }
            #expect(seen == expected)
            let users = try await store.first.entities.entities(type: "User", after: EntityKey(type: "User", id: "Z"), limit: 100)
            #expect(users.map(\.id) == expected.filter { $0.type == "User" && "Z".utf8.lexicographicallyPrecedes($0.id.utf8) }.map(\.id))
            #expect(try await store.replica(1).entities.entities(type: "Nobody", after: nil, limit: 10).isEmpty)
            #expect(try await store.replica(1).entities.entities(type: nil, after: nil, limit: 0).isEmpty)
            let snapshot = try await store.replica(1).entities.snapshot()
            #expect(snapshot.entities.map { EntityKey(type: $0.type, id: $0.id) } == expected)
        }
    }

    @Test("roles are granted idempotently, listed in order, revoked once, and need the entity", arguments: StoreBackend.allCases)
    func roleBindings(backend: StoreBackend) async throws {
        try await StoreUnderTest.with(backend) { store in
            let first = store.replica(0).entities
            let second = store.replica(1).entities
            try await first.putEntity(type: "User", id: "bob", attributesJSON: Array("{}".utf8), roles: [])
            try await first.addRole(type: "User", id: "bob", StoredRole(role: "key-reader", scope: "prod/**"))
            try await second.addRole(type: "User", id: "bob", StoredRole(role: "editor"))
            try await first.addRole(type: "User", id: "bob", StoredRole(role: "editor"))
            try await second.addRole(type: "User", id: "bob", StoredRole(role: "key-reader", scope: "dev/*"))
            #expect(
                try await second.entity(type: "User", id: "bob")?.roles == [
                    StoredRole(role: "editor"), StoredRole(role: "key-reader", scope: "dev/*"), StoredRole(role: "key-reader", scope: "prod/**"),
                ])
            #expect(try await second.removeRole(type: "User", id: "bob", StoredRole(role: "key-reader", scope: "dev/*")))
            #expect(try await first.removeRole(type: "User", id: "bob", StoredRole(role: "key-reader", scope: "dev/*")) == false)
            // A scoped binding is not the unscoped one.
            #expect(try await first.removeRole(type: "User", id: "bob", StoredRole(role: "key-reader")) == false)
            #expect(
                try await first.entity(type: "User", id: "bob")?.roles == [
                    StoredRole(role: "editor"), StoredRole(role: "key-reader", scope: "prod/**"),
                ])
            await Self.expectRefusal(.notFound) { try await second.addRole(type: "User", id: "ghost", StoredRole(role: "viewer")) }
            await Self.expectRefusal(.invalid) { try await second.addRole(type: "User", id: "bob", StoredRole(role: "viewer", scope: "")) }
            #expect(try await first.deleteEntity(type: "User", id: "bob"))
            #expect(try await second.removeRole(type: "User", id: "bob", StoredRole(role: "editor")) == false)
        }
    }

    @Test("the bundle's rows are refused to the admin API, the admin API's kept by imports", arguments: StoreBackend.allCases)
    func bundleImports(backend: StoreBackend) async throws {
        try await StoreUnderTest.with(backend) { store in
            let first = store.replica(0).entities
            let second = store.replica(1).entities
            let bundle = [
                StoredEntity(
                    type: "User", id: "rick", attributesJSON: Array(#"{"name":"Rick"}"#.utf8), roles: [StoredRole(role: "admin")], source: .bundle),
                StoredEntity(
                    type: "User", id: "morty", attributesJSON: Array(#"{"name":"Morty"}"#.utf8), roles: [StoredRole(role: "editor")], source: .bundle),
            ]
            #expect(try await first.importBundle(bundle) == 4)
            #expect(try await second.importBundle(bundle) == 0, "idempotent")
            #expect(try await second.entity(type: "User", id: "morty")?.source == .bundle)
            await Self.expectRefusal(.bundleOwned) {
                try await second.putEntity(type: "User", id: "morty", attributesJSON: Array(#"{"name":"Morty Smith"}"#.utf8), roles: [])
            }
            await Self.expectRefusal(.bundleOwned) { try await second.deleteEntity(type: "User", id: "morty") }
            await Self.expectRefusal(.bundleOwned) { try await first.removeRole(type: "User", id: "morty", StoredRole(role: "editor")) }
            #expect(try await first.entity(type: "User", id: "morty") == bundle[1])
            // The admin API may grant a bundle entity more roles, and revoke those.
            try await second.addRole(type: "User", id: "morty", StoredRole(role: "viewer"))
            try await second.addRole(type: "User", id: "morty", StoredRole(role: "editor"))  // the bundle's already: stays the bundle's
            await Self.expectRefusal(.bundleOwned) { try await first.removeRole(type: "User", id: "morty", StoredRole(role: "editor")) }
            // An admin entity the bundle also names is not overwritten by it.
            try await first.putEntity(
                type: "User", id: "jerry", attributesJSON: Array(#"{"name":"Jerry"}"#.utf8), roles: [StoredRole(role: "viewer")])
            let jerry = StoredEntity(type: "User", id: "jerry", attributesJSON: Array(#"{"name":"Bundle Jerry"}"#.utf8), source: .bundle)
            // Morty leaves the bundle with his roles (the admin API's included); Rick changes; Jerry stays the admin API's.
            let next = [
                StoredEntity(
                    type: "User", id: "rick", attributesJSON: Array(#"{"name":"Rick C-137"}"#.utf8), roles: [StoredRole(role: "viewer")],
                    source: .bundle),
                jerry,
            ]
            #expect(try await second.importBundle(next) == 4)
            #expect(try await first.entity(type: "User", id: "morty") == nil)
            #expect(
                try await first.entity(type: "User", id: "rick")
                    == StoredEntity(
                        type: "User", id: "rick", attributesJSON: Array(#"{"name":"Rick C-137"}"#.utf8), roles: [StoredRole(role: "viewer")],
                        source: .bundle))
            #expect(
                try await second.entity(type: "User", id: "jerry")
                    == StoredEntity(
                        type: "User", id: "jerry", attributesJSON: Array(#"{"name":"Jerry"}"#.utf8), roles: [StoredRole(role: "viewer")],
                        source: .admin))
            try await second.putEntity(type: "User", id: "jerry", attributesJSON: Array("{}".utf8), roles: [])
            #expect(try await first.importBundle([]) == 1, "rick goes; jerry stays")
            #expect(try await first.snapshot().entities.map(\.id) == ["jerry"])
            await Self.expectRefusal(.invalid) {
                try await first.importBundle([StoredEntity(type: "User", id: "", attributesJSON: Array("{}".utf8), source: .bundle)])
            }
        }
    }

    @Test("concurrent entity writes and imports on two replicas all land, each once", arguments: StoreBackend.allCases)
    func concurrentEntityWrites(backend: StoreBackend) async throws {
        try await StoreUnderTest.with(backend) { store in
            try await store.first.entities.putEntity(type: "Group", id: "shared", attributesJSON: Array("{}".utf8), roles: [])
            let before = try await store.first.entities.generation()
            try await withThrowingTaskGroup(of: Void.self) { group in
                for index in 0..<24 {
                    let entities = store.replica(index).entities
                    group.addTask {
                        try await entities.putEntity(type: "User", id: "u\(index)", attributesJSON: Array("{\"n\":\(index)}".utf8), roles: [])
                        try await entities.addRole(type: "Group", id: "shared", StoredRole(role: "member", scope: "u\(index)"))
                    }
                }
                try await group.waitForAll()
            }
            let snapshot = try await store.replica(1).entities.snapshot()
            #expect(snapshot.entities.count == 25)
            #expect(snapshot.entities.first { $0.id == "shared" }?.roles.count == 24)
            #expect(snapshot.generation == before + 48, "every changing write advanced the generation once")
            // The same bundle imported by every replica at once is written once.
            let bundle = (0..<10).map { StoredEntity(type: "Service", id: "s\($0)", attributesJSON: Array("{}".utf8), source: .bundle) }
            let changes = try await withThrowingTaskGroup(of: Int.self) { group in
                for index in 0..<8 {
                    let entities = store.replica(index).entities
                    group.addTask { try await entities.importBundle(bundle) }
                }
                return try await group.reduce(0, +)
            }
            #expect(changes == 10)
            #expect(try await store.first.entities.generation() == before + 49)
        }
    }

    @Test("the generation moves with every changing write and with nothing else", arguments: StoreBackend.allCases)
    func entityGeneration(backend: StoreBackend) async throws {
        try await StoreUnderTest.with(backend) { store in
            let first = store.replica(0).entities
            let second = store.replica(1).entities
            var last = try await second.generation()
            // Checks, on the other replica, that `step` moved the generation (or left it) as `moves` says.
            func check(_ moves: Bool, _ what: Comment, _ step: () async throws -> Void) async throws {
                try await step()
                let now = try await second.generation()
                #expect((now != last) == moves, what)
                #expect(now >= last, "never backwards")
                last = now
            }
            try await check(true, "put") { try await first.putEntity(type: "User", id: "a", attributesJSON: Array("{}".utf8), roles: []) }
            try await check(true, "put again") { try await first.putEntity(type: "User", id: "a", attributesJSON: Array("{}".utf8), roles: []) }
            try await check(true, "role") { try await first.addRole(type: "User", id: "a", StoredRole(role: "r")) }
            try await check(false, "role held") { try await first.addRole(type: "User", id: "a", StoredRole(role: "r")) }
            try await check(false, "reads") {
                _ = try await first.entity(type: "User", id: "a")
                _ = try await first.entities(type: nil, after: nil, limit: 10)
                _ = try await first.snapshot()
                _ = try await first.generation()
            }
            try await check(false, "revoking what is not held") { _ = try await first.removeRole(type: "User", id: "a", StoredRole(role: "q")) }
            try await check(true, "revoke") { _ = try await first.removeRole(type: "User", id: "a", StoredRole(role: "r")) }
            let bundle = [StoredEntity(type: "User", id: "b", attributesJSON: Array("{}".utf8), roles: [StoredRole(role: "r")], source: .bundle)]
            try await check(true, "import") { try await first.importBundle(bundle) }
            try await check(false, "import unchanged") { try await second.importBundle(bundle) }
            try await check(false, "refused") {
                await Self.expectRefusal(.bundleOwned) { try await first.deleteEntity(type: "User", id: "b") }
                await Self.expectRefusal(.notFound) { try await first.addRole(type: "User", id: "zz", StoredRole(role: "r")) }
            }
            try await check(false, "deleting what is not there") { _ = try await first.deleteEntity(type: "User", id: "zz") }
            try await check(true, "delete") { _ = try await first.deleteEntity(type: "User", id: "a") }
            #expect(try await first.snapshot().generation == last)
        }
    }

    /// Expects `body` to throw the store's error with `code`.
    static func expectRefusal(_ code: StoreErrorCode, sourceLocation: SourceLocation = #_sourceLocation, _ body: () async throws -> Void) async {
        do {
            try await body()
            Issue.record("expected a `\(code.rawValue)` refusal", sourceLocation: sourceLocation)
        } catch let error as StoreError {
            #expect(error.code == code, "\(error.message)", sourceLocation: sourceLocation)
        } catch {
            Issue.record("expected a store error, got \(error)", sourceLocation: sourceLocation)
        }
    }
}
