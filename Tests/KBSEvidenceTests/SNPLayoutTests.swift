import Foundation
import KBSClaims
import Testing

@testable import KBSEvidence

/// Report layouts no fixture covers — version 5, Turin's TCB bytes — and CRL handling, at the parser level.
struct SNPLayoutTests {
    /// The Genoa fixture JSON turned into a Turin v5 report: CPUID family 0x1A, an FMC SPL in every TCB, mitigation
    /// vectors set.
    func turinJSON() throws -> [UInt8] {
        let json = try EvidenceFixtures.bytes("snp/trustee-as-e2e-evidence.json")
        var root = try JSONSerialization.jsonObject(with: Data(json)) as! [String: Any]
        var report = root["attestation_report"] as! [String: Any]
        report["version"] = 5
        report["cpuid_fam_id"] = 0x1A
        report["cpuid_mod_id"] = 0x02
        report["launch_mit_vector"] = 3
        report["current_mit_vector"] = 7
        for name in ["current_tcb", "reported_tcb", "committed_tcb", "launch_tcb"] {
            var tcb = report[name] as! [String: Any]
            tcb["fmc"] = 6
            report[name] = tcb
        }
        root["attestation_report"] = report
        return Array(try JSONSerialization.data(withJSONObject: root))
    }

    @Test func turinVersion5PacksAndDecodes() throws {
        let packed = try SNPTrusteeEvidence(try turinJSON()).report
        // Turin TCB_VERSION: [fmc, bl, tee, snp, 0, 0, 0, ucode].
        #expect(Array(packed[0x180..<0x188]) == [6, 10, 0, 23, 0, 0, 0, 25])
        #expect(Array(packed[0x1F8..<0x200]) == [3, 0, 0, 0, 0, 0, 0, 0])
        let report = try SNPReport(packed)
        #expect(report.version == 5)
        #expect(report.cpuidProduct == .turin)
        #expect(report.reportedTCB(.turin) == SNPTCB(bootloader: 10, tee: 0, snp: 23, microcode: 25, fmc: 6))
        #expect(report.mitigationVectors?.launch == 3)
        #expect(report.mitigationVectors?.current == 7)
        let details = SNPClaims.details(report: report, product: .turin, vekProductName: nil)
        #expect(details["product"] == .string("Turin"))
        #expect(details.value(at: "reported_tcb.fmc") == .int(6))
        #expect(details["launch_mit_vector"] == .int(3))
        #expect(details["cpuid_fam_id"] == .int(0x1A))
        #expect(SNPRobustnessTests.conforms(details, SNPClaims.schema.record))
    }

    @Test func turinWithoutFMCIsMalformedJSON() throws {
        var root = try JSONSerialization.jsonObject(with: Data(try turinJSON())) as! [String: Any]
        var report = root["attestation_report"] as! [String: Any]
        var tcb = report["launch_tcb"] as! [String: Any]
        tcb["fmc"] = NSNull()
        report["launch_tcb"] = tcb
        root["attestation_report"] = report
        #expect(throws: EvidenceError.self) { try SNPTrusteeEvidence(Array(try JSONSerialization.data(withJSONObject: root))) }
    }

    @Test func turinReportAsksKDSForEightByteHWIDWithFMC() async throws {
        let packed = try SNPTrusteeEvidence(try turinJSON()).report
        let chip = Hex.encode(packed[0x1A0..<0x1A8])
        let expected = CollateralRequest(
            service: .amdKDS, path: "vcek/v1/Turin/\(chip)?fmcSPL=6&blSPL=10&teeSPL=0&snpSPL=23&ucodeSPL=25", item: .certificate)
        let source = SNPVerifierTests.OneFileCollateral(expected: expected, bytes: [1, 2, 3])
        var context = try EvidenceFixtures.context(at: "2026-01-01T00:00:00Z", anchors: ["snp/trustee-turin_ask_ark_asvk.pem"])
        context.collateral = source
        let error = await evidenceError { () async throws(EvidenceError) -> VerifiedEvidence in
            try await SNPVerifier().verify(packed, context: context)
        }
        // The request is right; the served bytes are no certificate.
        #expect(source.asked == [expected])
        #expect(error?.reason == .collateral)
    }

    @Test func unrelatedCRLsAndFilesAmongEndorsementsAreIgnored() async throws {
        let context = try EvidenceFixtures.context(
            at: "2024-06-01T00:00:00Z",
            endorsements: [
                "snp/trustee-test-vcek.der", "tdx/go-tdx-guest-pckcrl", "tdx/go-tdx-guest-rootcrl.der", "other/trustee-tpm_evidence.json",
            ],
            anchors: ["snp/trustee-milan_ask_ark_asvk.pem"])
        let report = try EvidenceFixtures.bytes("snp/trustee-test-report.bin")
        let error = await evidenceError { () async throws(EvidenceError) -> VerifiedEvidence in
            try await SNPVerifier().verify(report, context: context)
        }
        #expect(error == nil)
    }

    /// A CRL naming ARK-Milan as issuer but signed by another key (made with `openssl ca -gencrl` for this test).
    static let forgedARKCRL = """
        -----BEGIN X509 CRL-----
        MIIBFjCBvAIBATAKBggqhkjOPQQDAjB7MRQwEgYDVQQLDAtFbmdpbmVlcmluZzEL
        MAkGA1UEBhMCVVMxFDASBgNVBAcMC1NhbnRhIENsYXJhMQswCQYDVQQIDAJDQTEf
        MB0GA1UECgwWQWR2YW5jZWQgTWljcm8gRGV2aWNlczESMBAGA1UEAwwJQVJLLU1p
        bGFuFw0yNjExMjcxMjMyMjJaGA8yMTI2MTEwMzEyMzIyMlqgDjAMMAoGA1UdFAQD
        AgEBMAoGCCqGSM49BAMCA0kAMEYCIQCk+jZFLhw1KKBzvCY32iEr2P5oPBEF7yL/
        jXuMEaDYvAIhAPONUc977OS7f8q8627sUF8oDyGpRp0LPpWVaj8cgB/7
        -----END X509 CRL-----
        """

    @Test func crlClaimingTheARKMustBeSignedByIt() async throws {
        let crl = try RevocationList(Array(Self.forgedARKCRL.utf8))
        let ark = try Certificate.parseAll(try EvidenceFixtures.bytes("snp/trustee-milan_ask_ark_asvk.pem"))[1]
        #expect(crl.issuer == ark.subject)
        var context = try EvidenceFixtures.context(
            at: "2024-06-01T00:00:00Z", endorsements: ["snp/trustee-test-vcek.der"], anchors: ["snp/trustee-milan_ask_ark_asvk.pem"])
        context.endorsements.append(EvidenceFile(name: "forged.crl", bytes: Array(Self.forgedARKCRL.utf8)))
        let report = try EvidenceFixtures.bytes("snp/trustee-test-report.bin")
        let error = await evidenceError { () async throws(EvidenceError) -> VerifiedEvidence in
            try await SNPVerifier().verify(report, context: context)
        }
        #expect(error?.reason == .collateral)
    }
}
