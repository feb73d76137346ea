package import Foundation

/// One RCAR session: the nonce `auth` handed out, the TEE kind it expects, and what attestation made of it. The broker
/// makes each one; stores keep and return them.
package struct RCARSession: Sendable {
    /// The `kbs-session-id` cookie's value: 128 random bits as hex.
    package let id: String
    /// 256 random bits as base64: what the evidence must bind, once.
    package let nonce: String
    /// The TEE kind `auth` named.
    package let tee: String
    /// Who opened it (the client's address), so that limits and eviction stay within one client's sessions.
    package let client: String
    package let expires: Date
    /// Set once the session attested; serves resource requests for a minute.
    package var appraisal: Appraisal?
    /// Whether the one attestation attempt was made (the nonce is spent even when it failed).
    package var attempted: Bool

    /// A session as the broker opens it (no appraisal, no attempt yet), or as a store reads one back.
    package init(
        id: String, nonce: String, tee: String, client: String, expires: Date, appraisal: Appraisal? = nil, attempted: Bool = false
    ) {
        self.id = id
        self.nonce = nonce
        self.tee = tee
        self.client = client
        self.expires = expires
        self.appraisal = appraisal
        self.attempted = attempted
    }
}

/// Where RCAR sessions live between `auth`, `attest` and `resource`: in one process's memory
/// (``InMemoryRCARSessions``), or in a store every replica shares, so that `auth`, `attest` and `resource` may each
/// reach a different replica.
///
/// Stored sessions are trusted storage: an appraisal read back from a store (``Appraisal/init(storedJSON:)``) is
/// believed as it stands, as one read from this process's memory is, so the store must be writable only by the broker.
package protocol RCARSessionStore: Sendable {
    /// Keeps `session`; an implementation makes room only among the same client's sessions (expired ones, then its
    /// oldest) and otherwise refuses with ``BrokerError/sessionsFull``, so one client cannot push out another's.
    func insert(_ session: RCARSession, now: Date) async throws
    /// The live session with `id`; nil when unknown or expired.
    func session(_ id: String, now: Date) async throws -> RCARSession?
    /// Marks the session's one attestation attempt; false when it was already made or the session is gone.
    func beginAttempt(_ id: String) async throws -> Bool
    /// Keeps `appraisal` on the session.
    func attach(_ appraisal: Appraisal, to id: String) async throws
}

extension BrokerError {
    /// What every ``RCARSessionStore`` throws when each slot holds a live session of some client: the broker tells
    /// this refusal (try again shortly) from a store that cannot be reached by this value, never by the store's type.
    package static let sessionsFull = BrokerError(.unavailable, "sessions_full", "every session slot holds a live session; try again shortly")
}
