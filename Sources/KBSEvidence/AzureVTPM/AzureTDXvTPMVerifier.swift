package import KBSClaims

/// Verifies Azure confidential VMs on Intel TDX through their paravisor's vTPM (`az-tdx-vtpm`).
///
/// The vTPM quote must be signed by `HCLAkPub` from the HCL report's runtime claims, its PCR values must hash to the
/// quoted digest and its nonce must equal the expected report data (exactly). The TD quote the evidence ships is
/// verified by the `tdx` verifier (signatures and PCK chain to the Intel SGX root among the trust anchors); its
/// report data must start with SHA-256 of the runtime claims and equal the report data of the TD report inside the
/// HCL report.
package struct AzureTDXvTPMVerifier: EvidenceVerifier {
    package let kind = EvidenceKind.azTDXvTPM

    /// `REPORTMACSTRUCT.REPORTDATA` inside a TDREPORT.
    static let tdReportDataRange = 128..<192

    /// Verifies the hardware report: the registry's `tdx` verifier, or a stand-in a test supplies.
    let hardwareVerifier: AzureVTPM.HardwareVerifier

    /// Creates the verifier.
    package init() {
        hardwareVerifier = { evidence, context throws(EvidenceError) in
            try await EvidenceVerifiers.verify(evidence, kind: .tdx, context: context)
        }
    }

    /// A verifier that checks the hardware report with `hardwareVerifier` (tests).
    init(hardwareVerifier: @escaping AzureVTPM.HardwareVerifier) {
        self.hardwareVerifier = hardwareVerifier
    }

    package var schema: ClaimSchema {
        AzureVTPM.schema(
            typeName: "AzTDXvTPMClaims", summary: "Azure TDX confidential VM: paravisor vTPM quote bound to a TD quote",
            hardwareKey: "tdx", hardware: .tdx)
    }

    package func verify(_ evidence: [UInt8], context: VerificationContext) async throws(EvidenceError) -> VerifiedEvidence {
        let parsed = try AzureVTPMEvidence.tdx(evidence)
        let checked = try AzureVTPM.checkQuote(parsed, expecting: .tdx, context: context, kind: kind)
        guard let tdQuote = parsed.tdQuote else { throw EvidenceError(.malformed, "az-tdx-vtpm evidence has no TD quote") }
        let hardware = try await hardwareVerifier(tdQuote, AzureVTPM.hardwareContext(context, endorsements: []))
        try AzureVTPM.checkVarDataBinding(checked.hcl, hardwareReportData: hardware.reportData)
        try Self.checkTDReport(checked.hcl.hardwareReport, quoteReportData: hardware.reportData)
        return VerifiedEvidence(
            kind: kind, measurement: hardware.measurement, debug: hardware.debug, tcbSVN: hardware.tcbSVN,
            reportData: checked.quote.attest.extraData, hostData: hardware.hostData, tcbStatus: hardware.tcbStatus,
            revocationChecked: hardware.revocationChecked,
            details: AzureVTPM.details(checked, hardwareKey: "tdx", hardware: hardware.details))
    }

    /// The TD report in the HCL report is what the TD quote was made from: their report data must agree.
    static func checkTDReport(_ tdReport: [UInt8], quoteReportData: [UInt8]?) throws(EvidenceError) {
        guard tdReport.count >= tdReportDataRange.upperBound else { throw EvidenceError(.malformed, "TD report is too short") }
        let reportData = Array(tdReport[tdReportDataRange])
        guard reportData == quoteReportData else {
            throw EvidenceError(.binding, "the HCL's TD report data \(Hex.encode(reportData)) differs from the TD quote's")
        }
    }
}
