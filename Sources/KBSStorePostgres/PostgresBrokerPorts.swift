package import Foundation
package import KBSBroker
import KBSClaims
import KBSStore
import PostgresNIO

extension BrokerPorts {
    /// The broker's ports on one PostgreSQL store, shared by every replica that opens it. RCAR sessions live in the
    /// store too (``PostgresRCARSessions`` with its default bounds) unless `sessions` names another place.
    package static func postgres(
        _ store: PostgresStore, sessions: (any RCARSessionStore)? = nil, clock: @escaping @Sendable () -> Date = { Date() }
    ) -> BrokerPorts {
        BrokerPorts(
            audit: PostgresAuditTrail(store: store), nonces: PostgresNonceLedger(store: store), resources: PostgresResources(store: store),
            referenceValues: PostgresReferenceValues(store: store), capabilityTokens: PostgresCapabilityTokens(store: store),
            sessions: sessions ?? PostgresRCARSessions(store: store), apiKeys: PostgresAPIKeys(store: store),
            tokenSigningKeys: PostgresTokenSigningKeys(store: store), revisions: PostgresReleaseRevisions(store: store), clock: clock)
    }
}

/// ``NonceLedger`` on the `single_use` table (milliseconds, as SQLite's): each statement decides alone, so two
/// replicas presenting one value at once cannot both win.
struct PostgresNonceLedger: NonceLedger {
    let store: PostgresStore

    func useOnce(_ value: String, namespace: String, expires: Date, now: Date) async throws -> Bool {
        try await Self.useOnce(
            value, namespace: namespace, expiry: Int64(expires.timeIntervalSince1970 * 1000), now: Int64(now.timeIntervalSince1970 * 1000),
            in: store)
    }

    /// Records `value` until `expiry` (milliseconds); false when it is recorded and unexpired. Shared with
    /// ``PostgresReplayCache``, so the broker's nonces and the verifiers' single-use values follow one rule.
    static func useOnce(_ value: String, namespace: String, expiry: Int64, now at: Int64, in store: PostgresStore) async throws(StoreError) -> Bool {
        let (sweep, record) = useOnceQueries(value, namespace: namespace, expiry: expiry, now: at)
        try await store.count(sweep)
        return try await store.count(record) == 1
    }

    /// The sweep of expired values, then the insert that records `value` and returns a row when it did. The INSERT
    /// decides alone: an expired row that a concurrent sweep has not removed yet is taken over; a live one wins the
    /// conflict, and of two racing inserts the second waits for the first and then finds it live.
    static func useOnceQueries(_ value: String, namespace: String, expiry: Int64, now at: Int64) -> (sweep: PostgresQuery, record: PostgresQuery) {
        (
            "DELETE FROM single_use WHERE expires_at <= \(at) RETURNING 1",
            """
            INSERT INTO single_use (namespace, value, expires_at) VALUES (\(namespace), \(value), \(expiry))
            ON CONFLICT (namespace, value) DO UPDATE SET expires_at = EXCLUDED.expires_at WHERE single_use.expires_at <= \(at)
            RETURNING 1
            """
        )
    }

    func isSpent(_ value: String, namespace: String, now: Date) async throws -> Bool {
        let at = Int64(now.timeIntervalSince1970 * 1000)
        return try await store.count(
            "SELECT 1 FROM single_use WHERE namespace = \(namespace) AND value = \(value) AND expires_at > \(at)") == 1
    }

    func consume(_ value: String, namespace: String, now: Date) async throws -> Bool {
        let at = Int64(now.timeIntervalSince1970 * 1000)
        return try await store.count(
            "DELETE FROM single_use WHERE namespace = \(namespace) AND value = \(value) AND expires_at > \(at) RETURNING 1") == 1
    }
}

/// ``TokenSigningKeyRepository`` on the `token_signing_key` table: every replica signs and verifies with the same keys.
struct PostgresTokenSigningKeys: TokenSigningKeyRepository {
    let store: PostgresStore

    func signingKeys() async throws -> [StoredTokenSigningKey] {
        try await store.rows("SELECT key_id, sealed_private_key, created_at FROM token_signing_key ORDER BY created_at, key_id") { row in
            let (id, sealed, created) = try row.decode((String, Data, Int64).self)
            return StoredTokenSigningKey(keyID: id, sealedPrivateKey: Array(sealed), createdAt: created)
        }
    }

    func addSigningKey(_ key: StoredTokenSigningKey) async throws {
        guard !key.keyID.isEmpty, key.keyID.utf8.count <= 64, !key.sealedPrivateKey.isEmpty else {
            throw StoreError(.invalid, "a token signing key needs an id of 1 to 64 bytes and sealed material")
        }
        try await store.count(
            """
            INSERT INTO token_signing_key (key_id, sealed_private_key, created_at)
            VALUES (\(key.keyID), \(Data(key.sealedPrivateKey)), \(key.createdAt))
            """)
    }

    func removeSigningKeys(createdBefore time: Int64) async throws -> Int {
        try await store.count("DELETE FROM token_signing_key WHERE created_at < \(time) RETURNING 1")
    }
}

/// ``CapabilityTokenRepository`` on the `capability_token` table: one primary-key read per verification, so a
/// revocation on any replica counts on every replica at once.
struct PostgresCapabilityTokens: CapabilityTokenRepository {
    let store: PostgresStore

    func insert(_ token: StoredCapabilityToken) async throws {
        guard !token.id.isEmpty, token.id.utf8.count <= 64 else { throw StoreError(.invalid, "a token id must be 1…64 bytes") }
        guard !token.subject.isEmpty, token.subject.utf8.count <= 1024, token.capabilitiesJSON.utf8.count <= 64 * 1024 else {
            throw StoreError(.invalid, "a token's subject must be 1…1024 bytes and its capabilities at most 64 KiB")
        }
        let inserted = try await store.count(
            """
            INSERT INTO capability_token (id, subject, capabilities, key_version, issued_at, expires_at, revoked_at)
            VALUES (\(token.id), \(token.subject), \(token.capabilitiesJSON), \(Int64(token.keyVersion)), \(token.issuedAt),
                \(token.expiresAt), \(token.revokedAt))
            ON CONFLICT (id) DO NOTHING RETURNING 1
            """)
        guard inserted == 1 else { throw StoreError(.invalid, "a token with id \(token.id) exists already") }
    }

    func token(_ id: String) async throws -> StoredCapabilityToken? {
        try await store.rows("SELECT \(unescaped: Self.columns) FROM capability_token WHERE id = \(id)", Self.token).first
    }

    func all() async throws -> [StoredCapabilityToken] {
        try await store.rows("SELECT \(unescaped: Self.columns) FROM capability_token ORDER BY issued_at, id", Self.token)
    }

    func revoke(_ id: String, at time: Int64) async throws -> Bool {
        try await store.count("UPDATE capability_token SET revoked_at = COALESCE(revoked_at, \(time)) WHERE id = \(id) RETURNING 1") == 1
    }

    private static let columns = "id, subject, capabilities, key_version, issued_at, expires_at, revoked_at"

    private static func token(_ row: PostgresRow) throws -> StoredCapabilityToken {
        let (id, subject, capabilities, version, issued, expires, revoked) = try row.decode(
            (String, String, String, Int64, Int64, Int64, Int64?).self)
        return StoredCapabilityToken(
            id: id, subject: subject, capabilitiesJSON: capabilities, keyVersion: UInt32(clamping: version), issuedAt: issued,
            expiresAt: expires, revokedAt: revoked)
    }
}

/// ``APIKeyRepository`` on the `api_key` table.
struct PostgresAPIKeys: APIKeyRepository {
    let store: PostgresStore

    func insert(_ key: StoredAPIKey) async throws {
        guard !key.keyID.isEmpty, key.keyID.utf8.count <= 64, key.secretHash.count == 32 else {
            throw StoreError(.invalid, "an API key needs an id of 1 to 64 bytes and a 32-byte hash")
        }
        try await store.count(
            """
            INSERT INTO api_key (key_id, secret_hash, subject, created_at, expires_at, revoked_at, name, sealed_secret)
            VALUES (\(key.keyID), \(Data(key.secretHash)), \(key.subject), \(key.createdAt), \(key.expiresAt), NULL, \(key.name),
                \(key.sealedSecret.map { Data($0) }))
            """)
    }

    func key(_ id: String) async throws -> StoredAPIKey? {
        try await store.rows("SELECT \(unescaped: Self.columns) FROM api_key WHERE key_id = \(id)", Self.key).first
    }

    func all() async throws -> [StoredAPIKey] {
        try await store.rows("SELECT \(unescaped: Self.columns) FROM api_key ORDER BY created_at DESC, key_id", Self.key)
    }

    func revoke(_ id: String, at time: Int64) async throws -> Bool {
        try await store.count("UPDATE api_key SET revoked_at = COALESCE(revoked_at, \(time)) WHERE key_id = \(id) RETURNING 1") == 1
    }

    private static let columns = "key_id, secret_hash, subject, created_at, expires_at, revoked_at, name, sealed_secret"

    private static func key(_ row: PostgresRow) throws -> StoredAPIKey {
        let (id, hash, subject, created, expires, revoked, name, sealed) = try row.decode(
            (String, Data, String, Int64, Int64?, Int64?, String, Data?).self)
        return StoredAPIKey(
            keyID: id, secretHash: Array(hash), subject: subject, createdAt: created, expiresAt: expires, revokedAt: revoked, name: name,
            sealedSecret: sealed.map { Array($0) })
    }
}
