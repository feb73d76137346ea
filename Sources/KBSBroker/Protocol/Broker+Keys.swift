import Foundation
package import KBSClaims
package import KBSKeys

extension Broker {
    /// What the admin API may do to a key.
    package enum KeyOperation: String, Sendable {
        case rotate
        case disable
        case enable
        case scheduleDeletion = "schedule-deletion"
        case cancelDeletion = "cancel-deletion"
    }

    /// Every key record.
    package func keyRecords() async throws(BrokerError) -> [KeyRecord] {
        let keys = try await vault.keySource.hierarchy()
        do { return try await keys.records() } catch { throw Self.keyError(error) }
    }

    /// One key record.
    package func keyRecord(_ id: String) async throws(BrokerError) -> KeyRecord {
        let keys = try await vault.keySource.hierarchy()
        do { return try await keys.record(id) } catch { throw Self.keyError(error) }
    }

    /// Creates a KEK (or a data key under `parent`); with `platform`, at the best tier it offers at or below
    /// `requiredTier`, labelled `tier_requested` when lower. Audited either way.
    package func createKey(id: String, parent: String?, requiredTier: PrivacyTier, labels: [String: String], platform: PlatformCapabilities?)
        async throws(BrokerError) -> KeyRecord
    {
        let fallback = TierFallback(requested: requiredTier, labels: labels, platform: platform)
        let record = try await keyOperation("create", id) { keys, now throws(KeyError) in
            try await keys.createKey(id: id, parent: parent, requiredTier: fallback.granted, labels: fallback.labels, now: now)
        }
        if fallback.degraded { try await audit(BrokerKeys.fallbackAudit(id: id, actor: "admin", fallback)) }
        return record
    }

    /// Runs a state change on key `id`; audited either way.
    package func keyOperation(_ operation: KeyOperation, id: String, days: Int = 30) async throws(BrokerError) -> KeyRecord {
        try await keyOperation(operation.rawValue, id) { keys, now throws(KeyError) in
            switch operation {
            case .rotate: try await keys.rotate(id, now: now)
            case .disable: try await keys.disable(id)
            case .enable: try await keys.enable(id)
            case .scheduleDeletion: try await keys.scheduleDeletion(id, days: days, now: now)
            case .cancelDeletion: try await keys.cancelDeletion(id)
            }
        }
    }

    private func keyOperation(
        _ action: String, _ id: String, _ body: (KeyHierarchy, Date) async throws(KeyError) -> KeyRecord
    ) async throws(BrokerError) -> KeyRecord {
        let keys = try await vault.keySource.hierarchy()
        let record: KeyRecord
        do { record = try await body(keys, clock()) } catch {
            try await audit(
                AuditEntry(
                    kind: .keyOperation, actor: "admin", action: action, resource: id, outcome: .failure,
                    details: ["reason": .string(error.reason.rawValue)]))
            throw Self.keyError(error)
        }
        metrics.keyOperated(action)
        // Acknowledged only once audited, like `kbs keys`.
        try await audit(
            AuditEntry(
                kind: .keyOperation, actor: "admin", action: action, resource: id, outcome: .success,
                details: ["version": .integer(Int64(record.currentVersion))]))
        return record
    }

    static func keyError(_ error: KeyError) -> BrokerError {
        switch error.reason {
        case .notFound: BrokerError(.notFound, "not_found", error.message)
        case .alreadyExists, .conflict: BrokerError(.conflict, error.reason.rawValue, error.message)
        case .invalidArgument, .malformed: BrokerError(.invalidRequest, error.reason.rawValue, error.message)
        case .disabled, .pendingDeletion, .destroyed, .invalidState: BrokerError(.conflict, error.reason.rawValue, error.message)
        default: BrokerError(.unavailable, error.reason.rawValue, error.message)
        }
    }
}
