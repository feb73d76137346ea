import Crypto
package import Foundation
import KBSClaims

/// Bearer API keys `kbs_k_<key id>_<secret>`: the store keeps only HMAC-SHA256(pepper, secret), the pepper lives
/// outside the database (a file or an HSM), so neither a database dump nor the pepper alone yields a usable key.
///
/// RFC 9421 request signing (``HTTPSignatureVerifier``) needs the secret itself and cannot work from a hash;
/// those secrets are the key broker's to encrypt at rest.
package struct APIKeys: Sendable {
    package static let prefix = "kbs_k_"

    /// One stored key.
    package struct Record: Sendable, Equatable {
        package var keyID: String
        /// HMAC-SHA256(pepper, secret bytes).
        package var secretHash: [UInt8]
        package var subject: String
        package var expiresAt: Int64?
        package var revokedAt: Int64?

        /// Creates a record.
        package init(keyID: String, secretHash: [UInt8], subject: String, expiresAt: Int64? = nil, revokedAt: Int64? = nil) {
            self.keyID = keyID
            self.secretHash = secretHash
            self.subject = subject
            self.expiresAt = expiresAt
            self.revokedAt = revokedAt
        }
    }

    private let pepper: SymmetricKey
    /// Looks a key up by id.
    package var lookup: @Sendable (String) async throws(IdentityError) -> Record?

    /// Creates the checker; the pepper must be at least 32 bytes.
    package init(pepper: [UInt8], lookup: @escaping @Sendable (String) async throws(IdentityError) -> Record?) throws(IdentityError) {
        guard pepper.count >= 32 else { throw IdentityError(.configuration, "the API key pepper must be at least 32 bytes") }
        self.pepper = SymmetricKey(data: pepper)
        self.lookup = lookup
    }

    /// Mints a key for `subject`: the text to give the user once, and the record to store.
    package func mint(subject: String, expiresAt: Int64? = nil) -> (key: String, record: Record) {
        var random = SystemRandomNumberGenerator()
        let keyID = Hex.encode((0..<8).map { _ in UInt8.random(in: .min ... .max, using: &random) })
        var secret = (0..<32).map { _ in UInt8.random(in: .min ... .max, using: &random) }
        defer { for index in secret.indices { secret[index] = 0 } }
        let record = Record(keyID: keyID, secretHash: hash(secret), subject: subject, expiresAt: expiresAt)
        return (APIKeys.prefix + keyID + "_" + Base64URL.encode(secret), record)
    }

    /// The principal a presented key stands for; `unknown_key`, `signature` (wrong secret), `expired` or `revoked`.
    package func verify(_ presented: String, at time: Date) async throws(IdentityError) -> Principal {
        let now = Int64(time.timeIntervalSince1970.rounded(.down))
        guard presented.hasPrefix(APIKeys.prefix) else { throw IdentityError(.malformed, "not a KBS API key") }
        let parts = presented.dropFirst(APIKeys.prefix.count).split(separator: "_", maxSplits: 1, omittingEmptySubsequences: false)
        // The id is 16 lower-case hex digits as minted; `isHexDigit` would also admit upper-case and full-width digits.
        guard parts.count == 2, parts[0].utf8.count == 16, parts[0].utf8.allSatisfy({ (0x30...0x39).contains($0) || (0x61...0x66).contains($0) }),
            var secret = Base64URL.decode(Array(parts[1].utf8)), secret.count == 32
        else { throw IdentityError(.malformed, "not a KBS API key") }
        defer { for index in secret.indices { secret[index] = 0 } }
        let presentedHash = hash(secret)
        guard let record = try await lookup(String(parts[0])) else {
            throw IdentityError(.unknownKey, "no API key `\(parts[0])`")
        }
        guard constantTimeEqual(record.secretHash, presentedHash) else { throw IdentityError(.signature, "the API key's secret is wrong") }
        if record.revokedAt != nil { throw IdentityError(.revoked, "the API key was revoked") }
        if let expiry = record.expiresAt, now >= expiry { throw IdentityError(.expired, "the API key expired") }
        return Principal(
            subject: record.subject, issuer: "api_key", method: .apiKey, verifiedAt: time,
            attributes: ["key_id": .string(record.keyID)])
    }

    private func hash(_ secret: [UInt8]) -> [UInt8] { Array(HMAC<SHA256>.authenticationCode(for: secret, using: pepper)) }
}
