import Foundation
import KBSBroker
import KBSClaims
import KBSIdentity
import KBSStore
import Testing

/// Sessions, API keys and single-use values persist, survive reopening, and revoke.
struct IdentityStoreTests {
    static let hash = [UInt8](repeating: 0xAB, count: 32)

    @Test func sessionsPersistAndRevoke() throws {
        let (store, directory) = try temporaryStore()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let session = SessionRecord(
            subject: "alice", issuer: "https://idp", method: "jwt", principalJSON: #"{"subject":"alice"}"#,
            createdAt: 100, expiresAt: 200)
        try store.insertSession(idHash: Self.hash, session)
        #expect(throws: StoreError.self) { try store.insertSession(idHash: Self.hash, session) }
        #expect(throws: StoreError.self) { try store.insertSession(idHash: [1, 2, 3], session) }

        let reopened = try Store(directory: directory)
        #expect(try reopened.session(idHash: Self.hash) == session)
        #expect(try reopened.session(idHash: [UInt8](repeating: 0, count: 32)) == nil)
        #expect(try reopened.revokeSessions(subject: "alice", at: 150) == 1)
        #expect(try reopened.session(idHash: Self.hash)?.revokedAt == 150)
        #expect(try !reopened.revokeSession(idHash: Self.hash, at: 160), "a revoked session ends once; the first time stays")
        #expect(try reopened.session(idHash: Self.hash)?.revokedAt == 150)
        #expect(try !reopened.revokeSession(idHash: [UInt8](repeating: 0, count: 32), at: 160))
    }

    @Test func apiKeysPersistAndRevoke() throws {
        let (store, directory) = try temporaryStore()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let key = StoredAPIKey(keyID: "0123456789abcdef", secretHash: Self.hash, subject: "ci-bot", createdAt: 1, expiresAt: 99)
        try store.insertAPIKey(key)
        #expect(throws: StoreError.self) { try store.insertAPIKey(key) }
        #expect(throws: StoreError.self) { try store.insertAPIKey(StoredAPIKey(keyID: "", secretHash: Self.hash, subject: "x", createdAt: 1)) }
        #expect(try Store(directory: directory).apiKey(key.keyID) == key)
        #expect(try store.revokeAPIKey(key.keyID, at: 5))
        #expect(try store.apiKey(key.keyID)?.revokedAt == 5)
        #expect(try store.apiKey("nope") == nil)
    }

    @Test func singleUseValuesAreRefusedUntilTheyExpire() throws {
        let (store, directory) = try temporaryStore()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        #expect(try store.useOnce("n1", namespace: "siwe:kbs.example", expiry: 200, now: 100))
        #expect(try !store.useOnce("n1", namespace: "siwe:kbs.example", expiry: 300, now: 150))
        #expect(try store.useOnce("n1", namespace: "saml:idp", expiry: 300, now: 150), "namespaces are apart")
        #expect(
            try !Store(directory: directory).useOnce("n1", namespace: "siwe:kbs.example", expiry: 300, now: 199),
            "a restart forgets nothing")
        #expect(try store.useOnce("n1", namespace: "siwe:kbs.example", expiry: 400, now: 200), "usable again once expired")
    }
}

/// The identity layer's session port on SQLite: what one store keeps, another opening the same file sees.
struct SQLiteSessionStoreTests {
    @Test func sessionsSurviveAReopenAndRevocationsCount() async throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("kbs-sessions-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let hash = [UInt8](repeating: 7, count: 32)
        let record = SessionRecord(
            subject: "oidc:https://idp#alice", issuer: "https://idp", method: "jwt", principalJSON: "{}", createdAt: 1,
            expiresAt: 100)
        let sessions = SQLiteSessionStore(try Store(directory: directory))
        try await sessions.insert(idHash: hash, record)
        await #expect(throws: IdentityError.self) { try await sessions.insert(idHash: hash, record) }
        let reopened = SQLiteSessionStore(try Store(directory: directory))
        #expect(try await reopened.session(idHash: hash) == record)
        #expect(try await reopened.revokeAll(subject: record.subject, at: 50) == 1)
        #expect(try await sessions.session(idHash: hash)?.revokedAt == 50)
        #expect(try await !sessions.revoke(idHash: [UInt8](repeating: 8, count: 32), at: 60))
    }
}
