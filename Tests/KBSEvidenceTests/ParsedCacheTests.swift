import Crypto
import Foundation
import KBSClaims
import Testing

@testable import KBSEvidence

/// Issue 18 item 1: endorsements parsed once per distinct bytes (``ParsedCache``) — a VEK's extensions, Intel
/// collateral, a PCK's SGX extension, an NVIDIA leaf's FWID — and nothing a full check would refuse is let through
/// by it: a changed byte, a time outside the window, another anchor.
@Suite struct ParsedCacheTests {
    struct Marker: Error {}

    @Test func aValueIsParsedOncePerDistinctBytes() throws {
        let cache = ParsedCache<Int>(capacity: 4)
        var parses = 0
        func value(_ bytes: [UInt8]) throws(EvidenceError) -> Int {
            try cache.value(of: bytes, domain: "test") { () throws(EvidenceError) in
                parses += 1
                return bytes.count
            }
        }
        #expect(try value([1, 2, 3]) == 3)
        #expect(try value([1, 2, 3]) == 3)
        #expect(parses == 1)
        // One changed byte is other bytes: parsed anew.
        #expect(try value([1, 2, 4]) == 3)
        #expect(parses == 2)
        // The same bytes under another domain are another value.
        _ = try cache.value(of: [1, 2, 3], domain: "other") { () throws(EvidenceError) in 0 }
        #expect(cache.count == 3)
    }

    @Test func aFailureIsNotRemembered() throws {
        let cache = ParsedCache<Int>(capacity: 4)
        var parses = 0
        for _ in 0..<2 {
            #expect(throws: EvidenceError.self) {
                try cache.value(of: [9], domain: "test") { () throws(EvidenceError) -> Int in
                    parses += 1
                    throw EvidenceError(.malformed, "no")
                }
            }
        }
        #expect(parses == 2)
        #expect(cache.count == 0)
    }

    @Test func theCacheStaysBoundedDroppingTheOldest() throws {
        let cache = ParsedCache<Int>(capacity: 3)
        for index in 0..<50 {
            _ = try cache.value(of: [UInt8(index)], domain: "test") { () throws(EvidenceError) in index }
            #expect(cache.count <= 3)
        }
        #expect(cache.count == 3)
        var parsed = false
        // The newest is held; the oldest was dropped and is parsed again.
        _ = try cache.value(of: [49], domain: "test") { () throws(EvidenceError) in
            parsed = true
            return 0
        }
        #expect(!parsed)
        _ = try cache.value(of: [0], domain: "test") { () throws(EvidenceError) in
            parsed = true
            return 0
        }
        #expect(parsed)
    }

    // MARK: Intel collateral

    static let quote4 = "tdx/trustee-tdx_quote_4.dat"
    static let collateral = [DCAP.tcbInfo2023, DCAP.qeIdentity2023, DCAP.signingChain]

    /// Collateral parsed (and its signature checked) at a time in its window is still refused once `nextUpdate` has
    /// passed, and a changed byte in it is still refused.
    @Test func cachedIntelCollateralIsStillRefusedOutOfWindowOrChanged() async throws {
        let quote = try EvidenceFixtures.bytes(Self.quote4)
        let context = try DCAP.context(at: "2023-07-01T00:00:00Z", endorsements: Self.collateral)
        for _ in 0..<2 {
            let result = try await DCAP.verify(quote, kind: .tdx, context)
            #expect(result.tcbStatus == "UpToDate")
        }
        let stale = try DCAP.context(at: "2023-08-01T00:00:00Z", endorsements: Self.collateral)
        await DCAP.expectRefusal(quote, kind: .tdx, stale, .expired)

        let text = String(decoding: try EvidenceFixtures.bytes(DCAP.tcbInfo2023), as: UTF8.self)
        let tampered = Array(text.replacingOccurrences(of: "\"tcbEvaluationDataNumber\":15", with: "\"tcbEvaluationDataNumber\":16").utf8)
        var changed = context
        changed.endorsements[0] = EvidenceFile(name: "tampered", bytes: tampered)
        await DCAP.expectRefusal(quote, kind: .tdx, changed, .signature)
        // And the original is still good after the tampered copy was seen.
        #expect(try await DCAP.verify(quote, kind: .tdx, context).tcbStatus == "UpToDate")
    }

    /// Cached collateral does not stand in for the trust anchor: with another vendor's roots the quote is refused.
    @Test func cachedIntelCollateralNeedsTheAnchor() async throws {
        let quote = try EvidenceFixtures.bytes(Self.quote4)
        _ = try await DCAP.verify(quote, kind: .tdx, try DCAP.context(at: "2023-07-01T00:00:00Z", endorsements: Self.collateral))
        let other = try DCAP.context(
            at: "2023-07-01T00:00:00Z", endorsements: Self.collateral, anchors: ["snp/trustee-milan_ask_ark_asvk.pem"])
        await DCAP.expectRefusal(quote, kind: .tdx, other, .chain)
    }

    /// The parsed TCB info is served for the same bytes only; the name is the current file's.
    @Test func parsedCollateralKeepsTheCallersName() throws {
        let bytes = try EvidenceFixtures.bytes(DCAP.tcbInfo2023)
        let first = try DCAPEndorsements([EvidenceFile(name: "first", bytes: bytes)])
        let second = try DCAPEndorsements([EvidenceFile(name: "second", bytes: bytes)])
        #expect(first.tcbInfos.map(\.name) == ["first"])
        #expect(second.tcbInfos.map(\.name) == ["second"])
        #expect(try DCAPTCBInfo.of(second.tcbInfos[0]).collateral.name == "second")
    }

    // MARK: SEV-SNP VEK

    static let snpReport = "snp/trustee-test-report.bin"
    static let vcek = "snp/trustee-test-vcek.der"
    static let milan = "snp/trustee-milan_ask_ark_asvk.pem"

    static func snp(at time: String, vek: [UInt8]? = nil, anchors: [String] = [milan]) throws -> VerificationContext {
        var context = try EvidenceFixtures.context(at: time, endorsements: [vcek], anchors: anchors)
        if let vek { context.endorsements = [EvidenceFile(name: "vek", bytes: vek)] }
        return context
    }

    static func snpError(_ context: VerificationContext) async throws -> EvidenceError? {
        let report = try EvidenceFixtures.bytes(snpReport)
        return await evidenceError { () async throws(EvidenceError) -> VerifiedEvidence in
            try await EvidenceVerifiers.verify(report, kind: .snp, context: context)
        }
    }

    /// A VEK read once is still refused outside its validity window, with a changed byte, and under another anchor.
    @Test func aCachedVEKIsStillRefusedWhenAFullCheckWouldBe() async throws {
        for _ in 0..<2 {
            let error = try await Self.snpError(try Self.snp(at: "2024-06-01T00:00:00Z"))
            #expect(error == nil, "\(error.map(\.description) ?? "")")
        }
        let late = try await Self.snpError(try Self.snp(at: "2031-01-01T00:00:00Z"))
        #expect(late?.reason == .expired)
        let otherAnchor = try await Self.snpError(try Self.snp(at: "2024-06-01T00:00:00Z", anchors: ["snp/trustee-genoa_ask_ark_asvk.pem"]))
        #expect(otherAnchor != nil)
        var vek = try EvidenceFixtures.bytes(Self.vcek)
        // A byte of the signature value at the end: the same names and extensions, a certificate the ASK never signed.
        vek[vek.count - 8] ^= 0x01
        let changed = try await Self.snpError(try Self.snp(at: "2024-06-01T00:00:00Z", vek: vek))
        #expect(changed != nil)
        let again = try await Self.snpError(try Self.snp(at: "2024-06-01T00:00:00Z"))
        #expect(again == nil)
    }

    @Test func vekExtensionsAreReadOncePerCertificate() throws {
        let vek = try Certificate(der: try EvidenceFixtures.bytes(Self.vcek))
        let first = try SNPVEKExtensions.of(vek)
        let again = try SNPVEKExtensions.of(try Certificate(der: vek.der))
        #expect(first.hwID == again.hwID)
        #expect(first.productName == again.productName)
        #expect(SNPVEKExtensions.cache.count <= SNPVEKExtensions.cache.capacity)
    }

    // MARK: NVIDIA RIM

    /// A RIM whose signature verified is still refused before its chain's window, under another anchor, and with a
    /// changed byte.
    @Test func aCachedRIMIsStillRefusedWhenAFullCheckWouldBe() throws {
        let xml = try EvidenceFixtures.bytes("nvidia-gpu/nvtrust-VBIOS_RIM_1010_0200_882_96005E0001_PROD.swidtag")
        let rimRoot = try Certificate.parseAll(try EvidenceFixtures.bytes("nvidia-gpu/nvtrust-verifier_RIM_root.pem"))
        let deviceRoot = try Certificate.parseAll(try EvidenceFixtures.bytes("nvidia-gpu/trustee-nvidia_device_root.pem"))
        let at = EvidenceFixtures.time("2025-06-01T00:00:00Z")
        let first = try NVIDIARIM.verify(xml: xml, anchors: rimRoot, at: at)
        let again = try NVIDIARIM.verify(xml: xml, anchors: rimRoot, at: at)
        #expect(first.measurements == again.measurements)
        let early = #expect(throws: EvidenceError.self) {
            try NVIDIARIM.verify(xml: xml, anchors: rimRoot, at: EvidenceFixtures.time("2000-01-01T00:00:00Z"))
        }
        #expect(early?.reason == .expired)
        #expect(throws: EvidenceError.self) { try NVIDIARIM.verify(xml: xml, anchors: deviceRoot, at: at) }
        // A changed hash value: the same document otherwise, no longer the one that was signed.
        let text = String(decoding: xml, as: UTF8.self)
        guard let range = text.range(of: "Hash0=\"") else {
            Issue.record("no Hash0 in the RIM")
            return
        }
        var changed = text
        let digit = changed.index(range.upperBound, offsetBy: 3)
        let replacement: String = changed[digit] == "0" ? "1" : "0"
        changed.replaceSubrange(digit...digit, with: replacement)
        let refused = #expect(throws: EvidenceError.self) { try NVIDIARIM.verify(xml: Array(changed.utf8), anchors: rimRoot, at: at) }
        #expect(refused?.reason == .signature)
        #expect(NVIDIARIM.signedDocuments.count <= NVIDIARIM.signedDocuments.capacity)
    }

    // MARK: Certificates

    /// A certificate's names and key are read once and equal what a fresh parse reads.
    @Test func aCertificatesRememberedFactsMatchAFreshRead() throws {
        let bytes = try EvidenceFixtures.bytes(Self.vcek)
        let certificate = try Certificate(der: bytes)
        let spki = certificate.subjectPublicKeyInfo
        #expect(certificate.subjectPublicKeyInfo == spki)
        #expect(certificate.p384PublicKey?.derRepresentation == ECDSA.p384Key(spki)?.derRepresentation)
        #expect(certificate.p256PublicKey == nil)
        #expect(certificate.subject == (try Certificate(der: bytes)).subject)
    }

    /// The same bytes in another array parse to the same certificates; other bytes do not hit.
    @Test func parsedCertificatesFollowTheBytesNotTheArray() throws {
        let cache = ParsedCertificateCache(capacity: 8)
        let pem = try EvidenceFixtures.bytes(Self.milan)
        let first = try cache.certificates(in: pem, parse: Certificate.parseAllUncached)
        var copy = pem
        copy.append(0x0A)
        copy.removeLast()
        #expect(try cache.certificates(in: copy, parse: Certificate.parseAllUncached).map(\.fingerprint) == first.map(\.fingerprint))
        let other = try EvidenceFixtures.bytes("snp/trustee-genoa_ask_ark_asvk.pem")
        #expect(try cache.certificates(in: other, parse: Certificate.parseAllUncached).map(\.fingerprint) != first.map(\.fingerprint))
        #expect(throws: EvidenceError.self) { try cache.certificates(in: [0x30, 0x00], parse: Certificate.parseAllUncached) }
    }
}
