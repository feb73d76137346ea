import Foundation
import KBSBroker
import KBSClaims
import KBSStore
import Testing

/// A fresh store in its own temporary folder.
func temporaryStore() throws -> (Store, String) {
    let directory = FileManager.default.temporaryDirectory.appendingPathComponent("kbs-store-\(UUID())").path
    try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
    return (try Store(directory: directory), directory)
}

func json(_ text: String) -> [UInt8] { Array(text.utf8) }

struct StoreTests {
    @Test func opensInWALModeWithMigrationsApplied() throws {
        let (store, directory) = try temporaryStore()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        #expect(try store.journalMode() == "wal")
        // GRDB's WAL set-up lowers the writer to NORMAL; the store puts it back, so commits wait for the disk.
        #expect(try store.writerSynchronous() == 2)
        #expect(
            try store.appliedMigrations() == [
                "v1-entities-and-roles", "v2-sessions-api-keys-single-use", "v3-audit-log", "v4-key-records", "v5-broker", "v6-capability-tokens",
                "v7-logins-and-api-key-secrets", "v8-kms-keys-and-aliases", "v9-token-signing-keys", "v10-vault-entries",
                "v11-entity-generation", "v12-release-revisions",
            ])
        // Opening again applies nothing new and keeps the schema.
        let again = try Store(directory: directory)
        #expect(
            try again.appliedMigrations() == [
                "v1-entities-and-roles", "v2-sessions-api-keys-single-use", "v3-audit-log", "v4-key-records", "v5-broker", "v6-capability-tokens",
                "v7-logins-and-api-key-secrets", "v8-kms-keys-and-aliases", "v9-token-signing-keys", "v10-vault-entries",
                "v11-entity-generation", "v12-release-revisions",
            ])
    }

    @Test func entitiesAndRolesRoundTripAndSurviveReopening() throws {
        let (store, directory) = try temporaryStore()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        try store.putEntity(type: "User", id: "alice", attributesJSON: json(#"{"email":"alice@example.com"}"#))
        try store.addRole(type: "User", id: "alice", StoredRole(role: "editor"))
        try store.addRole(type: "User", id: "alice", StoredRole(role: "key-reader", scope: "prod/**"))
        try store.addRole(type: "User", id: "alice", StoredRole(role: "editor"))  // idempotent

        let reopened = try Store(directory: directory)
        let alice = try #require(try reopened.entity(type: "User", id: "alice"))
        #expect(String(decoding: alice.attributesJSON, as: UTF8.self) == #"{"email":"alice@example.com"}"#)
        #expect(alice.roles == [StoredRole(role: "editor"), StoredRole(role: "key-reader", scope: "prod/**")])
        #expect(alice.source == .admin)

        #expect(try reopened.removeRole(type: "User", id: "alice", StoredRole(role: "editor")))
        #expect(try !reopened.removeRole(type: "User", id: "alice", StoredRole(role: "editor")))
        #expect(try reopened.roles(type: "User", id: "alice") == [StoredRole(role: "key-reader", scope: "prod/**")])
    }

    @Test func deletingAnEntityDeletesItsRoles() throws {
        let (store, directory) = try temporaryStore()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        try store.putEntity(type: "User", id: "bob", attributesJSON: json("{}"))
        try store.addRole(type: "User", id: "bob", StoredRole(role: "viewer"))
        #expect(try store.deleteEntity(type: "User", id: "bob"))
        #expect(try !store.deleteEntity(type: "User", id: "bob"))
        #expect(try store.entity(type: "User", id: "bob") == nil)
        // Re-creating the entity does not bring back the old roles.
        try store.putEntity(type: "User", id: "bob", attributesJSON: json("{}"))
        #expect(try store.roles(type: "User", id: "bob").isEmpty)
    }

    @Test func rolesNeedAnExistingEntityAndBadArgumentsAreRefused() throws {
        let (store, directory) = try temporaryStore()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        #expect(throws: StoreError.self) { try store.addRole(type: "User", id: "ghost", StoredRole(role: "viewer")) }
        do {
            try store.addRole(type: "User", id: "ghost", StoredRole(role: "viewer"))
        } catch {
            #expect(error.code == .notFound)
        }
        #expect(throws: StoreError.self) { try store.putEntity(type: "", id: "x", attributesJSON: json("{}")) }
        #expect(throws: StoreError.self) { try store.putEntity(type: "User", id: "x", attributesJSON: [0xff, 0xfe]) }
        let huge = json("{\"a\":\"" + String(repeating: "x", count: StoredEntity.maximumAttributesBytes) + "\"}")
        #expect(throws: StoreError.self) { try store.putEntity(type: "User", id: "x", attributesJSON: huge) }
    }

    @Test func listingPagesInTypeAndIDOrder() throws {
        let (store, directory) = try temporaryStore()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        for id in ["c", "a", "b"] { try store.putEntity(type: "User", id: id, attributesJSON: json("{}")) }
        try store.putEntity(type: "Workload", id: "w", attributesJSON: json("{}"))
        #expect(try store.entities(limit: 2).map(\.id) == ["a", "b"])
        #expect(try store.entities(after: ("User", "b"), limit: 10).map(\.id) == ["c", "w"])
        #expect(try store.entities(type: "Workload").map(\.id) == ["w"])
        #expect(try store.allEntities().count == 4)
    }

    @Test func bundleImportIsIdempotentAndLeavesAdminRowsAlone() throws {
        let (store, directory) = try temporaryStore()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let bundle = [
            StoredEntity(type: "User", id: "rick", attributesJSON: json(#"{"name":"Rick"}"#), roles: [StoredRole(role: "admin")], source: .bundle),
            StoredEntity(type: "User", id: "morty", attributesJSON: json(#"{"name":"Morty"}"#), roles: [StoredRole(role: "editor")], source: .bundle),
        ]
        #expect(try store.importBundle(bundle) > 0)
        #expect(try store.importBundle(bundle) == 0)

        // The admin API cannot change what the bundle provides: the next import would silently undo it.
        for attempt in [
            { try store.putEntity(type: "User", id: "morty", attributesJSON: json(#"{"name":"Morty Smith"}"#)) },
            { _ = try store.deleteEntity(type: "User", id: "morty") },
            { _ = try store.removeRole(type: "User", id: "morty", StoredRole(role: "editor")) },
        ] as [() throws -> Void] {
            #expect { try attempt() } throws: { ($0 as? StoreError)?.code == .bundleOwned }
        }
        #expect(try store.roles(type: "User", id: "morty") == [StoredRole(role: "editor")])
        // It can add to it, and its additions survive imports; its own rows are its own.
        try store.putEntity(type: "User", id: "jerry", attributesJSON: json(#"{"name":"Jerry"}"#))
        try store.addRole(type: "User", id: "rick", StoredRole(role: "evil_genius"))
        try store.addRole(type: "User", id: "morty", StoredRole(role: "editor"))  // already the bundle's: stays the bundle's
        #expect(try store.importBundle(bundle) == 0)
        #expect(try store.roles(type: "User", id: "rick").map(\.role) == ["admin", "evil_genius"])
        #expect(try store.removeRole(type: "User", id: "rick", StoredRole(role: "evil_genius")))
        #expect(try store.importBundle(bundle) == 0)
        #expect(try store.roles(type: "User", id: "rick").map(\.role) == ["admin"])

        // Rick leaves the bundle: his bundle row goes; Jerry (admin-made) stays.
        let changed = [StoredEntity(type: "User", id: "morty", attributesJSON: json(#"{"name":"Morty"}"#), roles: [], source: .bundle)]
        #expect(try store.importBundle(changed) > 0)
        #expect(try store.entity(type: "User", id: "rick") == nil)
        #expect(try store.entity(type: "User", id: "jerry") != nil)
        // The bundle dropped Morty's editor role, which it had granted.
        #expect(try store.roles(type: "User", id: "morty").isEmpty)
    }

    /// Capability tokens: metadata round-trips and survives a reopen, ids are unique, a revocation keeps its first
    /// time and is seen by a second store on the same file at once.
    @Test func capabilityTokensRecordRevocations() throws {
        let (store, directory) = try temporaryStore()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let token = StoredCapabilityToken(
            id: "0b7a-test", subject: "agent-1", capabilitiesJSON: #"["read:x"]"#, keyVersion: 2, issuedAt: 100, expiresAt: 700)
        try store.insertCapabilityToken(token)
        #expect(try store.capabilityToken("0b7a-test") == token)
        #expect(try store.capabilityToken("missing") == nil)
        do {
            try store.insertCapabilityToken(token)
            Issue.record("a second token with the same id was accepted")
        } catch { #expect(error.code == .invalid) }
        do {
            try store.insertCapabilityToken(
                StoredCapabilityToken(id: "", subject: "a", capabilitiesJSON: "[]", keyVersion: 1, issuedAt: 0, expiresAt: 1))
            Issue.record("an empty id was accepted")
        } catch { #expect(error.code == .invalid) }

        let other = try Store(directory: directory)
        #expect(try other.revokeCapabilityToken("0b7a-test", at: 200))
        #expect(try store.capabilityToken("0b7a-test")?.revokedAt == 200)
        #expect(try store.revokeCapabilityToken("0b7a-test", at: 300))
        #expect(try other.capabilityToken("0b7a-test")?.revokedAt == 200)
        #expect(try !store.revokeCapabilityToken("missing", at: 300))
        try store.insertCapabilityToken(
            StoredCapabilityToken(id: "earlier", subject: "agent-2", capabilitiesJSON: "[]", keyVersion: 1, issuedAt: 50, expiresAt: 60))
        #expect(try Store(directory: directory).capabilityTokens().map(\.id) == ["earlier", "0b7a-test"])
    }
}
