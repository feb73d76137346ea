public import Foundation
public import KBSClaims
public import KBSKeys
import KBSStore

/// The key hierarchy of one data directory, with every key operation audited: what `kbs keys …` and (later) the
/// admin API drive.
///
/// The master key is sealed in `DATA_DIR/master.sealed` under a passphrase (created on first use); key records and
/// the audit log live in the directory's SQLite store. An operation is acknowledged only after its record is durable
/// and its audit record appended.
public struct BrokerKeys: Sendable {
    public let hierarchy: KeyHierarchy
    let store: Store
    let actor: String

    /// The sealed master-key file in `directory`.
    public static func masterPath(_ directory: String) -> String { directory + "/master.sealed" }

    /// Opens `directory`'s hierarchy, unsealing the master key with `passphrase`; creates the sealed file when
    /// `create` and none exists yet. `actor` names who acts, in the audit log.
    public static func open(
        directory: String, passphrase: [UInt8], create: Bool, actor: String, scrypt: ScryptParameters = .standard
    ) throws -> BrokerKeys {
        try open(directory: directory, master: try localProvider(directory: directory, passphrase: passphrase, create: create, scrypt: scrypt),
            actor: actor)
    }

    /// Opens `directory`'s hierarchy under the master-key provider the environment selects (``MasterKeySelection``).
    public static func open(
        directory: String, environment: [String: String], create: Bool, actor: String, passphrase: () throws -> [UInt8]
    ) async throws -> BrokerKeys {
        let master = try await MasterKeySelection.provider(directory: directory, environment: environment, create: create, passphrase: passphrase)
        return try open(directory: directory, master: master, actor: actor)
    }

    /// Opens `directory`'s hierarchy under `master`.
    public static func open(directory: String, master: any MasterKeyProvider, actor: String) throws -> BrokerKeys {
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o700])
        let store = try Store(directory: directory)
        return BrokerKeys(hierarchy: KeyHierarchy(master: master, store: StoreKeyRecordStore(store)), store: store, actor: actor)
    }

    /// The sealed-file provider of `directory`, created when `create` and missing.
    static func localProvider(directory: String, passphrase: [UInt8], create: Bool, scrypt: ScryptParameters) throws -> LocalMasterKeyProvider {
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
    public func audited(
        _ action: String, _ id: String, _ operation: (KeyHierarchy) async throws -> KeyRecord
    ) async throws -> KeyRecord {
        do {
            let record = try await operation(hierarchy)
            try store.appendAudit(AuditEntry(
                kind: .keyOperation, actor: actor, action: action, resource: id, outcome: .success,
                details: ["version": .integer(Int64(record.currentVersion)), "state": .string(Self.stateName(record.state))]))
            return record
        } catch let error as KeyError {
            try store.appendAudit(AuditEntry(
                kind: .keyOperation, actor: actor, action: action, resource: id, outcome: .failure,
                details: ["reason": .string(error.reason.rawValue)]))
            throw error
        }
    }

    /// Creates a key (a KEK, or a data key under `parent`) at the best tier this platform offers at or below
    /// `requested`; a lower tier is recorded in the key's labels (`tier_requested`) and in the audit record.
    public func createWithFallback(
        id: String, parent: String?, requested: PrivacyTier, labels: [String: String], platform: PlatformCapabilities, now: Date
    ) async throws -> KeyRecord {
        let fallback = TierFallback(requested: requested, labels: labels, platform: platform)
        let record = try await audited("create", id) { hierarchy in
            try await hierarchy.createKey(id: id, parent: parent, requiredTier: fallback.granted, labels: fallback.labels, now: now)
        }
        if fallback.degraded { try store.appendAudit(Self.fallbackAudit(id: id, actor: actor, fallback)) }
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
    public static func json(_ record: KeyRecord) -> String {
        var object: [String: Any] = [
            "id": record.id, "state": stateName(record.state), "current_version": Int(record.currentVersion),
            "versions": record.versions.map { Int($0.number) }, "required_tier": record.requiredTier.rawValue,
            "labels": record.labels,
        ]
        switch record.kind {
        case .keyEncryption: object["kind"] = "kek"
        case .dataEncryption(let parent): object["kind"] = "dek"; object["parent"] = parent
        }
        if case .pendingDeletion(let until) = record.state {
            object["deletion_date"] = Timestamp.rfc3339(Int64(until.timeIntervalSince1970.rounded(.down)) * 1_000_000_000)
        }
        let data = (try? JSONSerialization.data(withJSONObject: object, options: [.sortedKeys])) ?? Data("{}".utf8)
        return String(decoding: data, as: UTF8.self)
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
