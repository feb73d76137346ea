import Foundation
import KBSClaims
import KBSIdentity
import Testing

/// A replay cache that cannot answer must fail the credential closed: a nonce or assertion id that cannot be recorded
/// is never taken as new, and the refusal says the store failed (503 at the broker), not that the credential is bad.
struct ReplayCacheFailureTests {
    /// A cache whose store is gone.
    struct UnreachableCache: ReplayCache {
        func insert(_ value: String, namespace: String, expiry: Int64, now: Int64) async throws(IdentityError) -> Bool {
            throw IdentityError(.configuration, "the replay cache failed: connection refused")
        }
    }

    /// The first accepted fixture of each kind whose verifier spends a single-use value.
    static let accepted: [IdentityFixtureTests.Case] = [CredentialKind.siwe, .saml, .hmac].compactMap { kind in
        IdentityFixtureTests.cases.first { $0.kind == kind && $0.expect == "accept" && $0.after == nil }
    }

    @Test func everyReplayCheckedKindHasAnAcceptedFixture() {
        #expect(Self.accepted.count == 3)
    }

    @Test(arguments: accepted)
    func anUnreachableCacheRefusesAnOtherwiseGoodCredential(_ fixture: IdentityFixtureTests.Case) async throws {
        let bytes = try #require(FileManager.default.contents(atPath: fixture.directory + "/" + fixture.credential))
        let good = try VerifierFactory.make(kind: fixture.kind, options: fixture.options, directory: fixture.directory)
        _ = try await good.verify(Array(bytes), at: fixture.now)

        let failing = try VerifierFactory.make(
            kind: fixture.kind, options: fixture.options, directory: fixture.directory, replay: UnreachableCache())
        let error = await #expect(throws: IdentityError.self) { try await failing.verify(Array(bytes), at: fixture.now) }
        #expect(error?.reason == .configuration)
    }

    @Test func theMemoryCacheRefusesASecondUseUntilExpiry() async throws {
        let cache = MemoryReplayCache()
        #expect(try await cache.insert("n", namespace: "siwe:a", expiry: 200, now: 100))
        #expect(try await cache.insert("n", namespace: "siwe:a", expiry: 300, now: 199) == false)
        #expect(try await cache.insert("n", namespace: "siwe:b", expiry: 300, now: 199), "namespaces are apart")
        #expect(try await cache.insert("n", namespace: "siwe:a", expiry: 300, now: 200), "expired: usable again")
    }
}
