/// An issued capability token as stored: what it grants and whether it was revoked, never the token or its signature.
package struct StoredCapabilityToken: Sendable, Equatable {
    /// The token's id (a UUID).
    package var id: String
    /// The agent it was issued to.
    package var subject: String
    /// The capabilities it was issued with, as a JSON array of strings (caveats a holder added are not known here).
    package var capabilitiesJSON: String
    /// The version of the root data key that signed it.
    package var keyVersion: UInt32
    /// Seconds since 1970.
    package var issuedAt: Int64
    package var expiresAt: Int64
    /// Seconds since 1970; nil while the token stands.
    package var revokedAt: Int64?

    /// Creates a stored token.
    package init(
        id: String, subject: String, capabilitiesJSON: String, keyVersion: UInt32, issuedAt: Int64, expiresAt: Int64,
        revokedAt: Int64? = nil
    ) {
        self.id = id
        self.subject = subject
        self.capabilitiesJSON = capabilitiesJSON
        self.keyVersion = keyVersion
        self.issuedAt = issuedAt
        self.expiresAt = expiresAt
        self.revokedAt = revokedAt
    }
}

/// The issued capability tokens' metadata, read on every verification so a revocation counts at once everywhere.
package protocol CapabilityTokenRepository: Sendable {
    /// Records a newly issued token; an id already present is refused.
    func insert(_ token: StoredCapabilityToken) async throws
    /// The token with `id`, or nil.
    func token(_ id: String) async throws -> StoredCapabilityToken?
    /// Every issued token, oldest first.
    func all() async throws -> [StoredCapabilityToken]
    /// Marks token `id` revoked at `time` (seconds since 1970), keeping the first revocation's time; false when unknown.
    func revoke(_ id: String, at time: Int64) async throws -> Bool
}
