import Foundation

/// The kinds of attestation evidence `KBSEvidence` verifies.
public enum EvidenceKind: String, Sendable, CaseIterable, Hashable {
    case snp
    case tdx
    case sgx
    case nvidia
    case cca
    case azSNPvTPM = "az-snp-vtpm"
    case azTDXvTPM = "az-tdx-vtpm"
    case tpm
    /// Evidence from `kbs tee simulate`'s own minimal report, trusted only when the context allows the simulator.
    case sim

    /// The member of `Attestation` that holds this kind's own claims (`attestation.az_snp_vtpm.pcrs`): policy
    /// names cannot hold a dash.
    public var claimKey: String { rawValue.replacingOccurrences(of: "-", with: "_") }

    /// How `HASH(JCS(runtime-data))` is fitted into this kind's report-data field (research §2.3).
    public var reportDataFit: ReportDataFit {
        switch self {
        case .snp, .tdx, .sgx, .cca, .sim: .pad(64)
        case .nvidia: .truncate(32)
        case .azSNPvTPM, .azTDXvTPM, .tpm: .exact
        }
    }
}
