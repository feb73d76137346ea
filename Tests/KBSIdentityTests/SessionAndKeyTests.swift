import Foundation
import KBSClaims
import KBSPolicyTesting
import Synchronization
import Testing

@testable import KBSIdentity

/// Sessions, bearer API keys and the JWKS refresh limit: state a verifier keeps between credentials.
struct SessionAndKeyTests {
    static let login = Date(timeIntervalSince1970: 1_800_000_000)

    static func principal() async throws -> Principal {
        // A real principal from a real credential: the first accepted DID proof of the fixtures.
        let fixture = try #require(IdentityFixtureTests.cases.first { $0.kind == .did && $0.expect == "accept" })
        let verifier = try VerifierFactory.make(kind: .did, options: fixture.options, directory: fixture.directory)
        let bytes = try #require(FileManager.default.contents(atPath: fixture.directory + "/" + fixture.credential))
        return try await verifier.verify(Array(bytes), at: fixture.now)
    }

    @Test func sessionLivesUntilExpiryOrRevocation() async throws {
        let principal = try await Self.principal()
        let store = MemorySessionStore()
        let sessions = Sessions(store: store, lifetimeSeconds: 3600)
        let id = try await sessions.start(for: principal, at: Self.login)
        #expect(id.hasPrefix("kbs_s_") && id.count == 49)
        #expect(try await store.session(idHash: Array(id.utf8)) == nil, "the id itself is never a key of the store")

        let record = try await sessions.resume(id, at: Self.login.addingTimeInterval(3599))
        #expect(record.subject == principal.subject && record.principalJSON == principal.json)
        await #expect(throws: IdentityError(.expired, "the session expired")) {
            try await sessions.resume(id, at: Self.login.addingTimeInterval(3600))
        }

        let other = try await sessions.start(for: principal, at: Self.login)
        #expect(other != id)
        #expect(try await sessions.revoke(other, at: Self.login.addingTimeInterval(10)))
        await #expect(throws: IdentityError(.revoked, "the session was revoked")) {
            try await sessions.resume(other, at: Self.login.addingTimeInterval(11))
        }
        #expect(try await sessions.revokeAll(subject: principal.subject, at: Self.login.addingTimeInterval(20)) == 1)
        await #expect(throws: IdentityError.self) { try await sessions.resume(id, at: Self.login.addingTimeInterval(21)) }

        var forged = Array(id)
        forged[forged.count - 1] = forged.last == "A" ? "B" : "A"
        await #expect(throws: IdentityError(.unknownKey, "no such session")) { try await sessions.resume(String(forged), at: Self.login) }
        await #expect(throws: IdentityError.self) { try await sessions.resume("kbs_s_short", at: Self.login) }
    }

    @Test func anUnusedSessionEndsAfterItsIdleTimeAndUseKeepsItAlive() async throws {
        let store = MemorySessionStore()
        let sessions = Sessions(store: store, lifetimeSeconds: 8 * 3600, idleSeconds: 600)
        let id = try await sessions.start(for: try await Self.principal(), at: Self.login)
        // Used every 5 minutes, it lives past the idle time; each use is recorded once a minute at most.
        for minutes in stride(from: 5, through: 30, by: 5) {
            _ = try await sessions.resume(id, at: Self.login.addingTimeInterval(Double(minutes) * 60))
        }
        #expect(try await store.session(idHash: Sessions.hash(id))?.lastUsedAt == Int64(Self.login.timeIntervalSince1970) + 1800)
        await #expect(throws: IdentityError(.expired, "the session went unused too long")) {
            try await sessions.resume(id, at: Self.login.addingTimeInterval(1800 + 600))
        }
    }

    @Test func sessionNeverOutlivesItsCredential() async throws {
        let sessions = Sessions(store: MemorySessionStore(), lifetimeSeconds: 3600)
        let now = Int64(Self.login.timeIntervalSince1970)
        let principal = try await Self.principal()
        let id = try await sessions.start(for: principal, at: Self.login, notAfter: now + 60)
        await #expect(throws: IdentityError.self) { try await sessions.resume(id, at: Self.login.addingTimeInterval(60)) }
        await #expect(throws: IdentityError.self) { try await sessions.start(for: principal, at: Self.login, notAfter: now) }
    }

    @Test func apiKeysAreStoredAsPepperedHashes() async throws {
        let table = Mutex<[String: APIKeys.Record]>([:])
        let pepper = Array(repeating: UInt8(7), count: 32)
        let keys = try APIKeys(pepper: pepper) { id in table.withLock { $0[id] } }
        let (key, record) = keys.mint(subject: "ci-bot", expiresAt: Int64(Self.login.timeIntervalSince1970) + 86400)
        table.withLock { $0[record.keyID] = record }
        #expect(!key.contains(Base64URL.encode(record.secretHash)), "the stored hash is not the secret")

        let principal = try await keys.verify(key, at: Self.login)
        #expect(principal.subject == "ci-bot" && principal.method == .apiKey)
        #expect(principal.json.contains(#""api_key":{"key_id":"\#(record.keyID)"}"#))

        // Only the minted form: an upper-case or full-width id is not an API key, whatever the store holds.
        let upper = APIKeys.prefix + "A" + record.keyID.dropFirst().uppercased() + key.dropFirst(APIKeys.prefix.count + 16)
        await #expect(throws: IdentityError(.malformed, "not a KBS API key")) { try await keys.verify(upper, at: Self.login) }
        let fullWidth = APIKeys.prefix + "０" + record.keyID.dropFirst() + key.dropFirst(APIKeys.prefix.count + 16)
        await #expect(throws: IdentityError(.malformed, "not a KBS API key")) { try await keys.verify(fullWidth, at: Self.login) }

        var wrong = Array(key)
        wrong[wrong.count - 2] = wrong[wrong.count - 2] == "A" ? "B" : "A"
        await #expect(throws: IdentityError.self) { try await keys.verify(String(wrong), at: Self.login) }
        let otherPepper = try APIKeys(pepper: Array(repeating: 8, count: 32)) { id in table.withLock { $0[id] } }
        await #expect(throws: IdentityError(.signature, "the API key's secret is wrong")) { try await otherPepper.verify(key, at: Self.login) }
        await #expect(throws: IdentityError(.expired, "the API key expired")) { try await keys.verify(key, at: Self.login.addingTimeInterval(86400)) }
        table.withLock { $0[record.keyID]!.revokedAt = 1 }
        await #expect(throws: IdentityError(.revoked, "the API key was revoked")) { try await keys.verify(key, at: Self.login) }
        #expect(throws: IdentityError.self) { try APIKeys(pepper: [1, 2, 3]) { _ in nil } }
    }

    /// A key source that counts fetches and always serves the fixture JWKS.
    struct CountingSource: KeySetSource {
        let bytes: [UInt8]
        func fetch() async throws(IdentityError) -> [UInt8] { bytes }
    }

    /// Tokens with random `kid`s force at most one refresh per window: no fetch storm against the IdP.
    @Test func unknownKeyIDsRefreshAtMostOncePerWindow() async throws {
        let jwks = try #require(FileManager.default.contents(atPath: RepositoryPaths.path("Fixtures/identity/jwt/jwks.json")))
        let keys = IssuerKeys(source: CountingSource(bytes: Array(jwks)), minimumRefreshSeconds: 300)
        for index in 0..<50 {
            await #expect(throws: IdentityError.self) { try await keys.key(for: "random-\(index)", now: 1000 + Int64(index)) }
        }
        #expect(await keys.fetchCount == 2, "the first load and one forced refresh")
        await #expect(throws: IdentityError.self) { try await keys.key(for: "random-later", now: 1300) }
        #expect(await keys.fetchCount == 3, "a new window allows one more")
    }
}
