import KBSClaims

/// The checks both Azure vTPM kinds share: everything but the hardware report, which the SNP or TDX verifier checks.
enum AzureVTPM {
    /// Checks a hardware report (SNP report, TD quote) in a context.
    typealias HardwareVerifier = @Sendable (_ evidence: [UInt8], _ context: VerificationContext) async throws(EvidenceError) -> VerifiedEvidence

    /// What passed before the hardware report is checked.
    struct Checked {
        var evidence: AzureVTPMEvidence
        var hcl: HCLReport
        var runtime: AzureRuntimeClaims
        var quote: TPMCheckedQuote
    }

    /// Parses the HCL report and its runtime claims, verifies the TPM quote under `HCLAkPub` (signature, PCR digest),
    /// checks the quote's nonce against the expected report data and, from v2 on, that `user-data` starts with it.
    static func checkQuote(
        _ evidence: AzureVTPMEvidence, expecting reportType: HCLReport.ReportType, context: VerificationContext, kind: EvidenceKind
    ) throws(EvidenceError) -> Checked {
        let hcl = try HCLReport(evidence.hclReport)
        guard hcl.reportType == reportType else {
            throw EvidenceError(
                .unsupported, "\(kind.rawValue) evidence holds an HCL report of type \(hcl.reportType.rawValue), not \(reportType.rawValue)")
        }
        let runtime = try AzureRuntimeClaims(hcl.varData)
        let attest = try evidence.quote.verify(key: runtime.attestationKey, what: "vTPM quote")
        try context.checkReportData(attest.extraData, kind: kind)
        if evidence.version >= 2 { try checkUserData(runtime.userData, nonce: attest.extraData) }
        let quote = TPMCheckedQuote(attest: attest, pcrs: evidence.quote.pcrs, akPublic: runtime.akPublic)
        return Checked(evidence: evidence, hcl: hcl, runtime: runtime, quote: quote)
    }

    /// v2 evidence: the paravisor copied the report data into `user-data` (padded), so the hardware report binds
    /// it too, not only the vTPM quote.
    static func checkUserData(_ userData: [UInt8]?, nonce: [UInt8]) throws(EvidenceError) {
        guard let userData else {
            throw EvidenceError(.binding, "v2 evidence has no `user-data` in the HCL runtime claims")
        }
        guard nonce.count <= userData.count, Array(userData.prefix(nonce.count)) == nonce else {
            throw EvidenceError(.binding, "HCL `user-data` \(Hex.encode(userData)) does not start with the quote nonce \(Hex.encode(nonce))")
        }
    }

    /// Throws `binding` unless the verified hardware report data starts with SHA-256(var_data): what ties the AK
    /// (and so the quote) to the TEE.
    static func checkVarDataBinding(_ hcl: HCLReport, hardwareReportData: [UInt8]?) throws(EvidenceError) {
        let digest = hcl.varDataDigest
        guard let reportData = hardwareReportData, reportData.count >= digest.count else {
            throw EvidenceError(.binding, "the hardware verifier returned no report data to bind the HCL runtime claims")
        }
        guard Array(reportData.prefix(digest.count)) == digest else {
            throw EvidenceError(.binding, "hardware report data \(Hex.encode(reportData.prefix(32))) is not SHA-256(var_data) \(Hex.encode(digest))")
        }
    }

    /// The context the hardware verifier runs in: same time, anchors and collateral; `endorsements` first, then the
    /// caller's; no expected report data (the binding is to var_data, checked here).
    static func hardwareContext(_ context: VerificationContext, endorsements: [EvidenceFile]) -> VerificationContext {
        var sub = VerificationContext(
            time: context.time, endorsements: endorsements + context.endorsements, trustAnchors: context.trustAnchors,
            expectedReportData: nil, collateral: context.collateral, allowSimulator: false)
        sub.ignoresCollateralSignerExpiry = context.ignoresCollateralSignerExpiry
        return sub
    }

    /// The kind's schema: the quote's claims, the HCL's, and the hardware verifier's own record under `hardwareKey`.
    static func schema(typeName: String, summary: String, hardwareKey: String, hardware: EvidenceKind) -> ClaimSchema {
        let hardwareRecord = (try? EvidenceVerifiers.verifier(for: hardware))?.schema.record ?? RecordType(fields: [])
        return ClaimSchema(
            typeName: typeName, summary: summary,
            fields: TPMClaims.quoteFields + [
                .init("vm_configuration", .record(AzureRuntimeClaims.configurationType), doc: "the HCL runtime claims' vm-configuration"),
                .init("user_data", .hex, optional: true, doc: "the HCL runtime claims' user-data (the report data, from evidence v2)"),
                .init("var_data_digest", .hex, doc: "SHA-256 of the HCL runtime claims, the first half of the hardware report data"),
                .init("hcl_report_type", .int, doc: "the HCL hardware report type: 2 SNP, 4 TDX"),
                .init("evidence_version", .int, doc: "the attester's evidence format version (0, 1, 2)"),
                .init(
                    hardwareKey, .record(hardwareRecord), optional: true,
                    doc: "the \(hardware.rawValue) verifier's own claims about the hardware report"),
            ])
    }

    /// The kind's details; `hardware` is the hardware verifier's details record.
    static func details(_ checked: Checked, hardwareKey: String, hardware: ClaimRecord?) -> ClaimRecord {
        var record = TPMClaims.record(checked.quote)
        record["vm_configuration"] = .record(checked.runtime.vmConfiguration)
        if let userData = checked.runtime.userData { record["user_data"] = .hex(userData) }
        record["var_data_digest"] = .hex(checked.hcl.varDataDigest)
        record["hcl_report_type"] = .int(Int64(checked.hcl.reportType.rawValue))
        record["evidence_version"] = .int(Int64(checked.evidence.version))
        if let hardware { record[hardwareKey] = .record(hardware) }
        return record
    }
}
