import Crypto
package import Foundation
import KBSClaims

/// Login sessions: after a credential verifies, an opaque random id (256 bits from the system's CSPRNG) that
/// later requests present instead of the credential; stored server-side with an expiry, revocable.
package struct Sessions: Sendable {
    /// Every session id starts so, so leaked ones are easy to find in logs and scanners.
    package static let prefix = "kbs_s_"
    package var store: any SessionStore
    /// How long a session lasts unless the credential says less (a SAML `SessionNotOnOrAfter`, a token's `exp`).
    package var lifetimeSeconds: Int64
    /// How long a session may go unpresented before it ends.
    package var idleSeconds: Int64

    /// Creates sessions over `store`, 8 hours long by default, ending after an hour unused.
    package init(store: any SessionStore, lifetimeSeconds: Int64 = 8 * 3600, idleSeconds: Int64 = 3600) {
        self.store = store
        self.lifetimeSeconds = lifetimeSeconds
        self.idleSeconds = idleSeconds
    }

    /// Starts a session for `principal`; returns the id to hand to the client (shown once, stored only hashed).
    package func start(for principal: Principal, at time: Date, notAfter: Int64? = nil) async throws(IdentityError) -> String {
        try await begin(for: principal, at: time, notAfter: notAfter).id
    }

    /// ``start(for:at:notAfter:)`` with the session's end (seconds since 1970), which a login reports to the client.
    package func begin(for principal: Principal, at time: Date, notAfter: Int64? = nil) async throws(IdentityError) -> (id: String, expires: Int64) {
        let now = Int64(time.timeIntervalSince1970.rounded(.down))
        let expiry = min(now + lifetimeSeconds, notAfter ?? .max)
        guard expiry > now else { throw IdentityError(.expired, "the credential's own lifetime is over") }
        var random = SystemRandomNumberGenerator()
        var secret = (0..<32).map { _ in UInt8.random(in: .min ... .max, using: &random) }
        defer { for index in secret.indices { secret[index] = 0 } }
        let id = Sessions.prefix + Base64URL.encode(secret)
        try await store.insert(
            idHash: Sessions.hash(id),
            SessionRecord(
                subject: principal.subject, issuer: principal.issuer,
                method: principal.method.rawValue, principalJSON: principal.json, createdAt: now, expiresAt: expiry))
        return (id, expiry)
    }

    /// The live session `id` names; `unknown_key` when there is none, `expired` (its lifetime or idle time is over),
    /// or `revoked`. Presenting it restarts the idle clock (recorded at most once a minute, so reads stay cheap).
    package func resume(_ id: String, at time: Date) async throws(IdentityError) -> SessionRecord {
        let now = Int64(time.timeIntervalSince1970.rounded(.down))
        guard id.hasPrefix(Sessions.prefix), id.utf8.count == Sessions.prefix.utf8.count + 43 else {
            throw IdentityError(.malformed, "not a session id")
        }
        // Looked up by hash: the comparison happens inside the index on a value the caller cannot steer.
        guard let record = try await store.session(idHash: Sessions.hash(id)) else { throw IdentityError(.unknownKey, "no such session") }
        if record.revokedAt != nil { throw IdentityError(.revoked, "the session was revoked") }
        guard now < record.expiresAt else { throw IdentityError(.expired, "the session expired") }
        let lastUsed = record.lastUsedAt ?? record.createdAt
        guard now - lastUsed < idleSeconds else { throw IdentityError(.expired, "the session went unused too long") }
        if now - lastUsed >= 60 { try await store.touch(idHash: Sessions.hash(id), at: now) }
        return record
    }

    /// Ends one session (logout); false when the id names none or it had already ended.
    package func revoke(_ id: String, at time: Date) async throws(IdentityError) -> Bool {
        try await store.revoke(idHash: Sessions.hash(id), at: Int64(time.timeIntervalSince1970.rounded(.down)))
    }

    /// Ends every live session of `subject` (an account disabled, a key compromised).
    package func revokeAll(subject: String, at time: Date) async throws(IdentityError) -> Int {
        try await store.revokeAll(subject: subject, at: Int64(time.timeIntervalSince1970.rounded(.down)))
    }

    static func hash(_ id: String) -> [UInt8] { Array(SHA256.hash(data: Array(id.utf8))) }
}
