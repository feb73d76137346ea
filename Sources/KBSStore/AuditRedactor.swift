import Crypto
import KBSClaims

/// Turns a sensitive identifier into `hmac:<32 hex digits>` before it enters the audit log.
///
/// HMAC-SHA256 under a key kept outside the database, truncated to 16 bytes: the same identifier always gives the
/// same token under one key, so records about it can still be correlated, but a copy of the log alone neither
/// reveals it nor lets anyone confirm a guess (a plain hash would, by hashing candidates).
package struct AuditRedactor: Sendable {
    private let key: SymmetricKey

    /// The prefix of every redacted identifier.
    package static let prefix = "hmac:"

    /// Creates a redactor; the key must be 32 bytes.
    package init(key: [UInt8]) throws(StoreError) {
        guard key.count == 32 else { throw StoreError(.invalid, "an audit redaction key is 32 bytes, not \(key.count)") }
        self.key = SymmetricKey(data: key)
    }

    /// `hmac:` and the hex of the first 16 bytes of HMAC-SHA256(key, UTF-8 of `identifier`).
    package func redact(_ identifier: String) -> String {
        let mac = HMAC<SHA256>.authenticationCode(for: Array(identifier.utf8), using: key)
        return AuditRedactor.prefix + Hex.encode(Array(mac).prefix(16))
    }
}
