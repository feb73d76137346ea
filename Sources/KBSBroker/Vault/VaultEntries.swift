package import Foundation

/// A Vault token as stored (under the SHA-256 of the token; the token itself is never kept): who it speaks for, what
/// its policies name, the tier it carries, and its lifetime.
package struct VaultTokenEntry: Sendable, Codable, Equatable {
    /// A random id that names the token without being it (Vault's accessor), for logs and audit.
    package var accessor: String
    /// The subject id the token speaks for (role bindings name it).
    package var subject: String
    package var displayName: String
    /// Vault policies: `default` names every path; any other is a glob over `secret/…` and `transit/…` paths.
    package var policies: [String]
    /// The privacy tier the token carries: 1 for an administrator's or an OIDC login's token, the attested tier for a
    /// token traded for an attestation token.
    package var tier: Int
    /// The appraisal behind the tier, and its claims as JSON (the policy's `evidence`).
    package var appraisalID: String?
    package var evidenceJSON: String?
    /// The `Principal` record the policy reads as `identity`, as JSON.
    package var identityJSON: String
    /// How it was issued: `auth/token/create` (an administrator), `auth/jwt/login`, `auth/kbs/login`.
    package var path: String
    /// The JWT login role, when one issued it.
    package var role: String?
    package var meta: [String: String]
    /// Seconds since 1970.
    package var issuedAt: Int64
    package var expiresAt: Int64
    /// The latest it may be renewed to.
    package var maximumExpiry: Int64
    /// The lifetime it was created with, and the default renewal increment, in seconds.
    package var ttl: Int64
    package var renewable: Bool
}

/// A Transit key's settings; its material and versions are the key hierarchy's record `keyID`.
package struct TransitKeyEntry: Sendable, Codable, Equatable {
    package var name: String
    /// The hierarchy record: `transit/<name>/<incarnation>`, so a name deleted and created again never reuses material.
    package var keyID: String
    /// `aes256-gcm96` or `chacha20-poly1305`.
    package var type: String
    /// Each request's `context` derives the key (HKDF); `convergent` also derives the nonce from the plaintext.
    package var derived: Bool
    package var convergent: Bool
    package var deletionAllowed: Bool
    package var minDecryptionVersion: Int
    package var minEncryptionVersion: Int
    /// Seconds between automatic rotations; 0 is off.
    package var autoRotatePeriod: Int64
    /// The subject id of the token that created it.
    package var creator: String
    /// Free-form labels (`role`), fixed at creation.
    package var labels: [String: String]
    /// Seconds since 1970.
    package var createdAt: Int64
}

/// A KV v2 secret: its metadata and its versions, each version's data sealed by the key hierarchy.
package struct KVSecretEntry: Sendable, Codable, Equatable {
    package struct Version: Sendable, Codable, Equatable {
        package var version: Int
        /// Milliseconds since 1970.
        package var createdAt: Int64
        /// When it was (or will be) soft-deleted, in milliseconds; nil while it is not.
        package var deletionTime: Int64?
        package var destroyed: Bool
        /// The data's JSON object sealed under `vault-kv` (additional data: path and version); nil once destroyed.
        package var sealed: Data?
    }

    package var path: String
    package var currentVersion: Int
    /// 0 follows the engine's setting.
    package var maxVersions: Int
    package var casRequired: Bool
    /// Seconds after which a new version is soft-deleted; 0 never.
    package var deleteVersionAfter: Int64
    package var customMetadata: [String: String]
    package var creator: String
    /// The tier a caller must reach to read or write the data: `kbs:required-tier` in the custom metadata at creation,
    /// else `PRIVACY_TIER`. Fixed once the secret exists.
    package var requiredTier: Int
    /// Milliseconds since 1970.
    package var createdAt: Int64
    package var updatedAt: Int64
    /// Oldest first; versions past the maximum are dropped.
    package var versions: [Version]
}

/// The KV v2 engine's settings (`secret/config`).
package struct KVConfigEntry: Sendable, Codable, Equatable {
    package var maxVersions: Int = 10
    package var casRequired: Bool = false
    package var deleteVersionAfter: Int64 = 0

    /// The defaults Vault starts with.
    package init() {}
}

/// JSON documents for the entries, with keys sorted so equal entries store equal bytes.
enum VaultDocument {
    static func encode<T: Encodable>(_ value: T) -> [UInt8] {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        // Encoding these plain structs cannot fail.
        return (try? Array(encoder.encode(value))) ?? []
    }

    static func decode<T: Decodable>(_ type: T.Type, _ bytes: [UInt8]) -> T? {
        try? JSONDecoder().decode(type, from: Data(bytes))
    }
}
