import Foundation
package import KBSClaims
import KBSKeys

extension KeyService {
    /// `CreateKey`: a new enabled key of `spec`, its tags its labels; the reserved tag `kbs:required-tier` (0–4) sets
    /// the tier callers must reach to use it, `PRIVACY_TIER` otherwise.
    package func createKey(_ caller: KMSCaller, description: String, usage: KMSKeyUsage?, spec: KMSKeySpec, tags: [String: String])
        async throws(BrokerError) -> KMSKeyView
    {
        let action = "kms:CreateKey"
        guard usage == nil || usage == spec.usage else {
            throw Self.error(
                "validation", "KeyUsage \(usage?.rawValue ?? "") is not valid for KeySpec \(spec.rawValue); it takes \(spec.usage.rawValue)")
        }
        guard description.utf8.count <= 8192 else { throw Self.error("validation", "Description is at most 8192 characters") }
        var labels = tags
        var tier = defaultTier
        if let text = labels.removeValue(forKey: Self.tierTag) {
            guard let parsed = PrivacyTier(text: text) else {
                throw Self.error("tag", "\(Self.tierTag) must be a privacy tier from 0 to 4 (or its name), not \(text.prefix(32))")
            }
            tier = parsed
        }
        try Self.validateTags(labels)
        try await authorize(caller, action, Subject(key: nil, alias: nil, requested: (tier, labels, spec.usage, spec), context: nil))
        let keys = try await broker.vault.keySource.hierarchy()
        let now = broker.clock()
        try await ensureParent(keys, now: now)
        let id = UUID().uuidString.lowercased()
        let record: KeyRecord
        do {
            record = try await keys.createDataKey(
                id: Self.recordPrefix + id, parent: Self.parentID, requiredTier: tier, labels: labels, algorithm: spec.algorithm, now: now)
        } catch {
            throw await failed(caller, action, Self.recordPrefix + id, Self.keyError(error))
        }
        let entry = KMSKeyEntry(
            id: id, creator: caller.identity.subject, description: description, usage: spec.usage, spec: spec,
            createdAt: Int64(now.timeIntervalSince1970 * 1000))
        try await repository(.write) { try await repository.insert(entry) }
        try await audited(caller, action, record.id, ["key_spec": .string(spec.rawValue), "required_tier": .integer(Int64(tier.rawValue))])
        return KMSKeyView(entry: entry, record: record)
    }

    /// `DescribeKey`.
    package func describeKey(_ caller: KMSCaller, _ reference: String) async throws(BrokerError) -> KMSKeyView {
        let key = try await resolve(reference)
        try await authorize(caller, "kms:DescribeKey", .key(key))
        try await audited(caller, "kms:DescribeKey", key.record.id)
        return key
    }

    /// `ListKeys`: up to `limit` keys after `marker` (the last key id of the previous page), and the next marker when
    /// more follow. Keys deleted or past their deletion date are left out.
    package func listKeys(_ caller: KMSCaller, limit: Int, marker: String?) async throws(BrokerError) -> (keys: [String], next: String?) {
        if let marker, !KMSKeyReference.isKeyID(marker) { throw Self.error("invalid_marker", "Marker is not one ListKeys returned") }
        try await authorize(caller, "kms:ListKeys", .account)
        let keys = try await broker.vault.keySource.hierarchy()
        var found: [String] = []
        var after = marker
        var more = false
        // Pages of the repository until `limit` live keys are found, and one more tells whether a next page exists.
        scan: while true {
            let page = try await repository(.read) { try await repository.keys(after: after, limit: max(limit, 100)) }
            for entry in page {
                after = entry.id
                guard let record = try? await keys.record(Self.recordPrefix + entry.id) else { continue }
                switch record.state {
                case .destroyed: continue
                case .pendingDeletion(let until) where broker.clock() >= until: continue
                default: break
                }
                if found.count == limit {
                    more = true
                    break scan
                }
                found.append(entry.id)
            }
            if page.count < max(limit, 100) { break }
        }
        try await audited(caller, "kms:ListKeys", "*", ["count": .integer(Int64(found.count))])
        return (found, more ? found.last : nil)
    }

    /// `EnableKey`, `DisableKey` and `CancelKeyDeletion`, by AWS's operation name.
    package func changeState(_ caller: KMSCaller, _ operation: String, _ reference: String) async throws(BrokerError) -> KMSKeyView {
        let action = "kms:" + operation
        let key = try await resolve(reference)
        try await authorize(caller, action, .key(key))
        let keys = try await broker.vault.keySource.hierarchy()
        let record: KeyRecord
        do {
            switch operation {
            case "EnableKey": record = try await keys.enable(key.record.id)
            case "DisableKey": record = try await keys.disable(key.record.id)
            default: record = try await keys.cancelDeletion(key.record.id)
            }
        } catch {
            throw await failed(caller, action, key.record.id, Self.keyError(error))
        }
        var entry = key.entry
        if operation == "CancelKeyDeletion" {
            entry.deletionWindowDays = nil
            try await save(entry)
        }
        try await audited(caller, action, record.id)
        return KMSKeyView(entry: entry, record: record)
    }

    /// `UpdateKeyDescription`.
    package func describe(_ caller: KMSCaller, _ reference: String, description: String) async throws(BrokerError) {
        guard description.utf8.count <= 8192 else { throw Self.error("validation", "Description is at most 8192 characters") }
        let key = try await resolve(reference)
        try await authorize(caller, "kms:UpdateKeyDescription", .key(key))
        var entry = key.entry
        entry.description = description
        try await save(entry)
        try await audited(caller, "kms:UpdateKeyDescription", key.record.id)
    }

    /// `ScheduleKeyDeletion`: destroyed `days` (7–30) days from now unless cancelled; meanwhile it refuses use.
    package func scheduleDeletion(_ caller: KMSCaller, _ reference: String, days: Int) async throws(BrokerError) -> KMSKeyView {
        let action = "kms:ScheduleKeyDeletion"
        guard DeletionWindow.days.contains(days) else {
            throw Self.error("validation", "PendingWindowInDays must be from 7 to 30, not \(days)")
        }
        let key = try await resolve(reference)
        try await authorize(caller, action, .key(key))
        let keys = try await broker.vault.keySource.hierarchy()
        let record: KeyRecord
        do { record = try await keys.scheduleDeletion(key.record.id, days: days, now: broker.clock()) } catch {
            throw await failed(caller, action, key.record.id, Self.keyError(error))
        }
        var entry = key.entry
        entry.deletionWindowDays = days
        try await save(entry)
        try await audited(caller, action, record.id, ["days": .integer(Int64(days))])
        return KMSKeyView(entry: entry, record: record)
    }

    // MARK: Rotation

    /// `EnableKeyRotation` (`days` 90–2560) and `DisableKeyRotation` (`days` nil): symmetric keys only.
    package func setRotation(_ caller: KMSCaller, _ reference: String, days: Int?) async throws(BrokerError) -> KMSKeyView {
        let action = days == nil ? "kms:DisableKeyRotation" : "kms:EnableKeyRotation"
        if let days, !(90...2560).contains(days) {
            throw Self.error("validation", "RotationPeriodInDays must be from 90 to 2560, not \(days)")
        }
        let key = try await resolve(reference)
        try await authorize(caller, action, .key(key))
        guard key.entry.spec == .symmetricDefault else {
            throw await failed(caller, action, key.record.id, Self.error("unsupported", "\(key.entry.spec.rawValue) keys do not rotate"))
        }
        do { try key.record.requireEnabled() } catch { throw await failed(caller, action, key.record.id, Self.keyError(error)) }
        var entry = key.entry
        if let days {
            // Turning rotation on starts a period now; changing the period keeps the one under way.
            if entry.rotationPeriodDays == nil { entry.rotationStartedAt = Int64(broker.clock().timeIntervalSince1970 * 1000) }
            entry.rotationPeriodDays = days
        } else {
            entry.rotationPeriodDays = nil
            entry.rotationStartedAt = nil
        }
        try await save(entry)
        try await audited(caller, action, key.record.id, days.map { ["days": .integer(Int64($0))] } ?? [:])
        return KMSKeyView(entry: entry, record: key.record)
    }

    /// `GetKeyRotationStatus`.
    package func rotationStatus(_ caller: KMSCaller, _ reference: String) async throws(BrokerError) -> KMSKeyView {
        let key = try await resolve(reference)
        try await authorize(caller, "kms:GetKeyRotationStatus", .key(key))
        guard key.entry.spec == .symmetricDefault else {
            throw await failed(
                caller, "kms:GetKeyRotationStatus", key.record.id, Self.error("unsupported", "\(key.entry.spec.rawValue) keys do not rotate"))
        }
        try await audited(caller, "kms:GetKeyRotationStatus", key.record.id)
        return key
    }

    /// `RotateKeyOnDemand`: a new version now; older versions still decrypt what they encrypted.
    package func rotateNow(_ caller: KMSCaller, _ reference: String) async throws(BrokerError) -> KMSKeyView {
        let action = "kms:RotateKeyOnDemand"
        let key = try await resolve(reference)
        try await authorize(caller, action, .key(key))
        guard key.entry.spec == .symmetricDefault else {
            throw await failed(caller, action, key.record.id, Self.error("unsupported", "\(key.entry.spec.rawValue) keys do not rotate"))
        }
        let keys = try await broker.vault.keySource.hierarchy()
        let record: KeyRecord
        do { record = try await keys.rotate(key.record.id, now: broker.clock()) } catch {
            throw await failed(caller, action, key.record.id, Self.keyError(error))
        }
        try await audited(caller, action, record.id, ["version": .integer(Int64(record.currentVersion))])
        return KMSKeyView(entry: key.entry, record: record)
    }

    /// The key as encryption should use it: rotated first when automatic rotation is on and its period has passed.
    ///
    /// Rotation happens at the first encryption due or at the server's next key sweep, whichever comes first; a
    /// concurrent request that rotated first wins, and this one uses its new version.
    func rotatedIfDue(_ key: KMSKeyView) async throws(BrokerError) -> KMSKeyView {
        try await rotateIfDue(key).key
    }

    /// The key rotated when automatic rotation is on and its period has passed (audited as `kms:RotateKey` by `kbs`),
    /// and whether this call rotated it.
    ///
    /// Another request or replica may rotate first: a revision conflict serves its version, and so does a current
    /// version made since the period ended (a rotation whose new period is not yet recorded), whose time then starts
    /// the next period; so replicas sweeping at the same moment rotate a key once.
    func rotateIfDue(_ key: KMSKeyView) async throws(BrokerError) -> (key: KMSKeyView, rotated: Bool) {
        let now = broker.clock()
        guard let next = key.nextRotation, now >= next, case .enabled = key.record.state else { return (key, false) }
        var entry = key.entry
        if let current = key.record.version(key.record.currentVersion), current.created >= next {
            entry.rotationStartedAt = Int64(current.created.timeIntervalSince1970 * 1000)
            try await save(entry)
            return (KMSKeyView(entry: entry, record: key.record), false)
        }
        let keys = try await broker.vault.keySource.hierarchy()
        entry.rotationStartedAt = Int64(now.timeIntervalSince1970 * 1000)
        let record: KeyRecord
        do { record = try await keys.rotate(key.record.id, now: now, expectedRevision: key.record.revision) } catch {
            if error.reason == .conflict { return (try await view(key.entry.id), false) }
            throw Self.keyError(error)
        }
        try await save(entry)
        broker.metrics.keyOperated("kms:RotateKey")
        try await broker.audit(
            AuditEntry(
                kind: .keyOperation, actor: "kbs", action: "kms:RotateKey", resource: record.id, outcome: .success,
                details: ["version": .integer(Int64(record.currentVersion)), "automatic": .bool(true)]))
        return (KMSKeyView(entry: entry, record: record), true)
    }

    // MARK: Destruction

    /// Destroys the KMS key whose record is `recordID` (`kms/<id>`) once its deletion date has come: its wrapped material
    /// is dropped, its aliases deleted (as on AWS), and the destruction audited as `kms:DestroyKey` by `kbs`. Returns the
    /// record as it then stands and whether this call destroyed it.
    ///
    /// Another request or replica may get there first, or the deletion may be cancelled meanwhile: a revision conflict
    /// reads the record again (and tries again while it is still due), and a key destroyed already or no longer due is
    /// left as it is, `destroyed` false.
    func destroyExpired(_ recordID: String, keys: KeyHierarchy, now: Date) async throws(BrokerError) -> (record: KeyRecord, destroyed: Bool) {
        var attempts = 0
        while true {
            attempts += 1
            let record: KeyRecord
            do { record = try await keys.destroy(recordID, now: now) } catch {
                guard [.conflict, .destroyed, .invalidState].contains(error.reason) else { throw Self.keyError(error) }
                let current: KeyRecord
                do { current = try await keys.record(recordID) } catch { throw Self.keyError(error) }
                if error.reason == .conflict, attempts < 3, case .pendingDeletion(let until) = current.state, now >= until { continue }
                return (current, false)
            }
            let id = String(recordID.dropFirst(Self.recordPrefix.count))
            let aliases = try await repository(.read) { try await repository.aliases(after: nil, limit: 10_000, keyID: id) }
            for alias in aliases { _ = try await repository(.write) { try await repository.deleteAlias(alias.name) } }
            broker.metrics.keyOperated("kms:DestroyKey")
            try await broker.audit(
                AuditEntry(
                    kind: .keyOperation, actor: "kbs", action: "kms:DestroyKey", resource: record.id, outcome: .success,
                    details: ["aliases": .list(aliases.map { .string($0.name) })]))
            return (record, true)
        }
    }

    // MARK: Helpers

    /// Creates the key-encryption key above every KMS key when it is missing (another replica may race; its key is as
    /// good), audited.
    func ensureParent(_ keys: KeyHierarchy, now: Date) async throws(BrokerError) {
        do { _ = try await keys.record(Self.parentID) } catch {
            guard error.reason == .notFound else { throw Self.keyError(error) }
            do { _ = try await keys.createKeyEncryptionKey(id: Self.parentID, now: now) } catch {
                if error.reason == .alreadyExists { return }
                throw Self.keyError(error)
            }
            try await broker.audit(AuditEntry(kind: .keyOperation, actor: "kbs", action: "create", resource: Self.parentID, outcome: .success))
        }
    }

    /// Stores a changed entry.
    func save(_ entry: KMSKeyEntry) async throws(BrokerError) {
        guard try await repository(.write, { try await repository.update(entry) }) else {
            throw Self.error("not_found", "Key '\(entry.id)' does not exist")
        }
    }
}

extension KeyRecord {
    /// Refuses a key that is not enabled, as a KeyError naming its state.
    func requireEnabled() throws(KeyError) {
        switch state {
        case .enabled: return
        case .disabled: throw KeyError(.disabled, "key \(id) is disabled")
        case .pendingDeletion: throw KeyError(.pendingDeletion, "key \(id) is pending deletion")
        case .destroyed: throw KeyError(.destroyed, "key \(id) was destroyed")
        }
    }
}
