package import Foundation
package import KBSClaims
package import KBSKeys

/// A key hierarchy with every key operation audited: what `kbs keys …` drives.
///
/// The master key is sealed in `DATA_DIR/master.sealed` under a passphrase (created on first use); where the key
/// records and the audit log live is the caller's choice (`KBSStore` opens a data directory's). An operation is
/// acknowledged only after its record is durable and its audit record appended.
package struct BrokerKeys: Sendable {
    package let hierarchy: KeyHierarchy
    let audit: any AuditTrail
    let actor: String

    /// Audits operations on `hierarchy` as `actor` into `audit`.
    package init(hierarchy: KeyHierarchy, audit: any AuditTrail, actor: String) {
        self.hierarchy = hierarchy
        self.audit = audit
        self.actor = actor
    }

    /// The sealed master-key file in `directory`.
    package static func masterPath(_ directory: String) -> String { directory + "/master.sealed" }

    /// The sealed-file provider of `directory`, created when `create` and missing.
    package static func localProvider(directory: String, passphrase: [UInt8], create: Bool, scrypt: ScryptParameters) throws -> LocalMasterKeyProvider
    {
        let path = masterPath(directory)
        if FileManager.default.fileExists(atPath: path) {
            return try LocalMasterKeyProvider.unseal(at: path, passphrase: passphrase)
        } else if create {
            try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o700])
            return try LocalMasterKeyProvider.create(at: path, passphrase: passphrase, scrypt: scrypt)
        }
        throw KeyError(.sealed, "no sealed master key at \(path): create a key first")
    }

    /// Runs `operation` on key `id` and audits it (success or the refusal's reason); rethrows a refusal after auditing it.
    @discardableResult
    package func audited(
        _ action: String, _ id: String, _ operation: (KeyHierarchy) async throws -> KeyRecord
    ) async throws -> KeyRecord {
        do {
            let record = try await operation(hierarchy)
            try await audit.append(
                AuditEntry(
                    kind: .keyOperation, actor: actor, action: action, resource: id, outcome: .success,
                    details: ["version": .integer(Int64(record.currentVersion)), "state": .string(Self.stateName(record.state))]))
            return record
        } catch let error as KeyError {
            try await audit.append(
                AuditEntry(
                    kind: .keyOperation, actor: actor, action: action, resource: id, outcome: .failure,
                    details: ["reason": .string(error.reason.rawValue)]))
            throw error
        }
    }

    /// Creates a key (a KEK, or a data key under `parent`) at the best tier this platform offers at or below
    /// `requested`; a lower tier is recorded in the key's labels (`tier_requested`) and in the audit record.
    package func createWithFallback(
        id: String, parent: String?, requested: PrivacyTier, labels: [String: String], platform: PlatformCapabilities, now: Date
    ) async throws -> KeyRecord {
        let fallback = TierFallback(requested: requested, labels: labels, platform: platform)
        let record = try await audited("create", id) { hierarchy in
            try await hierarchy.createKey(id: id, parent: parent, requiredTier: fallback.granted, labels: fallback.labels, now: now)
        }
        if fallback.degraded { try await audit.append(Self.fallbackAudit(id: id, actor: actor, fallback)) }
        return record
    }

    /// The audit record of a key created below the tier it asked for.
    static func fallbackAudit(id: String, actor: String, _ fallback: TierFallback) -> AuditEntry {
        var details: [String: AuditValue] = [
            "requested": .integer(Int64(fallback.requested.rawValue)), "granted": .integer(Int64(fallback.granted.rawValue)),
        ]
        if let platform = fallback.platformTier { details["platform_tier"] = .integer(Int64(platform.rawValue)) }
        return AuditEntry(kind: .keyOperation, actor: actor, action: "tier_fallback", resource: id, outcome: .success, details: details)
    }

    /// A key record as JSON for people and scripts (no key material, wrapped or not).
    package static func json(_ record: KeyRecord) -> String {
        // Members in name order, as scripts diffing two listings expect.
        var writer = JSONWriter()
        writer.object { object in
            object.member("current_version", record.currentVersion)
            if case .pendingDeletion(let until) = record.state {
                object.member("deletion_date", Timestamp.rfc3339(Int64(until.timeIntervalSince1970) * 1_000_000_000))
            }
            object.member("id", record.id)
            switch record.kind {
            case .keyEncryption: object.member("kind", "kek")
            case .dataEncryption: object.member("kind", "dek")
            }
            object.key("labels")
            object.object { labels in
                for (name, value) in record.labels.sorted(by: { $0.key < $1.key }) { labels.member(name, value) }
            }
            if case .dataEncryption(let parent) = record.kind { object.member("parent", parent) }
            object.member("required_tier", record.requiredTier.rawValue)
            object.member("state", stateName(record.state))
            object.key("versions")
            object.array { versions in for version in record.versions { versions.int(version.number) } }
        }
        return writer.text
    }

    static func stateName(_ state: KeyState) -> String {
        switch state {
        case .enabled: "enabled"
        case .disabled: "disabled"
        case .pendingDeletion: "pending_deletion"
        case .destroyed: "destroyed"
        }
    }
}
