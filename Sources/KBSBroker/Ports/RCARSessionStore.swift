package import Foundation

/// One RCAR session: the nonce `auth` handed out, the TEE kind it expects, and what attestation made of it. The broker
/// makes each one (its memberwise initializer); stores keep and return them.
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
    package var attempted = false
}

/// Where RCAR sessions live between `auth`, `attest` and `resource`: in one process's memory today
/// (``InMemoryRCARSessions``), in a shared store when several replicas serve one flow.
package protocol RCARSessionStore: Sendable {
    /// Keeps `session`; an implementation makes room only among the same client's sessions (expired ones, then its
    /// oldest) and otherwise refuses, so one client cannot push out another's.
    func insert(_ session: RCARSession, now: Date) async throws
    /// The live session with `id`; nil when unknown or expired.
    func session(_ id: String, now: Date) async throws -> RCARSession?
    /// Marks the session's one attestation attempt; false when it was already made or the session is gone.
    func beginAttempt(_ id: String) async throws -> Bool
    /// Keeps `appraisal` on the session.
    func attach(_ appraisal: Appraisal, to id: String) async throws
}
