package import Foundation
package import KBSClaims

/// Checks one kind of attestation evidence and turns it into ``VerifiedEvidence``, or refuses it.
///
/// A verifier holds no trust of its own: roots, endorsements, the time and the expected report data all come in the
/// ``VerificationContext``, so tests pin time and a deployment chooses its roots. It does no network I/O itself;
/// collateral it lacks comes from the context's ``CollateralSource``.
package protocol EvidenceVerifier: Sendable {
    /// The kind this verifier accepts.
    var kind: EvidenceKind { get }

    /// The record of claims specific to this kind, hung off `Attestation` under ``EvidenceKind/claimKey``.
    var schema: ClaimSchema { get }

    /// Verifies `evidence` (this kind's wire format) in `context`.
    func verify(_ evidence: [UInt8], context: VerificationContext) async throws(EvidenceError) -> VerifiedEvidence
}

/// A named file handed to a verifier: an endorsement (VCEK, PCK chain, TCB info, RIM, CRL…) or a trust anchor.
package struct EvidenceFile: Sendable {
    /// The name it came under (a path), for messages.
    package var name: String
    package var bytes: [UInt8]

    /// Creates a file.
    package init(name: String, bytes: [UInt8]) {
        self.name = name
        self.bytes = bytes
    }
}

/// Everything a verification depends on besides the evidence itself.
package struct VerificationContext: Sendable {
    /// The instant certificates, CRLs and collateral must be valid at.
    package var time: Date
    /// What the platform vendor signed for this device: verifiers pick out what they recognise by content.
    package var endorsements: [EvidenceFile]
    /// Vendor roots (or the simulator's roots): a chain must end at one of these.
    package var trustAnchors: [EvidenceFile]
    /// The report data the caller expects, before fitting (``EvidenceKind/reportDataFit`` fits it): a
    /// `HASH(JCS(runtime-data))` digest, or the raw field. `nil` skips the check.
    package var expectedReportData: [UInt8]?
    /// Where collateral not among the endorsements comes from (an on-disk cache, a fetcher behind it).
    package var collateral: (any CollateralSource)?
    /// Whether `sim` evidence may verify at all.
    package var allowSimulator: Bool
    /// Whether a collateral-signing certificate (Intel's TCB Signing certificate) may be past its validity when its
    /// signature over the collateral verifies. Intel renewed that certificate in 2025 with the same key; with only the
    /// expired one at hand, this lets current collateral verify. Collateral freshness (`nextUpdate`) is still checked.
    package var ignoresCollateralSignerExpiry: Bool = false

    /// Creates a context.
    package init(
        time: Date, endorsements: [EvidenceFile] = [], trustAnchors: [EvidenceFile] = [],
        expectedReportData: [UInt8]? = nil, collateral: (any CollateralSource)? = nil, allowSimulator: Bool = false
    ) {
        self.time = time
        self.endorsements = endorsements
        self.trustAnchors = trustAnchors
        self.expectedReportData = expectedReportData
        self.collateral = collateral
        self.allowSimulator = allowSimulator
    }

    /// Throws `binding` unless `field` equals the expected report data fitted for `kind`; passes when nothing is
    /// expected. The comparison takes the same time whatever differs.
    package func checkReportData(_ field: [UInt8], kind: EvidenceKind) throws(EvidenceError) {
        guard let expected = expectedReportData else { return }
        let fitted = kind.reportDataFit.apply(expected)
        guard fitted.count == field.count else {
            throw EvidenceError(.binding, "report data is \(field.count) bytes, expected \(fitted.count)")
        }
        guard constantTimeEqual(field, fitted) else {
            throw EvidenceError(.binding, "report data \(Hex.encode(field)) is not the expected \(Hex.encode(fitted))")
        }
    }
}
