package import KBSClaims

/// Verifies Azure confidential VMs on AMD SEV-SNP through their paravisor's vTPM (`az-snp-vtpm`).
///
/// The vTPM quote must be signed by `HCLAkPub` from the HCL report's runtime claims, its PCR values must hash to the
/// quoted digest and its nonce must equal the expected report data (exactly; v2 evidence also carries it in
/// `user-data`). The SNP report inside the HCL report is verified by the `snp` verifier with the VCEK the evidence
/// ships (plus any endorsements given) against the AMD ASK/ARK trust anchors, must come from VMPL 0 (the paravisor),
/// and its report data must start with SHA-256 of the runtime claims.
package struct AzureSNPvTPMVerifier: EvidenceVerifier {
    package let kind = EvidenceKind.azSNPvTPM

    /// Verifies the hardware report: the registry's `snp` verifier, or a stand-in a test supplies.
    let hardwareVerifier: AzureVTPM.HardwareVerifier

    /// Creates the verifier.
    package init() {
        hardwareVerifier = { evidence, context throws(EvidenceError) in
            try await EvidenceVerifiers.verify(evidence, kind: .snp, context: context)
        }
    }

    /// A verifier that checks the hardware report with `hardwareVerifier` (tests).
    init(hardwareVerifier: @escaping AzureVTPM.HardwareVerifier) {
        self.hardwareVerifier = hardwareVerifier
    }

    package var schema: ClaimSchema {
        AzureVTPM.schema(
            typeName: "AzSNPvTPMClaims", summary: "Azure SEV-SNP confidential VM: paravisor vTPM quote bound to an SNP report",
            hardwareKey: "snp", hardware: .snp)
    }

    package func verify(_ evidence: [UInt8], context: VerificationContext) async throws(EvidenceError) -> VerifiedEvidence {
        let parsed = try AzureVTPMEvidence.snp(evidence)
        let checked = try AzureVTPM.checkQuote(parsed, expecting: .snp, context: context, kind: kind)
        let vcek = parsed.vcek.map { [EvidenceFile(name: "vcek (from the evidence)", bytes: $0)] } ?? []
        let report = checked.hcl.hardwareReport
        let hardware = try await hardwareVerifier(report, AzureVTPM.hardwareContext(context, endorsements: vcek))
        try Self.checkVMPL(report)
        try AzureVTPM.checkVarDataBinding(checked.hcl, hardwareReportData: hardware.reportData)
        return VerifiedEvidence(
            kind: kind, measurement: hardware.measurement, debug: hardware.debug, tcbSVN: hardware.tcbSVN,
            reportData: checked.quote.attest.extraData, hostData: hardware.hostData, tcbStatus: hardware.tcbStatus,
            revocationChecked: hardware.revocationChecked,
            details: AzureVTPM.details(checked, hardwareKey: "snp", hardware: hardware.details))
    }

    /// Only the paravisor at VMPL 0 can write var_data into the report; a report requested from a lower VMPL would
    /// let the guest choose the runtime claims, so it binds nothing.
    static func checkVMPL(_ report: [UInt8]) throws(EvidenceError) {
        guard report.count >= 0x34 else { throw EvidenceError(.malformed, "SNP report is too short for its VMPL") }
        let vmpl = ByteReader.littleEndian(report, at: 0x30, count: 4)
        guard vmpl == 0 else {
            throw EvidenceError(.binding, "the SNP report was requested at VMPL \(vmpl), not by the paravisor at VMPL 0")
        }
    }
}
