public import Foundation

/// Everything the broker's use cases need from outside: storage behind protocols and a clock.
///
/// `KBSStore` supplies these on SQLite; tests supply them in memory. The broker never names an implementation, so a
/// PostgreSQL store can be added without touching `KBSBroker`.
public struct BrokerPorts: Sendable {
    public var audit: any AuditTrail
    public var nonces: any NonceLedger
    public var resources: any ResourceRepository
    public var referenceValues: any ReferenceValueRepository
    public var capabilityTokens: any CapabilityTokenRepository
    /// The time every step decides on; tests pin it. Verifiers and keys get it from here, never from the system.
    public var clock: @Sendable () -> Date

    /// Bundles the ports.
    public init(
        audit: any AuditTrail, nonces: any NonceLedger, resources: any ResourceRepository,
        referenceValues: any ReferenceValueRepository, capabilityTokens: any CapabilityTokenRepository,
        clock: @escaping @Sendable () -> Date = { Date() }
    ) {
        self.audit = audit
        self.nonces = nonces
        self.resources = resources
        self.referenceValues = referenceValues
        self.capabilityTokens = capabilityTokens
        self.clock = clock
    }
}
