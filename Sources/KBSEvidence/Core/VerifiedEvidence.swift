package import KBSClaims

/// Evidence that passed its verifier: the normalised `Attestation` claims plus the kind's own record.
///
/// Only verifiers in `KBSEvidence` create one (the initialiser is internal), so holding a value is proof that every
/// signature, chain and binding check passed for the context it was verified in.
package struct VerifiedEvidence: Sendable {
    /// The kind of evidence.
    package let kind: EvidenceKind
    /// The workload's launch measurement (SNP MEASUREMENT, TDX MRTD, SGX MRENCLAVE, CCA RIM, the GPU's FWID, a TPM's
    /// PCR digest).
    package let measurement: [UInt8]
    /// Whether the TEE lets the host read its memory.
    package let debug: Bool
    /// The kind's headline TCB security version (documented per kind in docs/evidence.md).
    package let tcbSVN: Int64
    /// The report-data field as reported.
    package let reportData: [UInt8]?
    /// Host-provided launch data (SNP HOST_DATA, TDX MRCONFIGID, CCA personalization value).
    package let hostData: [UInt8]?
    /// The vendor's TCB status where collateral gave one (UpToDate, OutOfDate, …).
    package let tcbStatus: String?
    /// Whether vendor CRLs covered the certificate chain behind the evidence (SNP: the ARK's CRL for the ASK/ASVK;
    /// TDX and SGX: the root CA's and the intermediate CA's CRLs for both PCK-chain links); nil for kinds without one.
    package let revocationChecked: Bool?
    /// The kind's own claims, shaped by its verifier's ``EvidenceVerifier/schema``.
    package let details: ClaimRecord

    init(
        kind: EvidenceKind, measurement: [UInt8], debug: Bool, tcbSVN: Int64, reportData: [UInt8]?,
        hostData: [UInt8]? = nil, tcbStatus: String? = nil, revocationChecked: Bool? = nil, details: ClaimRecord
    ) {
        self.kind = kind
        self.measurement = measurement
        self.debug = debug
        self.tcbSVN = tcbSVN
        self.reportData = reportData
        self.hostData = hostData
        self.tcbStatus = tcbStatus
        self.revocationChecked = revocationChecked
        self.details = details
    }

    /// The whole `Attestation` record as policies read it.
    package var claims: ClaimRecord {
        var record = ClaimRecord()
        record["kind"] = .string(kind.rawValue)
        record["measurement"] = .hex(measurement)
        record["debug"] = .bool(debug)
        record["tcb_svn"] = .int(tcbSVN)
        if let reportData { record["report_data"] = .hex(reportData) }
        if let hostData { record["host_data"] = .hex(hostData) }
        if let tcbStatus { record["tcb_status"] = .string(tcbStatus) }
        if let revocationChecked { record["revocation_checked"] = .bool(revocationChecked) }
        record[kind.claimKey] = .record(details)
        return record
    }

    /// The claims as one JSON object (what `kbs evidence verify` prints).
    package var json: String { ClaimValue.record(claims).json }
}
