package import KBSClaims

/// The registry of evidence verifiers, one per ``EvidenceKind``.
package enum EvidenceVerifiers {
    /// Every verifier this build has.
    package static let all: [any EvidenceVerifier] = [
        SNPVerifier(), TDXVerifier(), SGXVerifier(), NVIDIAVerifier(), CCAVerifier(), AzureSNPvTPMVerifier(), AzureTDXvTPMVerifier(), TPMVerifier(),
        SimVerifier(),
    ]

    /// The verifier for `kind`; `unsupported` when this build has none.
    package static func verifier(for kind: EvidenceKind) throws(EvidenceError) -> any EvidenceVerifier {
        guard let verifier = all.first(where: { $0.kind == kind }) else {
            throw EvidenceError(.unsupported, "no verifier for evidence kind `\(kind.rawValue)` in this build")
        }
        return verifier
    }

    /// Verifies `evidence` as `kind`, with the context's trust anchors pinned to the kind's vendor
    /// (``TrustVendor/pinned(_:to:)``): however the anchors were gathered, another vendor's root never anchors it.
    package static func verify(
        _ evidence: [UInt8], kind: EvidenceKind, context: VerificationContext
    ) async throws(EvidenceError) -> VerifiedEvidence {
        var pinned = context
        pinned.trustAnchors = TrustVendor.pinned(context.trustAnchors, to: kind)
        return try await verifier(for: kind).verify(evidence, context: pinned)
    }
}
