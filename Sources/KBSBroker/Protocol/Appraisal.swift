public import Foundation

/// What an attestation established about a TEE: its verified claims, the devices beside it, the tier they reach and
/// the key released secrets are encrypted to. Held by the RCAR session for a minute, and signed into the token.
public struct Appraisal: @unchecked Sendable {
    /// The claims of one additional device (a GPU).
    public struct DeviceClaims: @unchecked Sendable {
        /// The verified claims as a JSON object (`Attestation`).
        public var object: [String: Any]
        init(object: [String: Any]) { self.object = object }
    }

    /// Unique per appraisal (the token's `jti`).
    public let id: String
    /// The primary evidence kind (`snp`, `tdx`, …).
    public let kind: String
    /// The primary evidence's verified claims (`Attestation`), as a JSON object.
    public let claimsObject: [String: Any]
    public let deviceClaims: [DeviceClaims]
    /// The privacy tier the tier rules computed, 0–4.
    public let tier: Int
    /// `runtime-data.tee-pubkey` as sent.
    public let teePublicKeyJWK: [String: Any]
    public let teePublicKey: TEEPublicKey
    public let attestedAt: Date
    /// Who the workload is, when it presented a capability token at attestation.
    public var identity: Identity?

    /// The workload's identity from a capability token: the agent, and the token (kept to re-check at every release,
    /// so a revocation or an expiry takes effect at once).
    public struct Identity: Sendable {
        public var subject: String
        public var issuer: String
        public var tokenID: String
        /// The token as presented; nil when the identity came back from an attestation token (which holds only the id).
        public var token: String?
        /// What the token granted at attestation.
        public var capabilities: [String]
    }

    init(id: String, kind: String, claimsObject: [String: Any], claimsJSON: String? = nil, deviceClaims: [DeviceClaims], tier: Int,
        teePublicKeyJWK: [String: Any], attestedAt: Date) throws(BrokerError)
    {
        // Unsorted on purpose: sorting keys makes Foundation compare strings through ICU, the policy reads any order.
        self.claimsJSON = claimsJSON
            ?? (try? JSONSerialization.data(withJSONObject: claimsObject)).map { String(decoding: $0, as: UTF8.self) } ?? "{}"
        self.id = id
        self.kind = kind
        self.claimsObject = claimsObject
        self.deviceClaims = deviceClaims
        self.tier = tier
        self.teePublicKeyJWK = teePublicKeyJWK
        self.teePublicKey = try TEEPublicKey(jwk: teePublicKeyJWK)
        self.attestedAt = attestedAt
    }

    /// The claims as JSON text, made once: the release policy reads it on every request.
    let claimsJSON: String
}
