package import KBSClaims

/// Why a proof, a verification key or public signals were refused: the one error type of `KBSZK`.
package typealias ZKError = CodedError<ZKErrorReason>

/// The stable reason codes.
package enum ZKErrorReason: String, Sendable, CaseIterable {
    /// Not snarkjs's JSON shape: not JSON, a member missing or of the wrong type, a number that is not decimal.
    case malformed
    /// A protocol or curve other than Groth16 on BN254 (snarkjs's `bn128`).
    case unsupported
    /// A coordinate or signal out of its field, a point off its curve or outside the prime-order subgroup, the point
    /// at infinity where a proof cannot have one.
    case invalidPoint = "invalid_point"
    /// The number of public signals does not match the verification key.
    case signalCount = "signal_count"
    /// The proof does not verify for these signals under this key.
    case proof
}
