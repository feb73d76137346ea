package import Foundation

/// Everything the broker's use cases need from outside: storage behind protocols and a clock.
///
/// `KBSStore` supplies these on SQLite; tests supply them in memory. The broker never names an implementation, so a
/// PostgreSQL store can be added without touching `KBSBroker`.
package struct BrokerPorts: Sendable {
    package var audit: any AuditTrail
    package var nonces: any NonceLedger
    package var resources: any ResourceRepository
    package var referenceValues: any ReferenceValueRepository
    package var capabilityTokens: any CapabilityTokenRepository
    /// API keys: bearer checks, request signing, administration.
    package var apiKeys: any APIKeyRepository
    /// RCAR sessions between `auth`, `attest` and `resource`.
    package var sessions: any RCARSessionStore
    /// The attestation-token signing keys, sealed.
    package var tokenSigningKeys: any TokenSigningKeyRepository
    /// Change counters of the release's stored inputs, for the broker's in-memory copies; nil reads them every time.
    package var revisions: (any ReleaseRevisionSource)?
    /// The time every step decides on; tests pin it. Verifiers and keys get it from here, never from the system.
    package var clock: @Sendable () -> Date

    /// Bundles the ports.
    package init(
        audit: any AuditTrail, nonces: any NonceLedger, resources: any ResourceRepository,
        referenceValues: any ReferenceValueRepository, capabilityTokens: any CapabilityTokenRepository,
        sessions: any RCARSessionStore = InMemoryRCARSessions(), apiKeys: any APIKeyRepository = NoAPIKeys(),
        tokenSigningKeys: any TokenSigningKeyRepository = InMemoryTokenSigningKeys(), revisions: (any ReleaseRevisionSource)? = nil,
        clock: @escaping @Sendable () -> Date = { Date() }
    ) {
        self.revisions = revisions
        self.tokenSigningKeys = tokenSigningKeys
        self.apiKeys = apiKeys
        self.audit = audit
        self.nonces = nonces
        self.resources = resources
        self.referenceValues = referenceValues
        self.capabilityTokens = capabilityTokens
        self.sessions = sessions
        self.clock = clock
    }
}

/// An ``APIKeyRepository`` that holds nothing and refuses to store: for brokers that take no API keys.
package struct NoAPIKeys: APIKeyRepository {
    /// Creates the empty repository.
    package init() {}
    package func insert(_ key: StoredAPIKey) async throws { throw BrokerError(.unavailable, "store_unavailable", "this broker keeps no API keys") }
    package func key(_ id: String) async throws -> StoredAPIKey? { nil }
    package func all() async throws -> [StoredAPIKey] { [] }
    package func revoke(_ id: String, at time: Int64) async throws -> Bool { false }
}
