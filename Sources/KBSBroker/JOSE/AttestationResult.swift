import KBSClaims

/// The AR4SI appraisal an attestation token carries (draft-ietf-rats-ar4si): the trustworthiness vector and the
/// `ear.status` derived from it, computed from the claims that were verified and the tier the rules gave them.
///
/// Claim values follow AR4SI's tiers: 0 no claim, 2–31 affirming, 32–95 warning, 96–127 contraindicated.
/// - `hardware`: 2 for a genuine TEE (a CPU TEE, or a TPM under a pinned attestation key) that reached tier 2 or
///   more, 32 when its TCB status is known to be other than UpToDate, 96 for a debuggable CPU TEE, else 0 (no claim:
///   simulated evidence, an unpinned TPM key, a GPU without a CPU TEE, or a TEE the tier rules kept below 2).
/// - `runtime-opaque`: for a CPU TEE, 2 (memory encrypted) unless it is debuggable, 96 (memory visible to the host).
///
/// `ear.status` is `contraindicated` when any claim is, `affirming` only when the tier is 2 or more, `hardware` is
/// 2, no claim is a warning and a tier of 3 or more has a GPU behind it; else `warning`.
struct AttestationResult: Equatable {
    /// `affirming`, `warning` or `contraindicated`.
    let status: String
    /// The trustworthiness vector, AR4SI claim name to value.
    let vector: [String: Int]

    /// Evidence kinds that are CPU TEEs: the host cannot read their memory unless they are debuggable.
    static let cpuTEEKinds: Set<String> = ["snp", "tdx", "sgx", "cca", "az-snp-vtpm", "az-tdx-vtpm"]

    /// The appraisal of primary evidence of `kind` with verified `claims` (an `Attestation` object), the verified
    /// `devices` beside it, at `tier`.
    init(kind: String, claims: ClaimRecord, devices: [ClaimRecord], tier: Int) {
        // A claim missing from verified evidence counts against it: only what was verified may affirm.
        let debug: Bool
        if case .bool(let value)? = claims["debug"] { debug = value } else { debug = true }
        var vector: [String: Int] = [:]
        if Self.cpuTEEKinds.contains(kind) {
            vector["runtime-opaque"] = debug ? 96 : 2
            if debug {
                vector["hardware"] = 96
            } else if tier < 2 {
                vector["hardware"] = 0
            } else if case .string(let status)? = claims["tcb_status"], status != "UpToDate" {
                vector["hardware"] = 32
            } else {
                vector["hardware"] = 2
            }
        } else if kind == "tpm", tier >= 2, claims.value(at: "tpm.ak_pinned") == .bool(true) {
            vector["hardware"] = 2
        } else {
            vector["hardware"] = 0
        }
        let hasGPU = devices.contains { $0["kind"] == .string("nvidia") }
        if vector.values.contains(where: { $0 >= 96 }) {
            status = "contraindicated"
        } else if tier >= 2, vector["hardware"] == 2, !vector.values.contains(where: { $0 >= 32 }), tier < 3 || hasGPU {
            status = "affirming"
        } else {
            status = "warning"
        }
        self.vector = vector
    }
}
