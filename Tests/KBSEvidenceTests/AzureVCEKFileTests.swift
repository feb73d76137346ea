import Foundation
import KBSClaims
import KBSEvidence
import Testing

/// The two standalone VCEK files beside the Azure evidence: valid chains to AMD's roots (SOURCES.md).
struct AzureVCEKFileTests {
    /// The Genoa VCEK chains to ARK-Genoa through SEV-Genoa, and is the one the Genoa CVM's evidence carries.
    @Test func genoaVCEKChainsToTheGenoaARKAndMatchesTheEvidence() throws {
        let vcek = try Certificate.parseAll(try EvidenceFixtures.bytes("az-vtpm/trustee-az-snp-vtpm-vcek-genoa.pem"))
        #expect(vcek.count == 1)
        #expect(vcek.first?.commonName == "SEV-VCEK")
        let bundle = try Certificate.parseAll(try EvidenceFixtures.bytes("snp/trustee-genoa_ask_ark_asvk.pem"))
        let anchor = try CertificateChain.verify(
            [vcek[0], bundle[0]], anchors: [bundle[1]],
            at: EvidenceFixtures.time("2026-01-01T00:00:00Z"), what: "Genoa VCEK")
        #expect(anchor.commonName == "ARK-Genoa")
        let evidence = try JSONNode.parse(try EvidenceFixtures.bytes("az-vtpm/trustee-az-snp-vtpm-evidence-genoa.json"))
        let embedded = try Certificate.parseAll(Array(try #require(evidence["vcek"]?.stringValue).utf8))
        #expect(embedded.first?.der == vcek[0].der)
    }

    /// The Milan file holds VCEK, SEV-Milan and ARK-Milan: a whole chain ending at the pinned ARK; the wrong
    /// product's root refuses it.
    @Test func milanVCEKFileIsAWholeChain() throws {
        let chain = try Certificate.parseAll(try EvidenceFixtures.bytes("az-vtpm/trustee-az-snp-vtpm-vcek.pem"))
        #expect(chain.map(\.commonName) == ["SEV-VCEK", "SEV-Milan", "ARK-Milan"])
        let milan = try Certificate.parseAll(try EvidenceFixtures.bytes("snp/trustee-milan_ask_ark_asvk.pem"))
        let at = EvidenceFixtures.time("2025-06-01T00:00:00Z")
        #expect(try CertificateChain.verify(chain, anchors: [milan[1]], at: at, what: "Milan VCEK").commonName == "ARK-Milan")
        let genoa = try Certificate.parseAll(try EvidenceFixtures.bytes("snp/trustee-genoa_ask_ark_asvk.pem"))
        #expect(throws: EvidenceError.self) { try CertificateChain.verify(chain, anchors: [genoa[1]], at: at, what: "Milan VCEK") }
    }
}
