import Foundation
import KBSKeys

extension KeyService {
    // MARK: Aliases

    /// `CreateAlias` (`update` false) and `UpdateAlias` (true): `name` (`alias/…`) stands for key `target` (a key id
    /// or key ARN, not another alias). Decided on the key it will point to.
    package func setAlias(_ caller: KMSCaller, name: String, target: String, update: Bool) async throws(BrokerError) {
        let action = update ? "kms:UpdateAlias" : "kms:CreateAlias"
        guard KMSKeyReference.isCreatableAlias(name) else {
            throw Self.error(
                "invalid_alias_name", "AliasName must be alias/ then up to 250 of a-z A-Z 0-9 : / _ -, and not under alias/aws/")
        }
        guard case .key? = KMSKeyReference(target, account: account) else {
            throw Self.error("validation", "TargetKeyId must be a key id or key ARN, not an alias")
        }
        let key = try await resolve(target)
        try await authorize(caller, action, .key(key, alias: name))
        let now = Int64(broker.clock().timeIntervalSince1970 * 1000)
        if update {
            guard try await repository(.write, { try await repository.updateAlias(name, keyID: key.entry.id, at: now) }) else {
                throw await failed(caller, action, name, Self.error("not_found", "Alias \(name) is not found."))
            }
        } else {
            let alias = KMSAlias(name: name, keyID: key.entry.id, createdAt: now, updatedAt: now)
            guard try await repository(.write, { try await repository.createAlias(alias) }) else {
                throw await failed(caller, action, name, Self.error("already_exists", "An alias with the name \(name) already exists"))
            }
        }
        try await audited(caller, action, name, ["key": .string(key.record.id)])
    }

    /// `DeleteAlias`: decided on the key it points to.
    package func deleteAlias(_ caller: KMSCaller, name: String) async throws(BrokerError) {
        let action = "kms:DeleteAlias"
        guard let alias = try await repository(.read, { try await repository.alias(name) }) else {
            throw Self.error("not_found", "Alias \(name.prefix(256)) is not found.")
        }
        // An alias may outlive its key (deleted meanwhile): then only an account-wide permit removes it.
        let key = try? await view(alias.keyID)
        try await authorize(caller, action, key.map { .key($0, alias: name) } ?? Subject(key: nil, alias: name, requested: nil, context: nil))
        guard try await repository(.write, { try await repository.deleteAlias(name) }) else {
            throw Self.error("not_found", "Alias \(name) is not found.")
        }
        try await audited(caller, action, name, ["key": .string(Self.recordPrefix + alias.keyID)])
    }

    /// `ListAliases`: up to `limit` after `marker` (the last alias name of the previous page), only `reference`'s when
    /// given, and the next marker when more follow.
    package func listAliases(_ caller: KMSCaller, keyReference reference: String?, limit: Int, marker: String?)
        async throws(BrokerError) -> (aliases: [KMSAlias], next: String?)
    {
        if let marker, !marker.hasPrefix("alias/") { throw Self.error("invalid_marker", "Marker is not one ListAliases returned") }
        var keyID: String?
        if let reference {
            let key = try await resolve(reference)
            try await authorize(caller, "kms:ListAliases", .key(key))
            keyID = key.entry.id
        } else {
            try await authorize(caller, "kms:ListAliases", .account)
        }
        var page = try await repository(.read) { try await repository.aliases(after: marker, limit: limit + 1, keyID: keyID) }
        let more = page.count > limit
        if more { page.removeLast() }
        try await audited(caller, "kms:ListAliases", keyID.map { Self.recordPrefix + $0 } ?? "*", ["count": .integer(Int64(page.count))])
        return (page, more ? page.last?.name : nil)
    }

    // MARK: Tags

    /// `TagResource` (`remove` empty) and `UntagResource` (`add` empty): the key's labels in the hierarchy.
    package func retag(_ caller: KMSCaller, _ reference: String, add: [String: String], remove: [String]) async throws(BrokerError) {
        let action = remove.isEmpty ? "kms:TagResource" : "kms:UntagResource"
        try Self.validateTags(add)
        for key in remove where key.isEmpty || key.utf8.count > 128 {
            throw Self.error("validation", "a tag key is 1 to 128 characters")
        }
        let key = try await resolve(reference)
        try await authorize(caller, action, .key(key))
        var labels = key.record.labels.merging(add) { $1 }
        for name in remove { labels[name] = nil }
        guard labels.count <= 50 else { throw await failed(caller, action, key.record.id, Self.error("tag", "a key holds at most 50 tags")) }
        let keys = try await broker.vault.keySource.hierarchy()
        do { _ = try await keys.relabel(key.record.id, labels: labels) } catch {
            throw await failed(caller, action, key.record.id, Self.keyError(error))
        }
        try await audited(caller, action, key.record.id, ["tags": .list((Array(add.keys) + remove).sorted().map { .string($0) })])
    }

    /// `ListResourceTags`: up to `limit` tags in key order after `marker` (the last tag key of the previous page).
    package func listTags(_ caller: KMSCaller, _ reference: String, limit: Int, marker: String?)
        async throws(BrokerError) -> (tags: [(key: String, value: String)], next: String?)
    {
        let key = try await resolve(reference)
        try await authorize(caller, "kms:ListResourceTags", .key(key))
        let sorted = key.tags.sorted { $0.key < $1.key }
        let after = sorted.filter { marker == nil || $0.key > marker! }
        let page = Array(after.prefix(limit)).map { (key: $0.key, value: $0.value) }
        try await audited(caller, "kms:ListResourceTags", key.record.id)
        return (page, after.count > limit ? page.last?.key : nil)
    }

    /// Tags as AWS bounds them: keys 1–128 characters, values up to 256, neither `aws:` nor `kbs:` (reserved).
    static func validateTags(_ tags: [String: String]) throws(BrokerError) {
        guard tags.count <= 50 else { throw Self.error("tag", "a key holds at most 50 tags") }
        for (key, value) in tags {
            guard !key.isEmpty, key.utf8.count <= 128, value.utf8.count <= 256 else {
                throw Self.error("validation", "a tag key is 1 to 128 characters and its value at most 256")
            }
            guard !key.hasPrefix("aws:"), !key.hasPrefix("kbs:") else {
                throw Self.error("tag", "tag keys beginning aws: or kbs: are reserved (\(key.prefix(128)))")
            }
        }
    }
}
