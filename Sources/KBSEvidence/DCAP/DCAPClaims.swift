import KBSClaims

/// The claims TDX and SGX share: what the PCK certificate and Intel's collateral say about the platform.
enum DCAPClaims {
    static var platformFields: [RecordType.Field] {
        [
            .init("fmspc", .hex, doc: "platform family (PCK SGX extension), 6 bytes"),
            .init("pce_id", .hex, doc: "PCE identifier (PCK SGX extension), 2 bytes"),
            .init("pce_svn", .int, doc: "PCE security version the PCK certificate was issued for"),
            .init("cpu_svn", .hex, doc: "CPUSVN the PCK certificate was issued for, 16 bytes"),
            .init("sgx_tcb_components", .list(.int), doc: "the 16 SGX TCB component SVNs of the PCK certificate"),
            .init("pck_sgx_type", .int, optional: true, doc: "PCK SGX type: 0 standard, 1 scalable, 2 scalable with integrity"),
            .init("qe_svn", .int, doc: "Quoting Enclave ISVSVN"),
            .init("tcb_status", .string, optional: true, doc: "Intel TCB status (UpToDate, OutOfDate, …) when TCB info was at hand"),
            .init("platform_tcb_status", .string, optional: true, doc: "the matched platform TCB level's own status, before QE/module convergence"),
            .init("qe_tcb_status", .string, optional: true, doc: "QE TCB status when QE identity collateral was at hand"),
            .init("tcb_date", .time, optional: true, doc: "tcbDate of the matched platform TCB level"),
            .init("tcb_evaluation_data_number", .int, optional: true, doc: "tcbEvaluationDataNumber of the TCB info used"),
            .init("qe_vendor_id", .hex, doc: "QE vendor ID from the quote header (Intel: 939a7233f79c4ca9940a0db3957f0607)"),
            .init("advisory_ids", .list(.string), optional: true, doc: "Intel security advisories of the matched levels"),
        ]
    }

    static func platform(_ outcome: DCAPVerification.Outcome, into record: inout ClaimRecord) {
        record["fmspc"] = .hex(outcome.pck.fmspc)
        record["pce_id"] = .hex(outcome.pck.pceID)
        record["pce_svn"] = .int(outcome.pck.pceSVN)
        record["cpu_svn"] = .hex(outcome.pck.cpuSVN)
        record["sgx_tcb_components"] = .list(outcome.pck.sgxComponents.map { .int($0) })
        if let type = outcome.pck.sgxType { record["pck_sgx_type"] = .int(type) }
        record["qe_svn"] = .int(Int64(outcome.qeReport.isvSVN))
        record["qe_vendor_id"] = .hex(outcome.quote.qeVendorID)
        if let tcb = outcome.tcb {
            record["tcb_status"] = .string(tcb.status)
            record["platform_tcb_status"] = .string(tcb.platformLevel.tcbStatus)
            if let number = tcb.evaluationDataNumber { record["tcb_evaluation_data_number"] = .int(number) }
            if let date = tcb.platformLevel.tcbDate { record["tcb_date"] = .time(date) }
            record["advisory_ids"] = .list(Array(Set(tcb.advisoryIDs)).sorted().map { .string($0) })
        }
        if let qe = outcome.qeLevel { record["qe_tcb_status"] = .string(qe.tcbStatus) }
    }
}
