import Foundation
import GRDB
package import KBSBroker
import KBSClaims
package import KBSIdentity

extension Store {
    /// Stores a new session; a second session under the same id hash is refused.
    package func insertSession(idHash: [UInt8], _ session: SessionRecord) throws(StoreError) {
        guard idHash.count == 32 else { throw StoreError(.invalid, "a session id hash is 32 bytes") }
        try write { db in
            try db.execute(
                sql: """
                    INSERT INTO session (id_hash, subject, issuer, method, principal, created_at, expires_at, revoked_at)
                    VALUES (?, ?, ?, ?, ?, ?, ?, NULL)
                    """,
                arguments: [
                    Data(idHash), session.subject, session.issuer, session.method, session.principalJSON, session.createdAt,
                    session.expiresAt,
                ])
        }
    }

    /// The session stored under `idHash`, revoked or not.
    package func session(idHash: [UInt8]) throws(StoreError) -> SessionRecord? {
        try read { db in
            try Row.fetchOne(db, sql: "SELECT * FROM session WHERE id_hash = ?", arguments: [Data(idHash)]).map { row in
                SessionRecord(
                    subject: row["subject"], issuer: row["issuer"], method: row["method"], principalJSON: row["principal"],
                    createdAt: row["created_at"], expiresAt: row["expires_at"], revokedAt: row["revoked_at"], lastUsedAt: row["last_used_at"])
            }
        }
    }

    /// Revokes one session at `time`; false when there is none, or it was already revoked.
    package func revokeSession(idHash: [UInt8], at time: Int64) throws(StoreError) -> Bool {
        try write { db in
            try db.execute(sql: "UPDATE session SET revoked_at = ? WHERE id_hash = ? AND revoked_at IS NULL", arguments: [time, Data(idHash)])
            return db.changesCount > 0
        }
    }

    /// Records that a session was presented at `time` (idle expiry counts from it).
    package func touchSession(idHash: [UInt8], at time: Int64) throws(StoreError) {
        try write { db in
            try db.execute(sql: "UPDATE session SET last_used_at = ? WHERE id_hash = ?", arguments: [time, Data(idHash)])
        }
    }

    /// Revokes every live session of `subject`; returns how many.
    package func revokeSessions(subject: String, at time: Int64) throws(StoreError) -> Int {
        try write { db in
            try db.execute(
                sql: "UPDATE session SET revoked_at = ? WHERE subject = ? AND revoked_at IS NULL AND expires_at > ?",
                arguments: [time, subject, time])
            return db.changesCount
        }
    }

    /// Stores a new API key.
    package func insertAPIKey(_ key: StoredAPIKey) throws(StoreError) {
        guard !key.keyID.isEmpty, key.keyID.utf8.count <= 64, key.secretHash.count == 32 else {
            throw StoreError(.invalid, "an API key needs an id of 1 to 64 bytes and a 32-byte hash")
        }
        try write { db in
            try db.execute(
                sql: """
                    INSERT INTO api_key (key_id, secret_hash, subject, created_at, expires_at, revoked_at, name, sealed_secret)
                    VALUES (?, ?, ?, ?, ?, NULL, ?, ?)
                    """,
                arguments: [key.keyID, Data(key.secretHash), key.subject, key.createdAt, key.expiresAt, key.name, key.sealedSecret.map { Data($0) }])
        }
    }

    /// The API key `keyID`, revoked or not.
    package func apiKey(_ keyID: String) throws(StoreError) -> StoredAPIKey? {
        try read { db in try Row.fetchOne(db, sql: "SELECT * FROM api_key WHERE key_id = ?", arguments: [keyID]).map(Self.apiKey(row:)) }
    }

    /// Every API key, newest first.
    package func apiKeys() throws(StoreError) -> [StoredAPIKey] {
        try read { db in try Row.fetchAll(db, sql: "SELECT * FROM api_key ORDER BY created_at DESC, key_id").map(Self.apiKey(row:)) }
    }

    private static func apiKey(row: Row) -> StoredAPIKey {
        StoredAPIKey(
            keyID: row["key_id"], secretHash: [UInt8](row["secret_hash"] as Data), subject: row["subject"],
            createdAt: row["created_at"], expiresAt: row["expires_at"], revokedAt: row["revoked_at"], name: row["name"],
            sealedSecret: (row["sealed_secret"] as Data?).map { [UInt8]($0) })
    }

    /// Revokes an API key; false when there is none.
    package func revokeAPIKey(_ keyID: String, at time: Int64) throws(StoreError) -> Bool {
        try write { db in
            try db.execute(sql: "UPDATE api_key SET revoked_at = COALESCE(revoked_at, ?) WHERE key_id = ?", arguments: [time, keyID])
            return db.changesCount > 0
        }
    }

    /// Adds an attestation-token signing key.
    package func insertTokenSigningKey(_ key: StoredTokenSigningKey) throws(StoreError) {
        guard !key.keyID.isEmpty, key.keyID.utf8.count <= 64, !key.sealedPrivateKey.isEmpty else {
            throw StoreError(.invalid, "a token signing key needs an id of 1 to 64 bytes and sealed material")
        }
        try write { db in
            try db.execute(
                sql: "INSERT INTO token_signing_key (key_id, sealed_private_key, created_at) VALUES (?, ?, ?)",
                arguments: [key.keyID, Data(key.sealedPrivateKey), key.createdAt])
        }
    }

    /// Every attestation-token signing key, oldest first.
    package func tokenSigningKeys() throws(StoreError) -> [StoredTokenSigningKey] {
        try read { db in
            try Row.fetchAll(db, sql: "SELECT * FROM token_signing_key ORDER BY created_at, key_id").map { row in
                StoredTokenSigningKey(
                    keyID: row["key_id"], sealedPrivateKey: [UInt8](row["sealed_private_key"] as Data), createdAt: row["created_at"])
            }
        }
    }

    /// Removes the signing keys made before `time`; how many went.
    package func removeTokenSigningKeys(createdBefore time: Int64) throws(StoreError) -> Int {
        try write { db in
            try db.execute(sql: "DELETE FROM token_signing_key WHERE created_at < ?", arguments: [time])
            return db.changesCount
        }
    }

    /// Records a single-use `value` until `expiry`; false when it is already recorded and unexpired. Expired rows
    /// are swept in the same transaction, so the table holds only what can still be replayed.
    package func useOnce(_ value: String, namespace: String, expiry: Int64, now: Int64) throws(StoreError) -> Bool {
        try write { db in
            try db.execute(sql: "DELETE FROM single_use WHERE expires_at <= ?", arguments: [now])
            try db.execute(
                sql: "INSERT INTO single_use (namespace, value, expires_at) VALUES (?, ?, ?) ON CONFLICT DO NOTHING",
                arguments: [namespace, value, expiry])
            return db.changesCount > 0
        }
    }

    /// Whether `value` is recorded and unexpired; a read, changing nothing.
    package func isSpent(_ value: String, namespace: String, now: Int64) throws(StoreError) -> Bool {
        try read { db in
            try Bool.fetchOne(
                db, sql: "SELECT EXISTS (SELECT 1 FROM single_use WHERE namespace = ? AND value = ? AND expires_at > ?)",
                arguments: [namespace, value, now]) ?? false
        }
    }

    /// Spends a value recorded by ``useOnce(_:namespace:expiry:now:)`` (an issued challenge): true exactly once, while
    /// it is unexpired.
    package func consumeOnce(_ value: String, namespace: String, now: Int64) throws(StoreError) -> Bool {
        try write { db in
            try db.execute(
                sql: "DELETE FROM single_use WHERE namespace = ? AND value = ? AND expires_at > ?", arguments: [namespace, value, now])
            return db.changesCount > 0
        }
    }
}

/// `KBSIdentity`'s ``SessionStore`` on the store's `session` table: login sessions survive a restart, and a revocation
/// counts for every process sharing the file. The blocking SQLite work runs off the cooperative pool.
package struct SQLiteSessionStore: SessionStore {
    let store: Store

    /// Keeps sessions in `store`.
    package init(_ store: Store) { self.store = store }

    package func insert(idHash: [UInt8], _ record: SessionRecord) async throws(IdentityError) {
        try await mapped { store throws(StoreError) in try store.insertSession(idHash: idHash, record) }
    }

    package func session(idHash: [UInt8]) async throws(IdentityError) -> SessionRecord? {
        try await mapped { store throws(StoreError) in try store.session(idHash: idHash) }
    }

    package func revoke(idHash: [UInt8], at time: Int64) async throws(IdentityError) -> Bool {
        try await mapped { store throws(StoreError) in try store.revokeSession(idHash: idHash, at: time) }
    }

    package func revokeAll(subject: String, at time: Int64) async throws(IdentityError) -> Int {
        try await mapped { store throws(StoreError) in try store.revokeSessions(subject: subject, at: time) }
    }

    package func touch(idHash: [UInt8], at time: Int64) async throws(IdentityError) {
        try await mapped { store throws(StoreError) in try store.touchSession(idHash: idHash, at: time) }
    }

    /// A store failure as the identity layer reports one: a session that cannot be kept or read is no session.
    private func mapped<T: Sendable>(_ body: @escaping @Sendable (Store) throws(StoreError) -> T) async throws(IdentityError) -> T {
        do { return try await store.offPool(body) } catch {
            throw IdentityError(.configuration, "the session store failed: \(error.message)")
        }
    }
}

/// `KBSIdentity`'s ``ReplayCache`` on the store's `single_use` table (times in milliseconds, as the RCAR nonces): a
/// SIWE nonce, SAML assertion id or RFC 9421 nonce stays spent across restarts and for every process on the file.
package struct SQLiteReplayCache: SingleUseReplayCache {
    let store: Store

    /// Remembers in `store`.
    package init(_ store: Store) { self.store = store }

    package func useOnce(_ value: String, namespace: String, expiryMilliseconds: Int64, nowMilliseconds: Int64) async throws -> Bool {
        try await store.offPool { store throws(StoreError) in
            try store.useOnce(value, namespace: namespace, expiry: expiryMilliseconds, now: nowMilliseconds)
        }
    }
}
