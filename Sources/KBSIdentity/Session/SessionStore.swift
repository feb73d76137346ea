import KBSClaims
import Synchronization

/// One login session as stored: who, until when, and whether it was revoked. The id itself is never stored,
/// only its SHA-256, so a copy of the database does not hand out live sessions.
package struct SessionRecord: Sendable, Equatable {
    package var subject: String
    package var issuer: String
    package var method: String
    /// The principal as `Principal.json` printed it at login.
    package var principalJSON: String
    package var createdAt: Int64
    package var expiresAt: Int64
    package var revokedAt: Int64?
    /// When the session was last presented; nil when never since login.
    package var lastUsedAt: Int64?

    /// Creates a record.
    package init(
        subject: String, issuer: String, method: String, principalJSON: String, createdAt: Int64, expiresAt: Int64,
        revokedAt: Int64? = nil, lastUsedAt: Int64? = nil
    ) {
        self.lastUsedAt = lastUsedAt
        self.subject = subject
        self.issuer = issuer
        self.method = method
        self.principalJSON = principalJSON
        self.createdAt = createdAt
        self.expiresAt = expiresAt
        self.revokedAt = revokedAt
    }
}

/// Where sessions live: the server's store (SQLite, or PostgreSQL shared by every replica), memory in tests and one-shot
/// commands. Every call reads or writes the store itself, never a cached copy, so a revocation counts at once everywhere.
package protocol SessionStore: Sendable {
    /// Stores a new session under the hash of its id.
    func insert(idHash: [UInt8], _ record: SessionRecord) async throws(IdentityError)
    /// The session stored under `idHash`, revoked or not.
    func session(idHash: [UInt8]) async throws(IdentityError) -> SessionRecord?
    /// Marks one session revoked at `time`; false when there is no such session or it was already revoked.
    func revoke(idHash: [UInt8], at time: Int64) async throws(IdentityError) -> Bool
    /// Revokes every live session of `subject`; returns how many.
    func revokeAll(subject: String, at time: Int64) async throws(IdentityError) -> Int
    /// Records that the session was presented at `time`.
    func touch(idHash: [UInt8], at time: Int64) async throws(IdentityError)
}

/// A ``SessionStore`` in memory.
package final class MemorySessionStore: SessionStore {
    private let table = Mutex<[[UInt8]: SessionRecord]>([:])

    /// Creates an empty store.
    package init() {}

    package func insert(idHash: [UInt8], _ record: SessionRecord) async throws(IdentityError) {
        let fresh = table.withLock { table in
            guard table[idHash] == nil else { return false }
            table[idHash] = record
            return true
        }
        guard fresh else { throw IdentityError(.configuration, "a session id was issued twice") }
    }

    package func session(idHash: [UInt8]) async throws(IdentityError) -> SessionRecord? { table.withLock { $0[idHash] } }

    package func revoke(idHash: [UInt8], at time: Int64) async throws(IdentityError) -> Bool {
        table.withLock { table in
            guard table[idHash] != nil, table[idHash]!.revokedAt == nil else { return false }
            table[idHash]!.revokedAt = time
            return true
        }
    }

    package func touch(idHash: [UInt8], at time: Int64) async throws(IdentityError) {
        table.withLock { $0[idHash]?.lastUsedAt = time }
    }

    package func revokeAll(subject: String, at time: Int64) async throws(IdentityError) -> Int {
        table.withLock { table in
            var count = 0
            for (key, record) in table where record.subject == subject && record.revokedAt == nil && record.expiresAt > time {
                table[key]!.revokedAt = time
                count += 1
            }
            return count
        }
    }
}
