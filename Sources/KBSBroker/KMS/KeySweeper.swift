import Foundation
import KBSClaims
package import KBSKeys

/// What one sweep did, for the server's log and `/metrics`: key ids and refusal codes, never key material.
package struct KeySweep: Sendable, Equatable {
    /// A key the sweep could not destroy or rotate; the next sweep tries again.
    package struct Failure: Sendable, Equatable {
        /// The key's id in the hierarchy, or `*` when the sweep could not start (the store or the master key failed).
        package var key: String
        package var code: String
        package var message: String
    }

    /// Keys this sweep destroyed because their deletion date had come (hierarchy ids; `kms/<id>` for a KMS key).
    package var destroyed: [String] = []
    /// KMS keys this sweep rotated because their automatic rotation period had passed (hierarchy ids).
    package var rotated: [String] = []
    /// What failed; the rest of the sweep went on.
    package var failures: [Failure] = []
    /// Whether the sweep stopped between two keys because its task was cancelled (the server shutting down).
    package var interrupted = false
}

/// The time-driven half of the key lifecycle: destroys every key whose deletion date has come and rotates every KMS key
/// whose automatic rotation period has passed, without waiting for a request to touch them. `kbs serve` runs it on a
/// period (`[keys] sweep_interval_seconds`).
///
/// A KMS key is destroyed through ``KeyService``, so its aliases go with it and it is audited as `kms:DestroyKey`; any
/// other key through the hierarchy, audited as `destroy`; both by the actor `kbs`. Rotation is the one encryption does
/// when due (`kms:RotateKey`, `automatic`). Replicas may sweep the same store at the same moment: a key another one
/// changed first is left to it, not reported as a failure. What is due is found from the records and the KMS entries
/// alone, so a sweep with nothing to do never opens the key hierarchy (and never unseals the master key).
package struct KeySweeper: Sendable {
    let keys: KeyService
    /// The key records, read without the master key.
    let records: any KeyRecordStore
    /// How many KMS entries are read at a time while looking for rotations due.
    static let pageSize = 500

    /// A sweeper over `keys`' hierarchy, finding what is due in `records` (the same records, read directly).
    package init(keys: KeyService, records: any KeyRecordStore) {
        self.keys = keys
        self.records = records
    }

    /// One sweep at the broker's clock; failures are reported per key and never stop the rest.
    package func sweep() async -> KeySweep {
        var sweep = KeySweep()
        let now = keys.broker.clock()
        var expired: [KeyRecord] = []
        var rotating: [(KMSKeyEntry, KeyRecord)] = []
        do {
            expired = try await records.list().filter { record in
                guard case .pendingDeletion(let until) = record.state else { return false }
                return now >= until
            }
            rotating = try await rotationsDue(now)
        } catch {
            sweep.failures.append(KeySweep.Failure(key: "*", code: "storage", message: "the key records cannot be read: \(error)"))
        }
        guard !expired.isEmpty || !rotating.isEmpty else { return sweep }
        let hierarchy: KeyHierarchy
        do { hierarchy = try await keys.broker.vault.keySource.hierarchy() } catch {
            sweep.failures.append(KeySweep.Failure(key: "*", code: error.code, message: error.message))
            return sweep
        }
        for record in expired {
            guard !Task.isCancelled else {
                sweep.interrupted = true
                return sweep
            }
            do {
                let destroyed =
                    record.id.hasPrefix(KeyService.recordPrefix)
                    ? try await keys.destroyExpired(record.id, keys: hierarchy, now: now).destroyed
                    : try await destroy(record.id, hierarchy, now: now)
                if destroyed { sweep.destroyed.append(record.id) }
            } catch {
                sweep.failures.append(KeySweep.Failure(key: record.id, code: error.code, message: error.message))
            }
        }
        for (entry, record) in rotating {
            guard !Task.isCancelled else {
                sweep.interrupted = true
                return sweep
            }
            do {
                if try await keys.rotateIfDue(KMSKeyView(entry: entry, record: record)).rotated { sweep.rotated.append(record.id) }
            } catch {
                sweep.failures.append(KeySweep.Failure(key: record.id, code: error.code, message: error.message))
            }
        }
        return sweep
    }

    /// The enabled symmetric KMS keys whose rotation period has passed, with their records.
    private func rotationsDue(_ now: Date) async throws -> [(KMSKeyEntry, KeyRecord)] {
        var due: [(KMSKeyEntry, KeyRecord)] = []
        var after: String?
        while true {
            let page = try await keys.repository.keys(after: after, limit: Self.pageSize)
            for entry in page where entry.spec == .symmetricDefault {
                guard let next = entry.nextRotation, now >= next else { continue }
                guard let record = try await records.load(KeyService.recordPrefix + entry.id), case .enabled = record.state else { continue }
                due.append((entry, record))
            }
            guard page.count == Self.pageSize, let last = page.last else { return due }
            after = last.id
        }
    }

    /// Destroys key `id` (not a KMS key), audited as `destroy` by `kbs`; false when another request or replica
    /// changed it first (the next sweep looks again) or it is no longer due.
    private func destroy(_ id: String, _ hierarchy: KeyHierarchy, now: Date) async throws(BrokerError) -> Bool {
        let record: KeyRecord
        do { record = try await hierarchy.destroy(id, now: now) } catch {
            if [.conflict, .destroyed, .invalidState].contains(error.reason) { return false }
            throw Broker.keyError(error)
        }
        keys.broker.metrics.keyOperated("destroy")
        try await keys.broker.audit(
            AuditEntry(
                kind: .keyOperation, actor: "kbs", action: "destroy", resource: id, outcome: .success,
                details: ["versions": .integer(Int64(record.versions.count))]))
        return true
    }
}
