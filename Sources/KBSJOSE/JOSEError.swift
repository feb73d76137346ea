package import KBSClaims

/// Why a JOSE object or key was refused: the one error type of `KBSJOSE`.
///
/// The reasons are a subset of `KBSIdentity`'s codes with the same spelling, so the identity verifiers pass them on
/// unchanged; the broker turns them into its own wire codes. `message` never quotes a whole token or key.
package typealias JOSEError = CodedError<JOSEErrorReason>

/// The stable reason codes.
package enum JOSEErrorReason: String, Sendable, CaseIterable {
    /// Not the shape RFC 7515/7517 describe: bad base64url, not JSON, a member of the wrong type.
    case malformed
    /// An algorithm that is not allowed here, or that does not fit the key.
    case algorithm
    /// The header tries to bring its own key (`jwk`, `jku`, `x5u`, `x5c`).
    case untrustedKey = "untrusted_key"
    /// An RSA modulus under 2048 bits.
    case weakKey = "weak_key"
    /// Private material, a point off its curve, coordinates of the wrong size.
    case invalidKey = "invalid_key"
    /// A key type or curve this target does not handle.
    case unsupported
    /// The signature does not verify.
    case signature
    /// A secp256k1 signature in its high-s form.
    case malleable
    /// `crit` names extensions nobody here understands.
    case critical
    /// Encryption or signing failed inside the cryptography library.
    case failed
}
