import Crypto
import Foundation
import KBSClaims
import Testing

@testable import KBSEvidence

/// Issue 18 item 1: a chain verified once is answered from the cache, and nothing that a full check would refuse —
/// a changed certificate, a time outside the validity windows, a revoked certificate, a dropped anchor — is.
@Suite struct VerifiedChainCacheTests {
    /// A pinned time: the cache follows the verifier's clock, never the system's.
    static let now = Date(timeIntervalSince1970: 1_800_000_000)

    /// Root ← intermediate ← leaf; the leaf expires first, an hour after `now`.
    struct Chain {
        var root: TestChain.Issued
        var intermediate: TestChain.Issued
        var leaf: TestChain.Issued
        var certificates: [Certificate] { [leaf.certificate, intermediate.certificate] }
    }

    static func chain(intermediateName: String = "intermediate") throws -> Chain {
        func issue(_ name: String, by issuer: TestChain.Issued?, isCA: Bool, until: TimeInterval) throws -> TestChain.Issued {
            try TestChain.issue(
                commonName: name, key: .p256(P256.Signing.PrivateKey()), issuer: issuer, serial: TestChain.randomSerial(), isCA: isCA,
                notBefore: now - 86400, notAfter: now + until)
        }
        let root = try issue("root", by: nil, isCA: true, until: 365 * 86400)
        let intermediate = try issue(intermediateName, by: root, isCA: true, until: 30 * 86400)
        let leaf = try issue("leaf", by: intermediate, isCA: false, until: 3600)
        return Chain(root: root, intermediate: intermediate, leaf: leaf)
    }

    @Test func aHitGivesTheVerdictOfAMiss() throws {
        let cache = VerifiedChainCache(capacity: 16)
        let chain = try Self.chain()
        let anchors = [chain.root.certificate]
        let missed = try CertificateChain.verify(chain.certificates, anchors: anchors, at: Self.now, what: "test", cache: cache)
        let key = VerifiedChainCache.Key("chain", chain.certificates.map(\.fingerprint))
        #expect(cache.value(for: key, at: Self.now) == chain.root.certificate.fingerprint)
        let hit = try CertificateChain.verify(chain.certificates, anchors: anchors, at: Self.now + 60, what: "test", cache: cache)
        #expect(hit.fingerprint == missed.fingerprint)
        #expect(hit.fingerprint == chain.root.certificate.fingerprint)
    }

    @Test func aChangedCertificateIsCheckedInFull() throws {
        let cache = VerifiedChainCache(capacity: 16)
        let chain = try Self.chain()
        try CertificateChain.verify(chain.certificates, anchors: [chain.root.certificate], at: Self.now, what: "test", cache: cache)
        // Same names, another key: an intermediate the root never signed, whose leaf names the same issuer.
        let impostor = try Self.chain()
        #expect(throws: EvidenceError.self) {
            try CertificateChain.verify(
                [impostor.leaf.certificate, chain.intermediate.certificate], anchors: [chain.root.certificate], at: Self.now, what: "test",
                cache: cache)
        }
        #expect(throws: EvidenceError.self) {
            try CertificateChain.verify(
                [chain.leaf.certificate, impostor.intermediate.certificate], anchors: [chain.root.certificate], at: Self.now, what: "test",
                cache: cache)
        }
    }

    @Test func aTimeOutsideTheWindowsIsNotServed() throws {
        let cache = VerifiedChainCache(capacity: 16)
        let chain = try Self.chain()
        let anchors = [chain.root.certificate]
        try CertificateChain.verify(chain.certificates, anchors: anchors, at: Self.now, what: "test", cache: cache)
        for time in [Self.now + 7200, Self.now - 2 * 86400] {
            let error = #expect(throws: EvidenceError.self) {
                try CertificateChain.verify(chain.certificates, anchors: anchors, at: time, what: "test", cache: cache)
            }
            #expect(error?.reason == .expired)
        }
    }

    @Test func aDroppedAnchorEndsTheHit() throws {
        let cache = VerifiedChainCache(capacity: 16)
        let chain = try Self.chain()
        try CertificateChain.verify(chain.certificates, anchors: [chain.root.certificate], at: Self.now, what: "test", cache: cache)
        let other = try Self.chain()
        #expect(throws: EvidenceError.self) {
            try CertificateChain.verify(chain.certificates, anchors: [other.root.certificate], at: Self.now, what: "test", cache: cache)
        }
    }

    @Test func aRevokedCertificateIsRefusedAfterAPass() throws {
        let cache = VerifiedChainCache(capacity: 16)
        let chain = try Self.chain()
        let issuer = chain.intermediate
        let clean = try RevocationList(
            TestChain.revocationList(by: issuer, revoking: [], thisUpdate: Self.now - 60, nextUpdate: Self.now + 86400))
        try clean.check(chain.leaf.certificate, issuer: issuer.certificate, at: Self.now, what: "test", cache: cache)
        try clean.check(chain.leaf.certificate, issuer: issuer.certificate, at: Self.now, what: "test", cache: cache)
        let revoking = try RevocationList(
            TestChain.revocationList(
                by: issuer, revoking: [chain.leaf.certificate], thisUpdate: Self.now - 30, nextUpdate: Self.now + 86400))
        for _ in 0..<2 {
            let error = #expect(throws: EvidenceError.self) {
                try revoking.check(chain.leaf.certificate, issuer: issuer.certificate, at: Self.now, what: "test", cache: cache)
            }
            #expect(error?.reason == .revoked)
        }
        // The clean CRL's pass ends at its nextUpdate.
        let stale = #expect(throws: EvidenceError.self) {
            try clean.check(chain.leaf.certificate, issuer: issuer.certificate, at: Self.now + 2 * 86400, what: "test", cache: cache)
        }
        #expect(stale?.reason == .expired)
    }

    @Test func theCacheIsBounded() {
        let cache = VerifiedChainCache(capacity: 3)
        let keys = (0..<5).map { VerifiedChainCache.Key("test", [[UInt8($0)]]) }
        for key in keys { cache.insert(key, validFrom: .distantPast, validUntil: .distantFuture) }
        #expect(cache.count == 3)
        #expect(!cache.contains(keys[0], at: Self.now))
        #expect(!cache.contains(keys[1], at: Self.now))
        #expect(keys[2...].allSatisfy { cache.contains($0, at: Self.now) })
        // Replacing a key does not let its stale place in the order evict a newer entry.
        cache.insert(keys[2], validFrom: .distantPast, validUntil: .distantFuture)
        cache.insert(VerifiedChainCache.Key("test", [[9]]), validFrom: .distantPast, validUntil: .distantFuture)
        #expect(cache.count == 3)
        #expect(!cache.contains(keys[3], at: Self.now))
        #expect(cache.contains(keys[2], at: Self.now))
    }
}
