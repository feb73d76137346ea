package import Foundation

/// Single-use values (RCAR nonces, later challenges and replay-protected ids), shared by every process on one store.
package protocol NonceLedger: Sendable {
    /// Records `value` in `namespace` until `expires`; false when it is already recorded and unexpired.
    func useOnce(_ value: String, namespace: String, expires: Date, now: Date) async throws -> Bool
    /// Spends a value ``useOnce(_:namespace:expires:now:)`` recorded (a challenge this broker issued): true exactly
    /// once, while it is unexpired.
    func consume(_ value: String, namespace: String, now: Date) async throws -> Bool
    /// Whether `value` is recorded in `namespace` and unexpired, changing nothing: a cheap early refusal of a replay,
    /// never the authority (a spend that writes, such as ``AuditTrail/append(_:spending:)``, is).
    func isSpent(_ value: String, namespace: String, now: Date) async throws -> Bool
}
