package import KBSClaims

extension EvidenceKind {
    /// How `HASH(JCS(runtime-data))` is fitted into this kind's report-data field (research §2.3).
    package var reportDataFit: ReportDataFit {
        switch self {
        case .snp, .tdx, .sgx, .cca, .sim: .pad(64)
        case .nvidia: .truncate(32)
        case .azSNPvTPM, .azTDXvTPM, .tpm: .exact
        }
    }
}
