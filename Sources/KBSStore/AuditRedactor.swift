import Crypto
package import KBSBroker
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

    /// The subject-id prefixes whose id part is redacted: an API key's id is half of its bearer credential.
    static let redactedPrefixes = ["apikey:", "hmac:", "api-key:"]

    /// `entry` with the id part of every `apikey:<id>`, `hmac:<id>` and `api-key:<id>` in its actor, resource and
    /// `subject` detail redacted (`apikey:hmac:<32 hex>`), the rest as it was.
    package func redacting(_ entry: AuditEntry) -> AuditEntry {
        var entry = entry
        entry.actor = redactingIdentifier(entry.actor)
        entry.resource = redactingIdentifier(entry.resource)
        if case .string(let subject)? = entry.details["subject"] { entry.details["subject"] = .string(redactingIdentifier(subject)) }
        return entry
    }

    private func redactingIdentifier(_ text: String) -> String {
        // The broker names an identity-only caller `subject:<subject id>`.
        if text.hasPrefix("subject:") { return "subject:" + redactingIdentifier(String(text.dropFirst("subject:".count))) }
        for prefix in Self.redactedPrefixes where text.hasPrefix(prefix) && !text.hasPrefix(prefix + AuditRedactor.prefix) {
            return prefix + redact(String(text.dropFirst(prefix.count)))
        }
        return text
    }
}
