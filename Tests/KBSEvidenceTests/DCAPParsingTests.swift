import Foundation
@testable import KBSEvidence
import Testing

/// The DER reader and PCK extension parser on real and hostile input.
@Suite(EvidenceFixtures.needed)
struct DCAPParsingTests {
    @Test func pckExtensionOfQuote4() throws {
        let quote = try DCAPQuote(try EvidenceFixtures.bytes("tdx/trustee-tdx_quote_4.dat"))
        let leaf = try Certificate.parseAll(quote.pckChainPEM)[0]
        let pck = try PCKExtension(der: try #require(try leaf.extensionValue(PCKExtension.oid)))
        #expect(Hex.encode(pck.fmspc) == "50806f000000")
        #expect(pck.pceSVN == 11)
        #expect(pck.pceID == [0, 0])
        #expect(pck.sgxComponents.count == 16)
        #expect(pck.cpuSVN.count == 16)
    }

    /// Every truncation and many byte flips of a real extension give an error or a value, never a trap.
    @Test func pckExtensionNeverTraps() throws {
        let quote = try DCAPQuote(try EvidenceFixtures.bytes("tdx/trustee-tdx_quote_6.dat"))
        let leaf = try Certificate.parseAll(quote.pckChainPEM)[0]
        let der = try #require(try leaf.extensionValue(PCKExtension.oid))
        #expect(try PCKExtension(der: der).sgxType == 2)
        for length in 0..<der.count { _ = try? PCKExtension(der: Array(der.prefix(length))) }
        for position in der.indices {
            var flipped = der
            flipped[position] ^= 0xFF
            _ = try? PCKExtension(der: flipped)
        }
        #expect(throws: EvidenceError.self) { try PCKExtension(der: [0x30, 0x84, 0xFF, 0xFF, 0xFF, 0xFF]) }
        #expect(throws: EvidenceError.self) { try PCKExtension(der: [0x30, 0x80, 0x00, 0x00]) }
        #expect(throws: EvidenceError.self) { try PCKExtension(der: [0x1F, 0x01, 0x00]) }
    }

    @Test func oidText() throws {
        #expect(try DERReader.oid([0x2A, 0x86, 0x48, 0x86, 0xF8, 0x4D, 0x01, 0x0D, 0x01][...], what: "t") == "1.2.840.113741.1.13.1")
        #expect(throws: EvidenceError.self) { try DERReader.oid([0x86][...], what: "t") }
        #expect(throws: EvidenceError.self) { try DERReader.oid([UInt8](repeating: 0xFF, count: 20)[...] + [0x01], what: "t") }
        #expect(try DERReader.unsigned([0x00, 0xFF][...], what: "t") == 255)
        #expect(throws: EvidenceError.self) { try DERReader.unsigned([0xFF][...], what: "t") }
    }

    /// The signed region of a v4 quote is header ‖ body: bytes 0..<632; of the v5 TD 1.5 sample, 0..<702.
    @Test func signedRegions() throws {
        #expect(try DCAPQuote(try EvidenceFixtures.bytes("tdx/trustee-tdx_quote_4.dat")).signedRegion.count == 632)
        #expect(try DCAPQuote(try EvidenceFixtures.bytes("tdx/go-tdx-guest-quote_v5_sample.dat")).signedRegion.count == 702)
        #expect(try DCAPQuote(try EvidenceFixtures.bytes("sgx/trustee-occlum_quote.dat")).signedRegion.count == 432)
    }
}
