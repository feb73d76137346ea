import Foundation

/// The kinds of attestation evidence `KBSEvidence` verifies; the tier rules and the broker name them too.
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
}
