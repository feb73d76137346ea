package import KBSClaims

/// Verifies Intel TDX DCAP quotes (v4, and v5 with TD 1.0 or TD 1.5 bodies).
///
/// Evidence is the raw quote, or Trustee's JSON form (``TDXTrusteeEvidence``). Endorsements (recognised by content): the TCB Signing chain PEM, TDX TCB info and
/// TD_QE identity JSON as PCS serves them, PCK/root CRLs (DER or PEM), a CC event log (CCEL) and its ACPI table.
/// Trust anchors: the Intel SGX Root CA. Without TCB collateral the quote still verifies (signatures, PCK chain)
/// and `tcbStatus` is nil. `tcbSVN` is TEE_TCB_SVN[0], the TDX module's minor SVN.
package struct TDXVerifier: EvidenceVerifier {
    package init() {}

    package var kind: EvidenceKind { .tdx }

    package var schema: ClaimSchema {
        ClaimSchema(
            typeName: "TDXClaims", summary: "Intel TDX quote (DCAP v4/v5) and its TCB evaluation",
            fields: [
                .init("quote_version", .int, doc: "DCAP quote version: 4 or 5"),
                .init("tee_tcb_svn", .hex, doc: "TEE_TCB_SVN, 16 bytes: [0] module minor SVN, [1] module major version, [2] late microcode"),
                .init("tee_tcb_svn2", .hex, optional: true, doc: "TEE_TCB_SVN2 (TD 1.5 bodies)"),
                .init("mr_seam", .hex, doc: "measurement of the TDX module"),
                .init("mr_signer_seam", .hex, doc: "signer of the TDX module (zero for Intel's)"),
                .init("seam_attributes", .hex, doc: "SEAM attributes, 8 bytes"),
                .init("td_attributes", .hex, doc: "TD attributes, 8 bytes little-endian (bit 0 DEBUG)"),
                .init("xfam", .hex, doc: "extended features allowed, 8 bytes"),
                .init("mr_td", .hex, doc: "MRTD: the TD's initial measurement"),
                .init("mr_config_id", .hex, doc: "MRCONFIGID: host-provided configuration (init-data hash)"),
                .init("mr_owner", .hex, doc: "MROWNER"),
                .init("mr_owner_config", .hex, doc: "MROWNERCONFIG"),
                .init("rtmr0", .hex, doc: "RTMR0 (firmware)"),
                .init("rtmr1", .hex, doc: "RTMR1 (OS loader, kernel)"),
                .init("rtmr2", .hex, doc: "RTMR2 (OS, command line, initrd)"),
                .init("rtmr3", .hex, doc: "RTMR3 (runtime)"),
                .init("mr_servicetd", .hex, optional: true, doc: "MRSERVICETD (TD 1.5 bodies)"),
                .init("report_data", .hex, doc: "REPORTDATA, 64 bytes"),
                .init("debug", .bool, doc: "TD attribute DEBUG (bit 0)"),
                .init("sept_ve_disable", .bool, doc: "TD attribute SEPT_VE_DISABLE (bit 28)"),
                .init("pks", .bool, doc: "TD attribute PKS (bit 30)"),
                .init("kl", .bool, doc: "TD attribute KL, key locker (bit 31)"),
                .init("perfmon", .bool, doc: "TD attribute PERFMON (bit 63)"),
                .init("module_tcb_status", .string, optional: true, doc: "TDX module identity TCB status (TEE_TCB_SVN[1] > 0)"),
                .init("rtmr_replayed", .bool, doc: "whether a CC event log was replayed and matched RTMR0…3"),
            ] + DCAPClaims.platformFields)
    }

    package func verify(_ evidence: [UInt8], context: VerificationContext) async throws(EvidenceError) -> VerifiedEvidence {
        // Trustee's attestation agent sends `{"quote": base64, "cc_eventlog": base64}`; others the raw quote.
        var quote = evidence
        var context = context
        if SNPTrusteeEvidence.looksLikeJSON(evidence) {
            let parsed = try TDXTrusteeEvidence(evidence)
            quote = parsed.quote
            if let log = parsed.eventLog { context.endorsements.append(EvidenceFile(name: "cc_eventlog", bytes: log)) }
        }
        let outcome = try await DCAPVerification.verify(quote, kind: .tdx, context: context)
        guard case .td(let body) = outcome.quote.body else { throw EvidenceError(.unsupported, "not a TD quote") }
        try context.checkReportData(body.reportData, kind: .tdx)
        let bits = body.tdAttributeBits
        var record = ClaimRecord()
        record["quote_version"] = .int(Int64(outcome.quote.version))
        record["tee_tcb_svn"] = .hex(body.teeTCBSVN)
        if let svn2 = body.teeTCBSVN2 { record["tee_tcb_svn2"] = .hex(svn2) }
        record["mr_seam"] = .hex(body.mrSeam)
        record["mr_signer_seam"] = .hex(body.mrSignerSeam)
        record["seam_attributes"] = .hex(body.seamAttributes)
        record["td_attributes"] = .hex(body.tdAttributes)
        record["xfam"] = .hex(body.xfam)
        record["mr_td"] = .hex(body.mrTD)
        record["mr_config_id"] = .hex(body.mrConfigID)
        record["mr_owner"] = .hex(body.mrOwner)
        record["mr_owner_config"] = .hex(body.mrOwnerConfig)
        for (index, rtmr) in body.rtmrs.enumerated() { record["rtmr\(index)"] = .hex(rtmr) }
        if let service = body.mrServiceTD { record["mr_servicetd"] = .hex(service) }
        record["report_data"] = .hex(body.reportData)
        record["debug"] = .bool(body.debug)
        record["sept_ve_disable"] = .bool(bits >> 28 & 1 == 1)
        record["pks"] = .bool(bits >> 30 & 1 == 1)
        record["kl"] = .bool(bits >> 31 & 1 == 1)
        record["perfmon"] = .bool(bits >> 63 & 1 == 1)
        if let module = outcome.tcb?.moduleStatus { record["module_tcb_status"] = .string(module) }
        record["rtmr_replayed"] = .bool(outcome.rtmrReplayed)
        DCAPClaims.platform(outcome, into: &record)
        return VerifiedEvidence(
            kind: .tdx, measurement: body.mrTD, debug: body.debug, tcbSVN: Int64(body.teeTCBSVN[0]),
            reportData: body.reportData, hostData: body.mrConfigID, tcbStatus: outcome.tcb?.status,
            revocationChecked: outcome.revocationChecked, details: record)
    }
}
