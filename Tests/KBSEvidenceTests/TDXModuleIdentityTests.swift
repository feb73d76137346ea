import Foundation
import KBSClaims
import Testing

@testable import KBSEvidence

/// The TDX module identity, as Intel's QVL checks it: TEE_TCB_SVN[1] (the module's major version) 0 compares
/// MRSIGNERSEAM and SEAMATTRIBUTES with TCB info's `tdxModule`, a higher version with `tdxModuleIdentities` `TDX_<nn>`.
struct TDXModuleIdentityTests {
    static let quote4 = "tdx/trustee-tdx_quote_4.dat"

    static func info(_ relative: String, replacing: String? = nil, with replacement: String = "") throws -> DCAPTCBInfo {
        var text = String(decoding: try EvidenceFixtures.bytes(relative), as: UTF8.self)
        if let replacing { text = text.replacingOccurrences(of: replacing, with: replacement) }
        return try DCAPTCBInfo(try #require(try SignedCollateral.parse(Array(text.utf8), member: "tcbInfo", name: relative)))
    }

    static func body(_ relative: String) throws -> TDReportBody {
        guard case .td(let body) = try DCAPQuote(try EvidenceFixtures.bytes(relative)).body else { throw EvidenceError(.malformed, "not TD") }
        return body
    }

    /// The real v4 quote (module major version 0) matches the 2023 TCB info's `tdxModule` and verifies end to end.
    @Test func versionZeroModuleMatchesTdxModule() async throws {
        let body = try Self.body(Self.quote4)
        #expect(body.teeTCBSVN[1] == 0)
        #expect(try DCAPTCBEvaluation.moduleLevel(try Self.info(DCAP.tcbInfo2023), body: body) == nil)
        let context = try DCAP.context(at: "2023-07-01T00:00:00Z", endorsements: [DCAP.signingChain, DCAP.tcbInfo2023])
        let result = try await DCAP.verify(try EvidenceFixtures.bytes(Self.quote4), kind: .tdx, context)
        #expect(result.tcbStatus == "UpToDate")
    }

    /// The same quote with one MRSIGNERSEAM or SEAMATTRIBUTES bit flipped is another module: refused. (The quote
    /// cannot be re-signed, so the comparison is called directly.)
    @Test func versionZeroModuleMismatchIsRefused() throws {
        let info = try Self.info(DCAP.tcbInfo2023)
        let original = try Self.body(Self.quote4)
        for (offset, field) in [(64, "MRSIGNERSEAM"), (111, "MRSIGNERSEAM"), (112, "SEAMATTRIBUTES"), (119, "SEAMATTRIBUTES")] {
            var body = original
            body.raw[offset] ^= 0x01
            let error = #expect(throws: EvidenceError.self) { try DCAPTCBEvaluation.moduleLevel(info, body: body) }
            #expect(error?.reason == .tcb, "byte \(offset)")
            #expect(error?.message.contains(field) == true, "\(error?.message ?? "accepted")")
        }
    }

    /// TDX TCB info without `tdxModule` cannot vouch for a version 0 module.
    @Test func versionZeroModuleNeedsTdxModule() throws {
        let info = try Self.info(DCAP.tcbInfo2023, replacing: "\"tdxModule\"", with: "\"tdxModuleRenamed\"")
        let error = #expect(throws: EvidenceError.self) {
            try DCAPTCBEvaluation.moduleLevel(info, body: try Self.body(Self.quote4))
        }
        #expect(error?.reason == .collateral)
    }

    /// A module major version above 0 is checked against its `TDX_<nn>` identity instead.
    @Test func laterModuleMatchesItsIdentity() throws {
        let info = try Self.info(DCAP.tcbInfoV5)
        let original = try Self.body("tdx/go-tdx-guest-quote_v5_sample.dat")
        #expect(original.teeTCBSVN[1] > 0)
        #expect(try DCAPTCBEvaluation.moduleLevel(info, body: original)?.tcbStatus == "UpToDate")
        var body = original
        body.raw[70] ^= 0x80
        let error = #expect(throws: EvidenceError.self) { try DCAPTCBEvaluation.moduleLevel(info, body: body) }
        #expect(error?.message.contains("MRSIGNERSEAM") == true)
    }
}
