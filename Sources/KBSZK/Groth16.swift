import KBSClaims

/// A Groth16 verification key (snarkjs's `verification_key.json`), checked when read: every point on its curve, the
/// G2 points in the prime-order subgroup. e(α, β) is computed once here, so a verification runs three Miller loops.
package struct Groth16VerificationKey: Sendable {
    let alpha: G1
    let beta: G2
    let gamma: G2
    let delta: G2
    let ic: [G1]
    let alphaBeta: Fp12

    /// Most public inputs accepted.
    package static let maximumPublicInputs = 1024

    /// How many public signals a proof under this key has.
    package var publicInputCount: Int { ic.count - 1 }

    /// Reads snarkjs's `verification_key.json`.
    package init(snarkjs bytes: [UInt8]) throws(ZKError) {
        let root = try SnarkJSFormat.document(bytes, "the verification key")
        try SnarkJSFormat.requireGroth16(root, "the verification key")
        alpha = try SnarkJSFormat.g1(root["vk_alpha_1"], "vk_alpha_1")
        beta = try SnarkJSFormat.g2(root["vk_beta_2"], "vk_beta_2")
        gamma = try SnarkJSFormat.g2(root["vk_gamma_2"], "vk_gamma_2")
        delta = try SnarkJSFormat.g2(root["vk_delta_2"], "vk_delta_2")
        let points = try SnarkJSFormat.array(root["IC"], "IC")
        guard (1...(Self.maximumPublicInputs + 1)).contains(points.count) else {
            throw ZKError(.malformed, "`IC` must hold 1 to \(Self.maximumPublicInputs + 1) points")
        }
        var ic: [G1] = []
        for (index, point) in points.enumerated() { ic.append(try SnarkJSFormat.g1(point, "IC[\(index)]")) }
        self.ic = ic
        if let count = root["nPublic"] {
            guard count.integer == Int64(ic.count - 1) else {
                throw ZKError(.malformed, "`nPublic` does not match `IC`, which holds \(ic.count) points")
            }
        }
        alphaBeta = Pairing.product([(alpha, beta)])
    }
}

/// A Groth16 proof (snarkjs's `proof.json`): A and C in G1, B in G2's subgroup, none the point at infinity.
package struct Groth16Proof: Sendable {
    let a: G1
    let b: G2
    let c: G1

    /// Reads snarkjs's `proof.json`.
    package init(snarkjs bytes: [UInt8]) throws(ZKError) {
        let root = try SnarkJSFormat.document(bytes, "the proof")
        try SnarkJSFormat.requireGroth16(root, "the proof")
        a = try SnarkJSFormat.g1(root["pi_a"], "pi_a")
        b = try SnarkJSFormat.g2(root["pi_b"], "pi_b")
        c = try SnarkJSFormat.g1(root["pi_c"], "pi_c")
    }
}

/// Groth16 verification over BN254.
package enum Groth16 {
    /// The public signals of snarkjs's `public.json`: a list of decimal strings, each below the group order r.
    package static func publicSignals(snarkjs bytes: [UInt8]) throws(ZKError) -> [String] {
        let root = try SnarkJSFormat.document(bytes, "the public signals")
        let items = try SnarkJSFormat.array(root, "public signals")
        guard items.count <= Groth16VerificationKey.maximumPublicInputs else { throw ZKError(.signalCount, "too many public signals") }
        var signals: [String] = []
        for (index, item) in items.enumerated() {
            let value = try SnarkJSFormat.integer(item, "public signal \(index)")
            guard value.isLess(than: BN254.order) else { throw ZKError(.invalidPoint, "public signal \(index) is not below the group order") }
            signals.append(value.decimal)
        }
        return signals
    }

    /// Verifies `proof` for `signals` (decimal strings below r) under `key`: e(A, B) = e(α, β)·e(Σ sᵢ·ICᵢ, γ)·e(C, δ),
    /// checked as one product of Miller loops and one final exponentiation.
    package static func verify(_ proof: Groth16Proof, signals: [String], key: Groth16VerificationKey) throws(ZKError) {
        guard signals.count == key.publicInputCount else {
            throw ZKError(.signalCount, "the key takes \(key.publicInputCount) public signals, not \(signals.count)")
        }
        var accumulator = key.ic[0].jacobian
        for (index, text) in signals.enumerated() {
            guard let value = UInt256(decimal: text), value.isLess(than: BN254.order) else {
                throw ZKError(.invalidPoint, "public signal \(index) is not a decimal below the group order")
            }
            accumulator = accumulator + key.ic[index + 1].jacobian.multiplied(by: value)
        }
        let inputs = accumulator.affine
        var f = Pairing.millerLoop(proof.a.negated, proof.b)
        if !inputs.isInfinity { f = f * Pairing.millerLoop(inputs, key.gamma) }
        f = f * Pairing.millerLoop(proof.c, key.delta)
        guard Pairing.finalExponentiation(f) * key.alphaBeta == .one else {
            throw ZKError(.proof, "the proof does not verify for these public signals")
        }
    }
}
