import Foundation
import KBSClaims
import Testing

@testable import KBSEvidence

/// Intel SGX quotes against the fixtures' verdicts (SOURCES.md, sgx/).
struct SGXVerifierTests {
    let occlum = "sgx/trustee-occlum_quote.dat"

    /// Occlum's v3 quote: quote and QE signatures, key binding and PCK chain verify; a DEBUG enclave.
    @Test func occlumQuoteVerifies() async throws {
        let result = try await DCAP.verify(try EvidenceFixtures.bytes(occlum), kind: .sgx, try DCAP.context(at: "2023-07-01T00:00:00Z"))
        #expect(result.kind == .sgx)
        #expect(result.debug)
        #expect(result.tcbStatus == nil)
        #expect(Hex.encode(result.measurement).hasPrefix("8f173e46"))
        #expect(Hex.encode(result.measurement).hasSuffix("53011c68"))
        let details = result.details
        #expect(DCAP.hex(details["mrsigner"])?.hasPrefix("83d719e7") == true)
        #expect(DCAP.hex(details["mrsigner"])?.hasSuffix("08c7ce9e") == true)
        #expect(DCAP.int(details["isvprodid"]) == 0)
        #expect(DCAP.int(details["isvsvn"]) == 0)
        #expect(DCAP.int(details["qe_svn"]) == 8)
        #expect(DCAP.int(details["quote_version"]) == 3)
        #expect(DCAP.hex(details["fmspc"]) == "00606a000000")
        #expect(result.reportData == Array("test".utf8) + [UInt8](repeating: 0, count: 60))
        #expect(result.tcbSVN == 0)
        DCAP.expectMatches(details, SGXVerifier().schema.record)
        DCAP.expectMatches(result.claims, EvidenceSchemas.all[0].record)

        var bound = try DCAP.context(at: "2023-07-01T00:00:00Z")
        bound.expectedReportData = Array("test".utf8)
        _ = try await DCAP.verify(try EvidenceFixtures.bytes(occlum), kind: .sgx, bound)
        bound.expectedReportData = Array("nope".utf8)
        await DCAP.expectRefusal(try EvidenceFixtures.bytes(occlum), kind: .sgx, bound, .binding)
    }

    /// TDX collateral (FMSPC 50806f000000) does not apply to this SGX platform.
    @Test func foreignCollateralIsRefused() async throws {
        let context = try DCAP.context(at: "2023-07-01T00:00:00Z", endorsements: [DCAP.signingChain, DCAP.tcbInfo2023])
        await DCAP.expectRefusal(try EvidenceFixtures.bytes(occlum), kind: .sgx, context, .collateral)
        // A TD_QE identity is not the SGX QE's.
        let qe = try DCAP.context(at: "2023-07-01T00:00:00Z", endorsements: [DCAP.signingChain, DCAP.qeIdentity2023])
        await DCAP.expectRefusal(try EvidenceFixtures.bytes(occlum), kind: .sgx, qe, .collateral)
    }

    @Test func byteFlipsAreRefused() async throws {
        let quote = try EvidenceFixtures.bytes(occlum)
        let context = try DCAP.context(at: "2023-07-01T00:00:00Z")
        try await DCAP.expectFlipsRefused(quote, kind: .sgx, context)
    }

    @Test func malformedInput() async throws {
        let quote = try EvidenceFixtures.bytes(occlum)
        let context = try DCAP.context(at: "2023-07-01T00:00:00Z")
        let end = try DCAPQuote(quote).signatureDataRange.upperBound
        for length in [0, 2, 47, 48, 431, 432, 436, 500, 900, 1200, end - 1] {
            await DCAP.expectRefusal(Array(quote.prefix(length)), kind: .sgx, context, .malformed)
        }
        // Trailing bytes after the signature data are ignored.
        _ = try await DCAP.verify(quote + [UInt8](repeating: 0, count: 100), kind: .sgx, context)
    }
}
