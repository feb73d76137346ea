/// Where the broker reports what it does; the server points these at its Prometheus registry.
package struct BrokerMetrics: Sendable {
    /// An attestation finished: TEE kind, whether it verified, how long it took.
    package var attestation: @Sendable (_ kind: String, _ success: Bool, _ nanoseconds: UInt64) -> Void = { _, _, _ in }
    /// A resource request finished (released or not), with its latency.
    package var release: @Sendable (_ nanoseconds: UInt64) -> Void = { _ in }
    /// The release policy denied a request.
    package var deny: @Sendable () -> Void = {}
    /// An audit record could not be written (the step was refused).
    package var auditFailure: @Sendable () -> Void = {}
    /// A key operation succeeded: `create`, `rotate`, …, `seal` (a resource written), `unseal` (a resource released).
    package var keyOperation: @Sendable (_ operation: String) -> Void = { _ in }

    /// Metrics that go nowhere.
    package init() {}

    func attested(kind: String, success: Bool, nanoseconds: UInt64) { attestation(kind, success, nanoseconds) }
    func released(nanoseconds: UInt64) { release(nanoseconds) }
    func denied() { deny() }
    func auditFailed() { auditFailure() }
    func keyOperated(_ operation: String) { keyOperation(operation) }
}
