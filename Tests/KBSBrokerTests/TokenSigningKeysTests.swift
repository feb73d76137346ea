import Foundation
import Synchronization
import Testing

@testable import KBSBroker

/// Attestation-token signing keys kept in a repository: shared by every signer over it (replicas), rotated with
/// overlap, pruned once nothing they signed can still be valid.
struct TokenSigningKeysTests {
    /// A clock tests move.
    final class Clock: Sendable {
        private let now = Mutex(Date(timeIntervalSince1970: 1_800_000_000))
        func read() -> Date { now.withLock { $0 } }
        func advance(_ seconds: TimeInterval) { now.withLock { $0 += seconds } }
    }

    static let period: TimeInterval = 3600
    static let lifetime: TimeInterval = 300

    static func signer(_ repository: any TokenSigningKeyRepository, _ sealing: TokenSigningKeys.Sealing, _ clock: Clock) -> AttestationTokenSigner {
        AttestationTokenSigner(
            keys: TokenSigningKeys(
                repository: repository, sealing: sealing, rotationPeriod: period, tokenLifetime: lifetime, clock: { clock.read() }))
    }

    static func kid(_ token: String) throws -> String {
        let header = try #require(Base64URLText.decode(String(token.split(separator: ".")[0])))
        return try #require((try JSONSerialization.jsonObject(with: header) as? [String: Any])?["kid"] as? String)
    }

    @Test func aKeyMadeByOneSignerVerifiesOnAnother() async throws {
        let repository = InMemoryTokenSigningKeys()
        let sealing = TokenSigningKeys.Sealing.ephemeral()
        let clock = Clock()
        let first = Self.signer(repository, sealing, clock)
        let token = try await first.sign(try ProtocolTests.appraisal(at: clock.read()))
        // A second signer over the same repository has never seen the key: it reads it on the token's `kid`.
        let second = Self.signer(repository, sealing, clock)
        #expect(try await second.verify(token, now: clock.read()).id == "a1")
        #expect(try await second.sign(try ProtocolTests.appraisal(at: clock.read())).isEmpty == false)
        #expect(try await repository.signingKeys().count == 1, "the second signer signs with the first's key")
    }

    @Test func keysRotateWithOverlapAndArePrunedLater() async throws {
        let repository = InMemoryTokenSigningKeys()
        let clock = Clock()
        let signer = Self.signer(repository, .ephemeral(), clock)
        let old = try await signer.sign(try ProtocolTests.appraisal(at: clock.read()))
        clock.advance(Self.period + 1)
        // The period is over: the next token is signed by a new key, and a token of the old one still verifies.
        let new = try await signer.sign(try ProtocolTests.appraisal(at: clock.read() - Self.lifetime + 10))
        #expect(try Self.kid(new) != Self.kid(old))
        let oldAgain = try await signer.sign(try ProtocolTests.appraisal(at: clock.read()))
        #expect(try Self.kid(oldAgain) == Self.kid(new), "the newest key signs")
        let (newID, oldID) = (try Self.kid(new), try Self.kid(old))
        #expect(try await signer.keys.publicJWKs().map { $0["kid"] } == [newID, oldID])
        // Two periods and a token lifetime on, the old key goes with the next rotation.
        clock.advance(Self.period + Self.lifetime + 1)
        let latest = try await signer.sign(try ProtocolTests.appraisal(at: clock.read()))
        let kids = try await signer.keys.publicJWKs().compactMap { $0["kid"] }
        let latestID = try Self.kid(latest)
        #expect(kids.count == 2 && kids.first == latestID && !kids.contains(oldID))
        await #expect(throws: BrokerError.self) { _ = try await signer.verify(old, now: clock.read() - 3 * Self.period) }
    }

    @Test func aKeyThatCannotBeOpenedSignsNothing() async throws {
        let repository = InMemoryTokenSigningKeys()
        let clock = Clock()
        let token = try await Self.signer(repository, .ephemeral(), clock).sign(try ProtocolTests.appraisal(at: clock.read()))
        // Another process's sealing key cannot open the stored key: the token is refused, and a fresh key signs.
        let other = Self.signer(repository, .ephemeral(), clock)
        await #expect(throws: BrokerError.self) { _ = try await other.verify(token, now: clock.read()) }
        let fresh = try await other.sign(try ProtocolTests.appraisal(at: clock.read()))
        #expect(try Self.kid(fresh) != Self.kid(token))
    }
}

/// Base64url as JOSE writes it (no padding).
enum Base64URLText {
    static func decode(_ text: String) -> Data? {
        var standard = text.replacingOccurrences(of: "-", with: "+").replacingOccurrences(of: "_", with: "/")
        while standard.count % 4 != 0 { standard += "=" }
        return Data(base64Encoded: standard)
    }
}
