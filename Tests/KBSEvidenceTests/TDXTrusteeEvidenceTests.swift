import Foundation
import KBSClaims
import Testing

@testable import KBSEvidence

/// Trustee's TDX evidence JSON (`{"quote", "cc_eventlog"}`), as its attestation agent sends it over RCAR: the same
/// verdicts as the raw quote, and the event log carried inside replays like one handed over beside it.
struct TDXTrusteeEvidenceTests {
    static func trusteeJSON(quote: [UInt8], eventLog: [UInt8]? = nil) -> [UInt8] {
        var object: [String: Any] = ["quote": Data(quote).base64EncodedString()]
        object["cc_eventlog"] = eventLog.map { Data($0).base64EncodedString() } ?? NSNull()
        return Array((try? JSONSerialization.data(withJSONObject: object)) ?? Data())
    }

    @Test func theJSONFormVerifiesLikeTheRawQuote() async throws {
        let quote = try EvidenceFixtures.bytes("tdx/trustee-tdx_quote_4.dat")
        let context = try DCAP.context(
            at: "2023-07-01T00:00:00Z", endorsements: [DCAP.signingChain, DCAP.tcbInfo2023, DCAP.qeIdentity2023])
        let raw = try await DCAP.verify(quote, kind: .tdx, context)
        let wrapped = try await DCAP.verify(Self.trusteeJSON(quote: quote), kind: .tdx, context)
        #expect(wrapped.details == raw.details)
        #expect(wrapped.tcbStatus == "UpToDate" && wrapped.measurement == raw.measurement && wrapped.reportData == raw.reportData)
    }

    @Test func theEventLogInsideReplays() async throws {
        let quote = try EvidenceFixtures.bytes("tdx/go-tdx-guest-ccel-cos-113-tdx-quote.dat")
        let log = try EvidenceFixtures.bytes("tdx/go-tdx-guest-ccel-ccel_data.dat")
        let context = try DCAP.context(at: "2024-08-01T00:00:00Z")
        let result = try await DCAP.verify(Self.trusteeJSON(quote: quote, eventLog: log), kind: .tdx, context)
        #expect(DCAP.bool(result.details["rtmr_replayed"]) == true)
        var tampered = log
        tampered[0x60] ^= 0x01
        await DCAP.expectRefusal(Self.trusteeJSON(quote: quote, eventLog: tampered), kind: .tdx, context, .measurement)
    }

    @Test(arguments: [
        #"{"quote": 5}"#, #"{"quote": "not base64!"}"#, #"{"quote": ""}"#, #"{"cc_eventlog": null}"#, #"[1]"#,
        #"{"quote": "AAAA", "cc_eventlog": 7}"#, #"{"quote": "AAAA", "cc_eventlog": "%%%"}"#, #"{"quote": "AAAA""#,
    ])
    func malformedJSONIsRefused(_ text: String) async throws {
        await DCAP.expectRefusal(Array(text.utf8), kind: .tdx, try DCAP.context(at: "2023-07-01T00:00:00Z"), .malformed)
    }
}
