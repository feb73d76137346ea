import Foundation
import KBSClaims
import Testing

@testable import KBSEvidence

/// The DER reader and PCK extension parser on real and hostile input.
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

/// Intel's TCB evaluation rules on hand-made (unsigned) TCB info: level order, the TEE_TCB_SVN[0…1] skip when a
/// module identity applies, module levels, and status convergence.
struct DCAPTCBEvaluationTests {
    static func info(_ json: String) throws -> DCAPTCBInfo {
        let bytes = Array(json.utf8)
        let collateral = try #require(try SignedCollateral.parse(bytes, member: "tcbInfo", name: "test"))
        return try DCAPTCBInfo(collateral)
    }

    static func components(_ values: [Int]) -> String {
        "[" + values.map { "{\"svn\":\($0)}" }.joined(separator: ",") + "]"
    }

    static let signature = String(repeating: "00", count: 64)

    static func document(levels: [(sgx: Int, pce: Int, tdx: [Int], status: String)]) -> String {
        let levelText = levels.map { level in
            "{\"tcb\":{\"sgxtcbcomponents\":\(components(Array(repeating: level.sgx, count: 16))),\"pcesvn\":\(level.pce),"
                + "\"tdxtcbcomponents\":\(components(level.tdx + Array(repeating: 0, count: 16 - level.tdx.count)))},"
                + "\"tcbDate\":\"2024-01-01T00:00:00Z\",\"tcbStatus\":\"\(level.status)\",\"advisoryIDs\":[\"INTEL-SA-1\"]}"
        }.joined(separator: ",")
        let zeros = String(repeating: "0", count: 96)
        return """
            {"tcbInfo":{"id":"TDX","version":3,"issueDate":"2024-01-01T00:00:00Z","nextUpdate":"2024-02-01T00:00:00Z",\
            "fmspc":"00A06D080000","pceId":"0000","tcbLevels":[\(levelText)],"tdxModuleIdentities":[{"id":"TDX_01",\
            "mrsigner":"\(zeros)","attributes":"0000000000000000","attributesMask":"FFFFFFFFFFFFFFFF","tcbLevels":\
            [{"tcb":{"isvsvn":4},"tcbStatus":"UpToDate"},{"tcb":{"isvsvn":2},"tcbStatus":"OutOfDate"}]}]},"signature":"\(signature)"}
            """
    }

    @Test func levelsInOrderWithModuleSkip() throws {
        let info = try Self.info(
            Self.document(levels: [
                (sgx: 3, pce: 13, tdx: [9, 9, 3], status: "UpToDate"), (sgx: 2, pce: 11, tdx: [0, 0, 2], status: "OutOfDate"),
            ]))
        let der = try #require(
            try Certificate.parseAll(try DCAPQuote(try EvidenceFixtures.bytes("tdx/trustee-tdx_quote_4.dat")).pckChainPEM)[0]
                .extensionValue(PCKExtension.oid))
        var pck = try PCKExtension(der: der)
        pck.sgxComponents = Array(repeating: 3, count: 16)
        pck.pceSVN = 13
        // TEE_TCB_SVN[1] > 0: bytes 0 and 1 are the module's and are not compared with the platform level.
        let svn: [UInt8] = [2, 1, 3] + Array(repeating: 0, count: 13)
        #expect(try DCAPTCBEvaluation.platformLevel(info, pck: pck, teeTCBSVN: svn).tcbStatus == "UpToDate")
        // TEE_TCB_SVN[1] == 0: byte 0 counts, and 2 < 9 drops to the second level.
        let old: [UInt8] = [2, 0, 3] + Array(repeating: 0, count: 13)
        #expect(try DCAPTCBEvaluation.platformLevel(info, pck: pck, teeTCBSVN: old).tcbStatus == "OutOfDate")
        pck.pceSVN = 10
        #expect(throws: EvidenceError.self) { try DCAPTCBEvaluation.platformLevel(info, pck: pck, teeTCBSVN: svn) }
        #expect(info.moduleIdentities.first?.tcbLevels.map(\.isvSVN) == [4, 2])
    }

    @Test func convergence() {
        #expect(DCAPTCBEvaluation.converge("UpToDate", with: "UpToDate") == "UpToDate")
        #expect(DCAPTCBEvaluation.converge("UpToDate", with: "OutOfDate") == "OutOfDate")
        #expect(DCAPTCBEvaluation.converge("SWHardeningNeeded", with: "OutOfDate") == "OutOfDate")
        #expect(DCAPTCBEvaluation.converge("ConfigurationNeeded", with: "OutOfDate") == "OutOfDateConfigurationNeeded")
        #expect(DCAPTCBEvaluation.converge("OutOfDate", with: nil) == "OutOfDate")
    }

    @Test func mistypedCollateralIsMalformed() {
        #expect(throws: EvidenceError.self) { try Self.info("{\"tcbInfo\":{\"version\":3},\"signature\":\"\(Self.signature)\"}") }
        #expect(throws: EvidenceError.self) { try Self.info("{\"tcbInfo\":{\"version\":2},\"signature\":\"\(Self.signature)\"}") }
        #expect(throws: EvidenceError.self) {
            try SignedCollateral.parse(Array("{\"tcbInfo\":{},\"signature\":\"zz\"}".utf8), member: "tcbInfo", name: "t")
        }
    }
}
