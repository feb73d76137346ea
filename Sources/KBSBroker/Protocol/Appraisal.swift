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
    /// Who the workload is, when it presented a capability token at attestation.
    package var identity: Identity?

    /// The workload's identity from a capability token: the agent, and the token (kept to re-check at every release,
    /// so a revocation or an expiry takes effect at once).
    package struct Identity: Sendable {
        package var subject: String
        package var issuer: String
        package var tokenID: String
        /// The token as presented; nil when the identity came back from an attestation token (which holds only the id).
        package var token: String?
        /// What the token granted at attestation.
        package var capabilities: [String]
        /// When the token stops granting anything, in seconds since 1970: the earliest of its issuer's expiry and its
        /// caveats'. Every release checks it, whichever way the caller presents the appraisal.
        package var expires: Int64
    }

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
