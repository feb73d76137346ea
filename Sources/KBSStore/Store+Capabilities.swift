import GRDB
package import KBSBroker
import KBSClaims

extension Store {
    /// Records a newly issued token; an id already present is refused (ids are random, so that means a bug or replay).
    package func insertCapabilityToken(_ token: StoredCapabilityToken) throws(StoreError) {
        guard !token.id.isEmpty, token.id.utf8.count <= 64 else { throw StoreError(.invalid, "a token id must be 1…64 bytes") }
        guard !token.subject.isEmpty, token.subject.utf8.count <= 1024, token.capabilitiesJSON.utf8.count <= 64 * 1024 else {
            throw StoreError(.invalid, "a token's subject must be 1…1024 bytes and its capabilities at most 64 KiB")
        }
        try write { db in
            if try Bool.fetchOne(db, sql: "SELECT 1 FROM capability_token WHERE id = ?", arguments: [token.id]) != nil {
                throw StoreError(.invalid, "a token with id \(token.id) exists already")
            }
            try db.execute(
                sql: """
                    INSERT INTO capability_token (id, subject, capabilities, key_version, issued_at, expires_at, revoked_at)
                    VALUES (?, ?, ?, ?, ?, ?, ?)
                    """,
                arguments: [
                    token.id, token.subject, token.capabilitiesJSON, Int64(token.keyVersion), token.issuedAt, token.expiresAt, token.revokedAt,
                ])
        }
    }

    /// The token with `id`, or nil. One primary-key read: cheap enough to run on every verification, which is what
    /// makes a revocation by any process sharing the file effective at once.
    package func capabilityToken(_ id: String) throws(StoreError) -> StoredCapabilityToken? {
        try read { db in
            try Row.fetchOne(db, sql: "SELECT * FROM capability_token WHERE id = ?", arguments: [id]).map(Self.capabilityToken)
        }
    }

    /// Every issued token, oldest first.
    package func capabilityTokens() throws(StoreError) -> [StoredCapabilityToken] {
        try read { db in
            try Row.fetchAll(db, sql: "SELECT * FROM capability_token ORDER BY issued_at, id").map(Self.capabilityToken)
        }
    }

    /// Marks the token `id` revoked at `at` (a second revocation keeps the first time); returns whether it exists.
    package func revokeCapabilityToken(_ id: String, at: Int64) throws(StoreError) -> Bool {
        try write { db in
            try db.execute(sql: "UPDATE capability_token SET revoked_at = COALESCE(revoked_at, ?) WHERE id = ?", arguments: [at, id])
            return db.changesCount > 0
        }
    }

    private static func capabilityToken(_ row: Row) -> StoredCapabilityToken {
        let version: Int64 = row["key_version"]
        return StoredCapabilityToken(
            id: row["id"], subject: row["subject"], capabilitiesJSON: row["capabilities"], keyVersion: UInt32(clamping: version),
            issuedAt: row["issued_at"], expiresAt: row["expires_at"], revokedAt: row["revoked_at"])
    }
}
