package import Foundation
package import KBSClaims

/// What an attestation established about a TEE: its verified claims, the devices beside it, the tier they reach and
/// the key released secrets are encrypted to. Held by the RCAR session for a minute, and signed into the token.
package struct Appraisal: Sendable {
    /// Unique per appraisal (the token's `jti`).
    package let id: String
    /// The primary evidence kind (`snp`, `tdx`, …).
    package let kind: String
    /// The primary evidence's verified claims (`Attestation`), typed: the release policy reads them as they are, and
    /// the token carries them as JSON.
    package let claims: ClaimRecord
    /// Each additional device's verified claims (`Attestation`), likewise.
    package let deviceClaims: [ClaimRecord]
    /// The privacy tier the tier rules computed, 0–4.
    package let tier: Int
    /// `runtime-data.tee-pubkey` in its canonical (JCS) form, as the token carries it.
    package let teePublicKeyJSON: [UInt8]
    package let teePublicKey: TEEPublicKey
    package let attestedAt: Date
    /// Who the workload speaks for, when it presented a credential at attestation.
    package var identity: CallerIdentity?

    init(
        id: String, kind: String, claims: ClaimRecord, deviceClaims: [ClaimRecord], tier: Int, teePublicKeyJSON: [UInt8],
        teePublicKey: TEEPublicKey, attestedAt: Date
    ) {
        self.id = id
        self.kind = kind
        self.claims = claims
        self.deviceClaims = deviceClaims
        self.tier = tier
        self.teePublicKeyJSON = teePublicKeyJSON
        self.teePublicKey = teePublicKey
        self.attestedAt = attestedAt
    }
}
