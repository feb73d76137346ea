import Foundation
import KBSClaims
import KBSEvidence
import Testing

/// The OpenSSL-backed X.509 layer on real vendor certificates: RSA-PSS chains, serial 0, CRLs.
struct CertificateTests {
    /// AMD's ARK signs itself and the ASK with RSA-PSS (SHA-384, MGF1-SHA-384, salt 48); the VCEK has serial 0.
    @Test func amdMilanChainWithPSSAndSerialZero() throws {
        let bundle = try Certificate.parseAll(try EvidenceFixtures.bytes("snp/trustee-milan_ask_ark_asvk.pem"))
        #expect(bundle.map(\.commonName) == ["SEV-Milan", "ARK-Milan", "SEV-VLEK-Milan"])
        let (ask, ark) = (bundle[0], bundle[1])
        #expect(ark.isSigned(by: ark))
        #expect(ask.isSigned(by: ark))
        #expect(!ark.isSigned(by: ask))
        let vcek = try Certificate(der: try EvidenceFixtures.bytes("snp/trustee-test-vcek.der"))
        #expect(vcek.serial == [] || vcek.serial == [0])
        let anchor = try CertificateChain.verify([vcek, ask], anchors: [ark], at: EvidenceFixtures.time("2024-06-01T00:00:00Z"), what: "test")
        #expect(anchor.commonName == "ARK-Milan")
        // The same chain, at a time after the VCEK expired.
        let late = EvidenceFixtures.time("2031-01-01T00:00:00Z")
        do {
            try CertificateChain.verify([vcek, ask], anchors: [ark], at: late, what: "x")
            Issue.record("an expired VCEK verified")
        } catch {
            #expect(error.reason == .expired)
        }
    }

    /// A certificate that does not verify under the ASK is a chain error, not a crash.
    @Test func brokenLinkIsAChainError() throws {
        let bundle = try Certificate.parseAll(try EvidenceFixtures.bytes("snp/trustee-milan_ask_ark_asvk.pem"))
        let invalid = try Certificate(der: try EvidenceFixtures.bytes("snp/trustee-test-vcek-invalid-new.der"))
        do {
            try CertificateChain.verify([invalid, bundle[0]], anchors: [bundle[1]], at: EvidenceFixtures.time("2024-06-01T00:00:00Z"), what: "t")
            Issue.record("an invalid VCEK verified")
        } catch {
            #expect(error.reason == .chain || error.reason == .expired)
        }
    }

    /// Intel's PCK CRL: signed by the PCK Platform CA, current in June 2023, 44 serials.
    @Test func intelPCKRevocationList() throws {
        let crl = try RevocationList(try EvidenceFixtures.bytes("tdx/go-tdx-guest-pckcrl"))
        #expect(crl.revokedCount == 44)
        let issuers = try Certificate.parseAll(try EvidenceFixtures.bytes("tdx/extracted-go-tdx-guest-pck-crl-issuer-chain.pem"))
        #expect(crl.isSigned(by: issuers[0]))
        #expect(!crl.isSigned(by: issuers[1]))
    }

    @Test func garbageIsMalformed() {
        #expect(throws: EvidenceError.self) { try Certificate(der: [0x30, 0x03, 0x02, 0x01]) }
        #expect(throws: EvidenceError.self) { try Certificate.parseAll(Array("-----BEGIN CERTIFICATE-----\n!!\n".utf8)) }
        #expect(throws: EvidenceError.self) { try RevocationList([1, 2, 3]) }
    }
}
