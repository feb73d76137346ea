import Foundation
import KBSClaims
package import KBSIdentity
import KBSStore
import PostgresNIO

/// `KBSIdentity`'s ``SessionStore`` on the `login_session` table: every replica reads, touches and revokes the same
/// rows, with no copy kept in the process, so a logout or a revocation on one replica counts on all of them at once.
package struct PostgresSessionStore: SessionStore {
    let store: PostgresStore

    /// Keeps login sessions in `store`.
    package init(_ store: PostgresStore) { self.store = store }

    package func insert(idHash: [UInt8], _ record: SessionRecord) async throws(IdentityError) {
        guard idHash.count == 32 else { throw IdentityError(.configuration, "a session id hash is 32 bytes") }
        let inserted = try await mapped { () async throws in
            try await store.count(
                """
                INSERT INTO login_session (id_hash, subject, issuer, method, principal, created_at, expires_at)
                VALUES (\(Data(idHash)), \(record.subject), \(record.issuer), \(record.method), \(record.principalJSON),
                    \(record.createdAt), \(record.expiresAt))
                ON CONFLICT (id_hash) DO NOTHING RETURNING 1
                """)
        }
        // 256 random bits never collide by chance: a second insert under one hash is a bug, never a new session.
        guard inserted == 1 else { throw IdentityError(.configuration, "a session id was issued twice") }
    }

    package func session(idHash: [UInt8]) async throws(IdentityError) -> SessionRecord? {
        try await mapped { () async throws in
            try await store.rows(
                """
                SELECT subject, issuer, method, principal, created_at, expires_at, revoked_at, last_used_at
                FROM login_session WHERE id_hash = \(Data(idHash))
                """
            ) { row in
                let (subject, issuer, method, principal, created, expires, revoked, lastUsed) = try row.decode(
                    (String, String, String, String, Int64, Int64, Int64?, Int64?).self)
                return SessionRecord(
                    subject: subject, issuer: issuer, method: method, principalJSON: principal, createdAt: created, expiresAt: expires,
                    revokedAt: revoked, lastUsedAt: lastUsed)
            }.first
        }
    }

    package func revoke(idHash: [UInt8], at time: Int64) async throws(IdentityError) -> Bool {
        try await mapped { () async throws in
            try await store.count(
                "UPDATE login_session SET revoked_at = \(time) WHERE id_hash = \(Data(idHash)) AND revoked_at IS NULL RETURNING 1") == 1
        }
    }

    package func revokeAll(subject: String, at time: Int64) async throws(IdentityError) -> Int {
        try await mapped { () async throws in
            try await store.count(
                """
                UPDATE login_session SET revoked_at = \(time)
                WHERE subject = \(subject) AND revoked_at IS NULL AND expires_at > \(time) RETURNING 1
                """)
        }
    }

    package func touch(idHash: [UInt8], at time: Int64) async throws(IdentityError) {
        // Never backwards: replicas' clocks differ by a little, and a late touch from a slower one must not bring the
        // idle expiry nearer. (GREATEST skips the NULL of a session never presented.)
        try await mapped { () async throws in
            try await store.count(
                "UPDATE login_session SET last_used_at = GREATEST(last_used_at, \(time)) WHERE id_hash = \(Data(idHash))")
        }
    }

    /// A store failure as the identity layer reports one (503, not 401): a session that cannot be kept or read is no
    /// session, and the client's credential may be fine.
    /// (The body throws untyped only because binding a `Data` value may throw; the queries throw ``StoreError``.)
    private func mapped<T>(_ body: () async throws -> T) async throws(IdentityError) -> T {
        do { return try await body() } catch {
            throw IdentityError(.configuration, "the session store failed: \((error as? StoreError)?.message ?? PostgresStore.describe(error))")
        }
    }
}

/// `KBSIdentity`'s ``ReplayCache`` on the `single_use` table, under the same namespaces and in milliseconds as SQLite's
/// (and as the broker's nonces): a SIWE nonce, SAML assertion id or RFC 9421 nonce is spent for every replica at once,
/// and of two replicas presenting one value together exactly one wins, since one statement decides.
package struct PostgresReplayCache: SingleUseReplayCache {
    let store: PostgresStore

    /// Remembers in `store`.
    package init(_ store: PostgresStore) { self.store = store }

    package func useOnce(_ value: String, namespace: String, expiryMilliseconds: Int64, nowMilliseconds: Int64) async throws -> Bool {
        try await PostgresNonceLedger.useOnce(value, namespace: namespace, expiry: expiryMilliseconds, now: nowMilliseconds, in: store)
    }
}
