package import KBSClaims

/// Why evidence was refused: the one error type of `KBSEvidence`.
///
/// `reason` is a stable code that `kbs evidence verify` prints (`error: <reason>: <message>`) and tests assert;
/// `message` says what was wrong in words.
package typealias EvidenceError = CodedError<EvidenceErrorReason>

/// The stable reason codes.
package enum EvidenceErrorReason: String, Sendable, CaseIterable {
    /// The bytes do not parse as this kind's evidence (truncated, oversized, wrong kind, bad encoding).
    case malformed
    /// Well-formed, but a version, algorithm or variant this verifier does not handle.
    case unsupported
    /// A report, quote, token or collateral signature does not verify.
    case signature
    /// A certificate chain is broken, incomplete, or does not end at a configured trust anchor.
    case chain
    /// The report data (or nonce, or challenge) is not what the caller expected.
    case binding
    /// A certificate, CRL or collateral item is outside its validity window at the verification time.
    case expired
    /// Collateral (TCB info, QE identity, RIM, CRL) is missing, unusable, or does not match the evidence.
    case collateral
    /// A certificate on the chain is listed in a CRL.
    case revoked
    /// The TCB the certificate vouches for differs from what the report claims, or no TCB level matches.
    case tcb
    /// Measurements differ from the reference (RIM values, event-log replay).
    case measurement
    /// The device identity in the certificate differs from the one in the report (hwID ≠ chip_id, FWID).
    case identity
    /// The verifier's own inputs are unusable: a trust anchor that does not parse, simulator evidence where the
    /// simulator is not allowed.
    case configuration
}
