import Foundation
import KBSClaims
import KBSStore
import Testing

@testable import KBSIdentity

/// The store contract's identity state: login sessions and the verifiers' replay cache, which `kbs serve` replicas on
/// one database must share (a login on one replica, a request or logout on the other).
extension StoreContractTests {
    static func sessionRecord(subject: String = "oidc:https://idp#alice", expiresAt: Int64 = 2_000) -> SessionRecord {
        SessionRecord(
            subject: subject, issuer: "https://idp", method: "jwt", principalJSON: #"{"subject":"alice"}"#, createdAt: 1_000,
            expiresAt: expiresAt)
    }

    @Test("a session started on one replica is read, touched and revoked on the other", arguments: StoreBackend.allCases)
    func sessionAcrossReplicas(backend: StoreBackend) async throws {
        try await StoreUnderTest.with(backend) { store in
            let (first, second) = (store.replica(0).sessions, store.replica(1).sessions)
            let hash = [UInt8](repeating: 7, count: 32)
            let record = Self.sessionRecord()
            try await first.insert(idHash: hash, record)
            await #expect(throws: IdentityError.self, "one id hash, one session") {
                try await second.insert(idHash: hash, Self.sessionRecord(subject: "other"))
            }
            #expect(try await second.session(idHash: hash) == record)
            #expect(try await second.session(idHash: [UInt8](repeating: 8, count: 32)) == nil)

            try await second.touch(idHash: hash, at: 1_100)
            #expect(try await first.session(idHash: hash)?.lastUsedAt == 1_100)
            // A no-op on a session that does not exist.
            try await first.touch(idHash: [UInt8](repeating: 8, count: 32), at: 1_100)

            #expect(try await second.revoke(idHash: hash, at: 1_200))
            #expect(try await first.revoke(idHash: hash, at: 1_300) == false, "revoked already")
            #expect(try await first.session(idHash: hash)?.revokedAt == 1_200, "seen on the other replica at once")
            #expect(try await first.revoke(idHash: [UInt8](repeating: 8, count: 32), at: 1_300) == false)
        }
    }

    @Test("revoking every session of a subject on one replica ends those the other started", arguments: StoreBackend.allCases)
    func revokeAllAcrossReplicas(backend: StoreBackend) async throws {
        try await StoreUnderTest.with(backend) { store in
            let alice = "oidc:https://idp#alice"
            for index in 0..<4 {
                try await store.replica(index).sessions.insert(idHash: [UInt8](repeating: UInt8(index), count: 32), Self.sessionRecord())
            }
            // Already ended or someone else's: not counted, not changed.
            try await store.first.sessions.insert(idHash: [UInt8](repeating: 10, count: 32), Self.sessionRecord(expiresAt: 1_400))
            try await store.first.sessions.insert(idHash: [UInt8](repeating: 11, count: 32), Self.sessionRecord(subject: "bob"))
            #expect(try await store.first.sessions.revoke(idHash: [UInt8](repeating: 3, count: 32), at: 1_450))

            #expect(try await store.replica(1).sessions.revokeAll(subject: alice, at: 1_500) == 3)
            for index in 0..<3 {
                #expect(try await store.first.sessions.session(idHash: [UInt8](repeating: UInt8(index), count: 32))?.revokedAt == 1_500)
            }
            #expect(try await store.first.sessions.session(idHash: [UInt8](repeating: 3, count: 32))?.revokedAt == 1_450)
            #expect(try await store.first.sessions.session(idHash: [UInt8](repeating: 10, count: 32))?.revokedAt == nil, "expired")
            #expect(try await store.first.sessions.session(idHash: [UInt8](repeating: 11, count: 32))?.revokedAt == nil)
            #expect(try await store.first.sessions.revokeAll(subject: alice, at: 1_600) == 0)
        }
    }

    @Test("a login through Sessions on one replica is resumed and logged out on the other", arguments: StoreBackend.allCases)
    func sessionsUseCaseAcrossReplicas(backend: StoreBackend) async throws {
        try await StoreUnderTest.with(backend) { store in
            let (first, second) = (Sessions(store: store.replica(0).sessions), Sessions(store: store.replica(1).sessions))
            let principal = Principal(subject: "alice", issuer: "https://idp", method: .jwt, verifiedAt: Self.now)
            let id = try await first.start(for: principal, at: Self.now)
            #expect(try await second.resume(id, at: Self.now + 120).subject == principal.subject)
            #expect(try await first.revoke(id, at: Self.now + 130))
            await #expect(throws: IdentityError(.revoked, "the session was revoked")) { try await second.resume(id, at: Self.now + 140) }
        }
    }

    @Test("a single-use value is accepted once of many concurrent tries on two replicas, and again once expired", arguments: StoreBackend.allCases)
    func replaySingleUse(backend: StoreBackend) async throws {
        try await StoreUnderTest.with(backend) { store in
            let now = Int64(Self.now.timeIntervalSince1970)
            let winners = try await withThrowingTaskGroup(of: Bool.self) { group in
                for index in 0..<32 {
                    let replay = store.replica(index).replay
                    group.addTask { try await replay.insert("nonce-1", namespace: "siwe:kbs.example", expiry: now + 300, now: now) }
                }
                return try await group.reduce(0) { $0 + ($1 ? 1 : 0) }
            }
            #expect(winners == 1)
            let (first, second) = (store.replica(0).replay, store.replica(1).replay)
            #expect(try await second.insert("nonce-1", namespace: "saml:https://idp", expiry: now + 300, now: now), "namespaces are apart")
            #expect(try await first.insert("nonce-1", namespace: "siwe:kbs.example", expiry: now + 600, now: now + 299) == false)
            #expect(try await second.insert("nonce-1", namespace: "siwe:kbs.example", expiry: now + 600, now: now + 300), "expired: usable again")
            #expect(try await first.insert("nonce-1", namespace: "siwe:kbs.example", expiry: now + 900, now: now + 301) == false)
            // Times past what milliseconds can hold are refused, never wrapped around into the past.
            #expect(try await first.insert("far", namespace: "hmac:k", expiry: .max, now: now) == false)
        }
    }

    @Test("a store that cannot be reached fails identity checks closed", arguments: StoreBackend.allCases)
    func identityStateFailsClosed(backend: StoreBackend) async throws {
        try await StoreUnderTest.with(backend) { store in
            // A missing table stands for any store failure: the call throws, never answers "new" or "no session".
            try await store.tamper("ALTER TABLE single_use RENAME TO single_use_gone")
            let replay = await #expect(throws: IdentityError.self) {
                try await store.first.replay.insert("n", namespace: "siwe:kbs.example", expiry: 2_000, now: 1_000)
            }
            #expect(replay?.reason == .configuration)
            try await store.tamper("ALTER TABLE \(backend == .postgres ? "login_session" : "session") RENAME TO session_gone")
            let session = await #expect(throws: IdentityError.self) {
                try await store.replica(1).sessions.session(idHash: [UInt8](repeating: 1, count: 32))
            }
            #expect(session?.reason == .configuration)
        }
    }
}
