/// A stored bearer API key: its id, the peppered hash of its secret, whom it stands for, and its secret sealed by the
/// key hierarchy for request signing.
package struct StoredAPIKey: Sendable, Equatable {
    package var keyID: String
    package var secretHash: [UInt8]
    package var subject: String
    package var createdAt: Int64
    package var expiresAt: Int64?
    package var revokedAt: Int64?
    /// What the key is for, as its creator named it.
    package var name: String
    /// The secret sealed by the key hierarchy (AAD `api-key:<id>`); nil for keys made before it was kept.
    package var sealedSecret: [UInt8]?

    /// Creates an API key row.
    package init(
        keyID: String, secretHash: [UInt8], subject: String, createdAt: Int64, expiresAt: Int64? = nil, revokedAt: Int64? = nil,
        name: String = "", sealedSecret: [UInt8]? = nil
    ) {
        self.keyID = keyID
        self.secretHash = secretHash
        self.subject = subject
        self.createdAt = createdAt
        self.expiresAt = expiresAt
        self.revokedAt = revokedAt
        self.name = name
        self.sealedSecret = sealedSecret
    }
}

/// Where API keys are kept.
package protocol APIKeyRepository: Sendable {
    func insert(_ key: StoredAPIKey) async throws
    func key(_ id: String) async throws -> StoredAPIKey?
    /// Every key, newest first.
    func all() async throws -> [StoredAPIKey]
    /// Marks a key revoked at `time`; false when there is none.
    func revoke(_ id: String, at time: Int64) async throws -> Bool
}
