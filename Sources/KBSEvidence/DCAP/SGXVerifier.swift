package import KBSClaims

/// Verifies Intel SGX DCAP quotes (v3, and v4/v5 with an SGX body).
///
/// Evidence is the raw quote; endorsements and anchors as for ``TDXVerifier`` (SGX TCB info has id `SGX`, the QE
/// identity id `QE`). `measurement` is MRENCLAVE, `tcbSVN` the enclave's ISVSVN.
package struct SGXVerifier: EvidenceVerifier {
    package init() {}

    package var kind: EvidenceKind { .sgx }

    package var schema: ClaimSchema {
        ClaimSchema(
            typeName: "SGXClaims", summary: "Intel SGX enclave quote (DCAP) and its TCB evaluation",
            fields: [
                .init("quote_version", .int, doc: "DCAP quote version: 3, 4 or 5"),
                .init("mrenclave", .hex, doc: "MRENCLAVE: the enclave's measurement"),
                .init("mrsigner", .hex, doc: "MRSIGNER: hash of the enclave signer's key"),
                .init("isvprodid", .int, doc: "ISVPRODID"),
                .init("isvsvn", .int, doc: "ISVSVN"),
                .init("attributes", .hex, doc: "ATTRIBUTES, 16 bytes (flags then XFRM)"),
                .init("miscselect", .int, doc: "MISCSELECT"),
                .init("enclave_cpu_svn", .hex, doc: "CPUSVN in the enclave report"),
                .init("config_id", .hex, doc: "CONFIGID, 64 bytes"),
                .init("config_svn", .int, doc: "CONFIGSVN"),
                .init("report_data", .hex, doc: "REPORTDATA, 64 bytes"),
                .init("debug", .bool, doc: "ATTRIBUTES.FLAGS DEBUG (bit 1)"),
                .init("mode64bit", .bool, doc: "ATTRIBUTES.FLAGS MODE64BIT (bit 2)"),
            ] + DCAPClaims.platformFields)
    }

    package func verify(_ evidence: [UInt8], context: VerificationContext) async throws(EvidenceError) -> VerifiedEvidence {
        let outcome = try await DCAPVerification.verify(evidence, kind: .sgx, context: context)
        guard case .sgx(let body) = outcome.quote.body else { throw EvidenceError(.unsupported, "not an SGX quote") }
        try context.checkReportData(body.reportData, kind: .sgx)
        var record = ClaimRecord()
        record["quote_version"] = .int(Int64(outcome.quote.version))
        record["mrenclave"] = .hex(body.mrEnclave)
        record["mrsigner"] = .hex(body.mrSigner)
        record["isvprodid"] = .int(Int64(body.isvProdID))
        record["isvsvn"] = .int(Int64(body.isvSVN))
        record["attributes"] = .hex(body.attributes)
        record["miscselect"] = .int(Int64(body.miscSelect))
        record["enclave_cpu_svn"] = .hex(body.cpuSVN)
        record["config_id"] = .hex(body.configID)
        record["config_svn"] = .int(Int64(body.configSVN))
        record["report_data"] = .hex(body.reportData)
        record["debug"] = .bool(body.debug)
        record["mode64bit"] = .bool(body.attributes[0] & 0x04 != 0)
        DCAPClaims.platform(outcome, into: &record)
        return VerifiedEvidence(
            kind: .sgx, measurement: body.mrEnclave, debug: body.debug, tcbSVN: Int64(body.isvSVN),
            reportData: body.reportData, hostData: nil, tcbStatus: outcome.tcb?.status,
            revocationChecked: outcome.revocationChecked, details: record)
    }
}
