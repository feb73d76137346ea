package import Foundation
import KBSClaims
package import KBSEvidence

/// How the broker trusts evidence and how long what it hands out lives.
package struct BrokerConfiguration: Sendable {
    /// Where trust in TEE evidence comes from.
    package enum TEEMode: String, Sendable {
        /// The vendor roots shipped with the binary and those added in the data directory; simulated evidence never
        /// verifies.
        case hardware
        /// Also the simulator CA kept in the data directory (`TEE_MODE=simulator`): for development and tests only.
        case simulator
    }

    package var teeMode: TEEMode
    /// Trust anchors (vendor roots), each pinned to its vendor's kinds: a verification sees only its own vendor's.
    package var trust: TrustStore
    /// Endorsements (VCEKs, PCK chains, TCB info, RIMs) offered to every verification.
    package var endorsements: [EvidenceFile]
    /// The simulator's authorities, under ``TEEMode/simulator``.
    package var simulatorCA: SimulatorCA?
    /// Collateral fetched once and kept (KDS VCEKs, PCS TCB info).
    package var collateral: (any CollateralSource)?
    /// How long a session lives after `/auth`.
    package var sessionLifetime: TimeInterval = 300
    /// How long an appraisal serves resource requests on its session.
    package var appraisalLifetime: TimeInterval = 60
    /// How long an attestation token is valid.
    package var tokenLifetime: TimeInterval = 300
    /// How long an attestation-token signing key signs before a new one takes over (it verifies as long again).
    package var tokenKeyRotationPeriod: TimeInterval = 7 * 24 * 3600
    /// Most sessions held at once.
    package var maxSessions = 10_000
    /// Most sessions one client address holds at once; its oldest goes first when it opens more.
    package var maxSessionsPerClient = 64

    /// Creates a configuration.
    package init(
        teeMode: TEEMode, trust: TrustStore = .shipped, endorsements: [EvidenceFile] = [], simulatorCA: SimulatorCA? = nil,
        collateral: (any CollateralSource)? = nil
    ) {
        self.teeMode = teeMode
        self.trust = trust
        self.endorsements = endorsements
        self.simulatorCA = simulatorCA
        self.collateral = collateral
    }

    /// The anchors evidence of `kind` may chain to: its vendor's, and in simulator mode the simulator CA's for it.
    func anchors(for kind: EvidenceKind) -> [EvidenceFile] {
        guard teeMode == .simulator, let simulatorCA else { return trust.anchors(for: kind) }
        return trust.anchors(for: kind) + simulatorCA.trustAnchors(for: kind)
    }
}
