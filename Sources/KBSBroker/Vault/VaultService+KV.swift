package import Foundation
import KBSClaims
import KBSKeys

/// A read of a KV v2 secret: the secret, the version read, and that version's data (a JSON object, which the caller
/// wipes after use), nil when the version is deleted or destroyed.
package struct KVRead: Sendable {
    package let secret: KVSecretEntry
    package let version: KVSecretEntry.Version
    package var data: [UInt8]?
}

extension VaultService {
    /// The largest `data` object a version holds.
    package static let maximumKVData = 512 * 1024
    /// The most sealed bytes one secret's versions hold together (they are stored as one document).
    package static let maximumKVVersionsBytes = 8 * 1024 * 1024
    /// The custom-metadata key that sets a new secret's required tier.
    package static let kvTierKey = "kbs:required-tier"

    // MARK: Configuration

    /// `GET secret/config`.
    package func kvConfig(_ caller: VaultCaller) async throws(BrokerError) -> KVConfigEntry {
        try await authorize(caller, "vault:kv:config", .path("secret/config"))
        return try await load(KVConfigEntry.self, .kvConfig, "secret/")?.0 ?? KVConfigEntry()
    }

    /// `POST secret/config`: the engine's defaults for `max_versions`, `cas_required`, `delete_version_after`.
    package func configureKV(_ caller: VaultCaller, maxVersions: Int?, casRequired: Bool?, deleteVersionAfter: Int64?) async throws(BrokerError) {
        let action = "vault:kv:config"
        try await authorize(caller, action, .path("secret/config"))
        let current = try await load(KVConfigEntry.self, .kvConfig, "secret/")
        var config = current?.0 ?? KVConfigEntry()
        if let maxVersions {
            guard (0...1000).contains(maxVersions) else { throw Self.invalid("max_versions must be 0 to 1000") }
            config.maxVersions = maxVersions == 0 ? 10 : maxVersions
        }
        if let casRequired { config.casRequired = casRequired }
        if let deleteVersionAfter {
            guard deleteVersionAfter >= 0 else { throw Self.invalid("delete_version_after must not be negative") }
            config.deleteVersionAfter = deleteVersionAfter
        }
        guard try await store(config, .kvConfig, "secret/", over: current?.1) else {
            throw Self.invalid("the configuration changed meanwhile; try again")
        }
        try await audited(caller, action, "secret/config", ["max_versions": .integer(Int64(config.maxVersions))])
    }

    // MARK: Data

    /// `GET secret/data/:path[?version=N]`: the newest version (or N) with its data; `vault_not_found` when the secret
    /// or version does not exist.
    package func kvRead(_ caller: VaultCaller, _ path: String, version requested: Int?) async throws(BrokerError) -> KVRead {
        let action = "vault:kv:read"
        let (secret, _) = try await existingSecret(caller, action, path)
        let number = (requested ?? 0) == 0 ? secret.currentVersion : requested!
        guard let version = secret.versions.first(where: { $0.version == number }) else { throw Self.error(.notFound, "not_found", "") }
        try await authorize(caller, action, target(secret))
        var read = KVRead(secret: secret, version: version, data: nil)
        guard !isDeleted(version), !version.destroyed, let sealed = version.sealed else {
            try await audited(caller, action, "secret/\(path)", ["version": .integer(Int64(number)), "deleted": .bool(true)])
            return read
        }
        let keys = try await hierarchy()
        do { read.data = try await keys.decrypt(Array(sealed), aad: Self.kvAAD(path, number)) } catch {
            throw await failed(caller, action, "secret/\(path)", Self.keyError(error))
        }
        do { try await audited(caller, action, "secret/\(path)", ["version": .integer(Int64(number))]) } catch {
            if read.data != nil { SecretBytes.wipe(&read.data!) }
            throw error
        }
        return read
    }

    /// `POST secret/data/:path`: a new version holding `data` (a JSON object's bytes), under check-and-set when `cas`
    /// is given or required: 0 writes only a new secret, N only over version N.
    package func kvWrite(_ caller: VaultCaller, _ path: String, data: [UInt8], cas: Int?) async throws(BrokerError) -> (
        KVSecretEntry, KVSecretEntry.Version
    ) {
        let action = "vault:kv:write"
        try Self.validateKVPath(path)
        guard data.count <= Self.maximumKVData else { throw Self.invalid("data is at most \(Self.maximumKVData) bytes") }
        let config = try await load(KVConfigEntry.self, .kvConfig, "secret/")?.0 ?? KVConfigEntry()
        let now = Int64(broker.clock().timeIntervalSince1970 * 1000)
        let current = try await load(KVSecretEntry.self, .kvSecret, path)
        var secret =
            current?.0
            ?? KVSecretEntry(
                path: path, currentVersion: 0, maxVersions: 0, casRequired: false, deleteVersionAfter: 0, customMetadata: [:],
                creator: caller.identity.subject, requiredTier: defaultTier.rawValue, createdAt: now, updatedAt: now, versions: [])
        // A new secret is decided on its path alone: its creator is who asks, so the creator rule would admit anyone.
        try await authorize(caller, action, current == nil ? .path("secret/\(path)", requiredTier: secret.requiredTier) : target(secret))
        if secret.casRequired || config.casRequired, cas == nil {
            throw await failed(caller, action, "secret/\(path)", Self.invalid("check-and-set parameter required for this call"))
        }
        if let cas, cas != secret.currentVersion {
            throw await failed(caller, action, "secret/\(path)", Self.invalid("check-and-set parameter did not match the current version"))
        }
        let number = secret.currentVersion + 1
        let keys = try await hierarchy()
        let sealed: [UInt8]
        do { sealed = try await keys.encrypt(keyID: Self.kvKeyID, plaintext: data, aad: Self.kvAAD(path, number)) } catch {
            throw await failed(caller, action, "secret/\(path)", Self.keyError(error))
        }
        let after = secret.deleteVersionAfter > 0 ? secret.deleteVersionAfter : config.deleteVersionAfter
        let version = KVSecretEntry.Version(
            version: number, createdAt: now, deletionTime: after > 0 ? now + after * 1000 : nil, destroyed: false, sealed: Data(sealed))
        secret.versions.append(version)
        secret.currentVersion = number
        secret.updatedAt = now
        let keep = secret.maxVersions > 0 ? secret.maxVersions : config.maxVersions
        if keep > 0, secret.versions.count > keep { secret.versions.removeFirst(secret.versions.count - keep) }
        // All versions live in one stored document; past its bound the write is the caller's to fix, not a store failure.
        guard secret.versions.reduce(0, { $0 + ($1.sealed?.count ?? 0) }) <= Self.maximumKVVersionsBytes else {
            throw await failed(
                caller, action, "secret/\(path)",
                Self.invalid(
                    "the secret's versions would exceed \(Self.maximumKVVersionsBytes / 1024 / 1024) MiB; lower max_versions or destroy versions"))
        }
        // Audited first: a version that cannot be audited is not written.
        try await audited(caller, action, "secret/\(path)", ["version": .integer(Int64(number)), "bytes": .integer(Int64(data.count))])
        guard try await store(secret, .kvSecret, path, over: current?.1) else {
            throw Self.invalid("check-and-set parameter did not match the current version")
        }
        return (secret, version)
    }

    /// The version operations of `secret/delete`, `secret/undelete` and `secret/destroy`.
    package enum KVVersionChange: String, Sendable {
        case delete, undelete, destroy
    }

    /// Soft-deletes (`DELETE secret/data/:path` with no versions: the newest), undeletes or destroys versions.
    /// Destroyed data is gone: its sealed bytes are dropped and it never comes back.
    package func kvChange(_ caller: VaultCaller, _ path: String, _ change: KVVersionChange, versions requested: [Int]?) async throws(BrokerError) {
        let action = "vault:kv:\(change.rawValue)"
        let (current, revision) = try await existingSecret(caller, action, path)
        try await authorize(caller, action, target(current))
        var secret = current
        let numbers = Set(requested ?? [secret.currentVersion])
        guard !numbers.isEmpty else { throw Self.invalid("no secret version specified") }
        let now = Int64(broker.clock().timeIntervalSince1970 * 1000)
        for index in secret.versions.indices where numbers.contains(secret.versions[index].version) {
            switch change {
            case .delete: if !isDeleted(secret.versions[index]) { secret.versions[index].deletionTime = now }
            case .undelete: if !secret.versions[index].destroyed { secret.versions[index].deletionTime = nil }
            case .destroy:
                secret.versions[index].destroyed = true
                secret.versions[index].sealed = nil
            }
        }
        secret.updatedAt = now
        try await audited(caller, action, "secret/\(path)", ["versions": .list(numbers.sorted().map { .integer(Int64($0)) })])
        guard try await store(secret, .kvSecret, path, over: revision) else { throw Self.invalid("the secret changed meanwhile; try again") }
    }

    // MARK: Metadata

    /// `GET secret/metadata/:path`.
    package func kvMetadata(_ caller: VaultCaller, _ path: String) async throws(BrokerError) -> KVSecretEntry {
        let (secret, _) = try await existingSecret(caller, "vault:kv:read-metadata", path)
        try await authorize(caller, "vault:kv:read-metadata", target(secret))
        return secret
    }

    /// `POST secret/metadata/:path` (and `PATCH`): the secret's settings, creating it (without versions) when
    /// missing. `kbs:required-tier` in the custom metadata sets a new secret's tier and cannot change it afterwards.
    package func kvWriteMetadata(
        _ caller: VaultCaller, _ path: String, maxVersions: Int?, casRequired: Bool?, deleteVersionAfter: Int64?, customMetadata: [String: String]?
    ) async throws(BrokerError) {
        let action = "vault:kv:write-metadata"
        try Self.validateKVPath(path)
        let now = Int64(broker.clock().timeIntervalSince1970 * 1000)
        let current = try await load(KVSecretEntry.self, .kvSecret, path)
        var tier = current?.0.requiredTier ?? defaultTier.rawValue
        if let text = customMetadata?[Self.kvTierKey] {
            guard let parsed = PrivacyTier(text: text) else { throw Self.invalid("\(Self.kvTierKey) must be a privacy tier from 0 to 4") }
            if let existing = current?.0, existing.requiredTier != parsed.rawValue {
                throw Self.invalid("\(Self.kvTierKey) is set when a secret is created; this one requires tier \(existing.requiredTier)")
            }
            tier = parsed.rawValue
        }
        var secret =
            current?.0
            ?? KVSecretEntry(
                path: path, currentVersion: 0, maxVersions: 0, casRequired: false, deleteVersionAfter: 0, customMetadata: [:],
                creator: caller.identity.subject, requiredTier: tier, createdAt: now, updatedAt: now, versions: [])
        try await authorize(caller, action, current == nil ? .path("secret/\(path)", requiredTier: secret.requiredTier) : target(secret))
        if let maxVersions {
            guard (0...1000).contains(maxVersions) else { throw Self.invalid("max_versions must be 0 to 1000") }
            secret.maxVersions = maxVersions
            if maxVersions > 0, secret.versions.count > maxVersions { secret.versions.removeFirst(secret.versions.count - maxVersions) }
        }
        if let casRequired { secret.casRequired = casRequired }
        if let deleteVersionAfter {
            guard deleteVersionAfter >= 0 else { throw Self.invalid("delete_version_after must not be negative") }
            secret.deleteVersionAfter = deleteVersionAfter
        }
        if let customMetadata {
            guard customMetadata.count <= 64, customMetadata.allSatisfy({ $0.key.utf8.count <= 128 && $0.value.utf8.count <= 512 }) else {
                throw Self.invalid("custom_metadata holds at most 64 keys of 128 bytes with values of 512 bytes")
            }
            secret.customMetadata = customMetadata
        }
        secret.updatedAt = now
        try await audited(caller, action, "secret/\(path)", ["required_tier": .integer(Int64(secret.requiredTier))])
        guard try await store(secret, .kvSecret, path, over: current?.1) else { throw Self.invalid("the secret changed meanwhile; try again") }
    }

    /// `DELETE secret/metadata/:path`: the secret, every version and its metadata, gone.
    package func kvDeleteAll(_ caller: VaultCaller, _ path: String) async throws(BrokerError) {
        let action = "vault:kv:delete-metadata"
        try Self.validateKVPath(path)
        guard let (secret, _) = try await load(KVSecretEntry.self, .kvSecret, path) else {
            try await authorize(caller, action, .path("secret/\(path)"))
            return
        }
        try await authorize(caller, action, target(secret))
        try await audited(caller, action, "secret/\(path)", ["versions": .integer(Int64(secret.versions.count))])
        _ = try await remove(.kvSecret, path)
    }

    /// `LIST secret/metadata/:dir`: the names under a folder, folders ending in `/`; empty when there is nothing.
    package func kvList(_ caller: VaultCaller, _ directory: String) async throws(BrokerError) -> [String] {
        let folder = directory.isEmpty || directory.hasSuffix("/") ? directory : directory + "/"
        if !folder.isEmpty { try Self.validateKVPath(String(folder.dropLast())) }
        try await authorize(caller, "vault:kv:list", .path(folder.isEmpty ? "secret" : "secret/" + String(folder.dropLast())))
        let paths: [String]
        do { paths = try await repository.names(.kvSecret, prefix: folder, limit: 100_000) } catch { throw Self.storeUnavailable("read") }
        var names: [String] = []
        for path in paths {
            let rest = path.dropFirst(folder.count)
            let name = rest.firstIndex(of: "/").map { String(rest[...$0]) } ?? String(rest)
            if names.last != name, !names.contains(name) { names.append(name) }
        }
        return names
    }

    // MARK: Helpers

    /// Whether a version is soft-deleted now (its deletion time has come).
    package func isDeleted(_ version: KVSecretEntry.Version) -> Bool {
        guard let time = version.deletionTime else { return false }
        return time <= Int64(broker.clock().timeIntervalSince1970 * 1000)
    }

    /// A secret that exists, with its revision; `vault_not_found` otherwise, but only to a caller the policy lets do
    /// `action` on the path: others learn nothing of what exists.
    private func existingSecret(_ caller: VaultCaller, _ action: String, _ path: String) async throws(BrokerError) -> (KVSecretEntry, Int) {
        try Self.validateKVPath(path)
        guard let found = try await load(KVSecretEntry.self, .kvSecret, path) else {
            try await authorize(caller, action, .path("secret/\(path)"))
            throw Self.error(.notFound, "not_found", "")
        }
        return found
    }

    /// The decision target of a secret.
    private func target(_ secret: KVSecretEntry) -> Target {
        Target(id: "secret/\(secret.path)", creator: secret.creator, requiredTier: secret.requiredTier, labels: secret.customMetadata)
    }

    /// The additional data that binds a sealed version to its path and number.
    static func kvAAD(_ path: String, _ version: Int) -> [UInt8] {
        Array("kbs-vault-kv/v1".utf8) + [0] + Array(path.utf8) + [0] + Array(String(version).utf8)
    }

    /// KV paths: 1 to 512 of letters, digits and `- _ . @ + = :` in `/`-separated segments, none empty, `.` or `..`.
    static func validateKVPath(_ path: String) throws(BrokerError) {
        guard (1...512).contains(path.utf8.count) else { throw invalid("a secret path has 1 to 512 characters") }
        for segment in path.split(separator: "/", omittingEmptySubsequences: false) {
            guard !segment.isEmpty, segment != ".", segment != "..",
                segment.utf8.allSatisfy({
                    (0x30...0x39).contains($0) || (0x41...0x5A).contains($0) || (0x61...0x7A).contains($0)
                        || "-_.@+=:".utf8.contains($0)
                })
            else { throw invalid("a secret path is `/`-separated names of letters, digits and - _ . @ + = :") }
        }
    }
}
