package import Foundation
package import KBSBroker
import KBSClaims

extension BrokerPorts {
    /// The broker's ports on one SQLite store: every repository reads and writes `store`, off the cooperative pool.
    /// RCAR sessions stay in `sessions` (this process's memory by default) until the store keeps them too.
    package static func sqlite(
        _ store: Store, sessions: any RCARSessionStore = InMemoryRCARSessions(), clock: @escaping @Sendable () -> Date = { Date() }
    ) -> BrokerPorts {
        BrokerPorts(
            audit: SQLiteAuditTrail(store: store), nonces: SQLiteNonceLedger(store: store), resources: SQLiteResources(store: store),
            referenceValues: SQLiteReferenceValues(store: store), capabilityTokens: SQLiteCapabilityTokens(store: store),
            sessions: sessions, apiKeys: SQLiteAPIKeys(store: store), tokenSigningKeys: SQLiteTokenSigningKeys(store: store),
            revisions: SQLiteReleaseRevisions(store: store), clock: clock)
    }
}

/// ``AuditTrail`` on the store's hash-chained `audit` table.
struct SQLiteAuditTrail: AuditTrail {
    let store: Store

    func append(_ entry: AuditEntry) async throws {
        let entry = store.redactor?.redacting(entry) ?? entry
        _ = try await store.appendAudit(entry, spending: nil)
    }

    func append(_ entry: AuditEntry, spending value: SingleUseSpend) async throws -> Bool {
        let entry = store.redactor?.redacting(entry) ?? entry
        let spend = (value.value, value.namespace, Self.milliseconds(value.expires), Self.milliseconds(value.now))
        return try await store.appendAudit(entry, spending: spend) != .spent
    }

    static func milliseconds(_ date: Date) -> Int64 { Int64(date.timeIntervalSince1970 * 1000) }
}

/// ``NonceLedger`` on the `single_use` table.
struct SQLiteNonceLedger: NonceLedger {
    let store: Store

    func useOnce(_ value: String, namespace: String, expires: Date, now: Date) async throws -> Bool {
        let expiry = Int64(expires.timeIntervalSince1970 * 1000)
        let at = Int64(now.timeIntervalSince1970 * 1000)
        return try await store.offPool { store throws(StoreError) in try store.useOnce(value, namespace: namespace, expiry: expiry, now: at) }
    }

    func consume(_ value: String, namespace: String, now: Date) async throws -> Bool {
        let at = Int64(now.timeIntervalSince1970 * 1000)
        return try await store.offPool { store throws(StoreError) in try store.consumeOnce(value, namespace: namespace, now: at) }
    }

    func isSpent(_ value: String, namespace: String, now: Date) async throws -> Bool {
        let at = SQLiteAuditTrail.milliseconds(now)
        return try await store.offPool { store throws(StoreError) in try store.isSpent(value, namespace: namespace, now: at) }
    }
}

/// ``TokenSigningKeyRepository`` on the `token_signing_key` table.
struct SQLiteTokenSigningKeys: TokenSigningKeyRepository {
    let store: Store

    func signingKeys() async throws -> [StoredTokenSigningKey] {
        try await store.offPool { store throws(StoreError) in try store.tokenSigningKeys() }
    }

    func addSigningKey(_ key: StoredTokenSigningKey) async throws {
        try await store.offPool { store throws(StoreError) in try store.insertTokenSigningKey(key) }
    }

    func removeSigningKeys(createdBefore time: Int64) async throws -> Int {
        try await store.offPool { store throws(StoreError) in try store.removeTokenSigningKeys(createdBefore: time) }
    }
}

/// ``ResourceRepository`` on the `resource` table.
struct SQLiteResources: ResourceRepository {
    let store: Store

    func resource(at path: String) async throws -> StoredResource? {
        try await store.offPool { store throws(StoreError) in try store.resource(path) }
    }

    func all() async throws -> [StoredResource] {
        try await store.offPool { store throws(StoreError) in try store.resources() }
    }

    func put(_ resource: StoredResource) async throws -> Bool {
        try await store.offPool { store throws(StoreError) in try store.putResource(resource) }
    }

    func delete(at path: String) async throws -> Bool {
        try await store.offPool { store throws(StoreError) in try store.deleteResource(path) }
    }
}

/// ``ReferenceValueRepository`` on the `reference_value` table.
struct SQLiteReferenceValues: ReferenceValueRepository {
    let store: Store

    func add(kind: String, name: String, values: [String]) async throws -> Int {
        try await store.offPool { store throws(StoreError) in try store.addReferenceValues(kind: kind, name: name, values: values) }
    }

    func remove(kind: String, name: String, values: [String]) async throws -> Int {
        try await store.offPool { store throws(StoreError) in try store.removeReferenceValues(kind: kind, name: name, values: values) }
    }

    func all() async throws -> [String: [String: [String]]] {
        try await store.offPool { store throws(StoreError) in try store.referenceValues() }
    }
}

/// ``ReleaseRevisionSource`` on the trigger-kept `release_revision` row.
struct SQLiteReleaseRevisions: ReleaseRevisionSource {
    let store: Store

    func releaseRevisions() async throws -> ReleaseRevisions {
        try await store.offPool { store throws(StoreError) in try store.releaseRevisions() }
    }
}

/// ``CapabilityTokenRepository`` on the `capability_token` table.
struct SQLiteCapabilityTokens: CapabilityTokenRepository {
    let store: Store

    func insert(_ token: StoredCapabilityToken) async throws {
        try await store.offPool { store throws(StoreError) in try store.insertCapabilityToken(token) }
    }

    func token(_ id: String) async throws -> StoredCapabilityToken? {
        try await store.offPool { store throws(StoreError) in try store.capabilityToken(id) }
    }

    func all() async throws -> [StoredCapabilityToken] {
        try await store.offPool { store throws(StoreError) in try store.capabilityTokens() }
    }

    func revoke(_ id: String, at time: Int64) async throws -> Bool {
        try await store.offPool { store throws(StoreError) in try store.revokeCapabilityToken(id, at: time) }
    }
}

/// ``APIKeyRepository`` on the `api_key` table.
struct SQLiteAPIKeys: APIKeyRepository {
    let store: Store

    func insert(_ key: StoredAPIKey) async throws {
        try await store.offPool { store throws(StoreError) in try store.insertAPIKey(key) }
    }

    func key(_ id: String) async throws -> StoredAPIKey? {
        try await store.offPool { store throws(StoreError) in try store.apiKey(id) }
    }

    func all() async throws -> [StoredAPIKey] {
        try await store.offPool { store throws(StoreError) in try store.apiKeys() }
    }

    func revoke(_ id: String, at time: Int64) async throws -> Bool {
        try await store.offPool { store throws(StoreError) in try store.revokeAPIKey(id, at: time) }
    }
}
