import HTTPTypes
import KBSBroker
package import KBSClaims
import KBSKeys

extension VaultRoutes {
    /// KV v2 at `secret/`: `config`, `data/:path`, `delete|undelete|destroy/:path`, `metadata/:path`.
    func kv(_ call: Call, _ path: String, operation: inout String) async throws(ServerError) -> Reply {
        let parts = path.split(separator: "/", maxSplits: 1, omittingEmptySubsequences: false).map(String.init)
        let section = parts[0]
        let rest = parts.count > 1 ? parts[1] : ""
        operation = "kv:" + (section.isEmpty ? "unknown" : section)
        switch (section, call.method) {
        case ("config", "GET"):
            let caller = try await caller(call)
            let config = try await brokering { () async throws(BrokerError) in try await vault.kvConfig(caller) }
            return .data(
                Self.object { out in
                    out.key("cas_required")
                    out.bool(config.casRequired)
                    out.member("delete_version_after", DurationText.text(config.deleteVersionAfter))
                    out.member("max_versions", config.maxVersions)
                }, mount: "kv")
        case ("config", "POST"):
            let caller = try await caller(call)
            let (maxVersions, cas, after) = (
                try call.body.integer("max_versions"), try call.body.bool("cas_required"), try call.body.duration("delete_version_after")
            )
            try await brokering { () async throws(BrokerError) in
                try await vault.configureKV(caller, maxVersions: maxVersions, casRequired: cas, deleteVersionAfter: after)
            }
            return .noContent
        case ("data", "GET"):
            operation = "kv:read"
            let caller = try await caller(call)
            let version = try call.query["version"].map { (text) throws(ServerError) -> Int in
                guard let value = Int(text), value >= 0 else { throw VaultInput.invalid("version must be a whole number") }
                return value
            }
            var read = try await brokering { () async throws(BrokerError) in try await vault.kvRead(caller, rest, version: version) }
            defer { if read.data != nil { SecretBytes.wipe(&read.data!) } }
            let body = Self.object { out in
                out.key("data")
                if let data = read.data { out.raw(data) } else { out.null() }
                out.key("metadata")
                out.raw(Array(versionMetadata(read.secret, read.version).utf8))
            }
            // A deleted or destroyed version: 404, with its metadata, as Vault answers.
            return Reply(status: read.data == nil ? .notFound : .ok, data: body, mountType: "kv")
        case ("data", "POST"):
            operation = "kv:write"
            let caller = try await caller(call)
            guard let data = try call.body.rawObject("data") else { throw VaultInput.invalid("no data provided") }
            let cas = try call.body.cas()
            let (secret, version) = try await brokering { () async throws(BrokerError) in try await vault.kvWrite(caller, rest, data: data, cas: cas)
            }
            return .data(versionMetadata(secret, version), mount: "kv")
        case ("data", "PATCH"):
            operation = "kv:patch"
            let caller = try await caller(call)
            guard let patch = call.body["data"], case .object = patch.value else { throw VaultInput.invalid("no data provided") }
            var current = try await brokering { () async throws(BrokerError) in try await vault.kvRead(caller, rest, version: nil) }
            defer { if current.data != nil { SecretBytes.wipe(&current.data!) } }
            guard let data = current.data, let target = try? JSONNode.parse(data) else {
                throw ServerError(.notFound, "not_found", "")
            }
            var merged = MergePatch.apply(patch, bytes: call.body.bytes, to: target, bytes: data)
            defer { SecretBytes.wipe(&merged) }
            let cas = try call.body.cas() ?? current.secret.currentVersion
            let (secret, version) = try await brokering { () async throws(BrokerError) in
                try await vault.kvWrite(caller, rest, data: merged, cas: cas)
            }
            return .data(versionMetadata(secret, version), mount: "kv")
        case ("data", "DELETE"):
            operation = "kv:delete"
            let caller = try await caller(call)
            try await brokering { () async throws(BrokerError) in try await vault.kvChange(caller, rest, .delete, versions: nil) }
            return .noContent
        case ("delete", "POST"), ("undelete", "POST"), ("destroy", "POST"):
            let caller = try await caller(call)
            guard let versions = try call.body.integers("versions"), !versions.isEmpty else { throw VaultInput.invalid("no version number provided") }
            let change = VaultService.KVVersionChange(rawValue: section)!
            try await brokering { () async throws(BrokerError) in try await vault.kvChange(caller, rest, change, versions: versions) }
            return .noContent
        case ("metadata", "GET"):
            operation = "kv:read-metadata"
            let caller = try await caller(call)
            let secret = try await brokering { () async throws(BrokerError) in try await vault.kvMetadata(caller, rest) }
            return .data(metadata(secret), mount: "kv")
        case ("metadata", "POST"), ("metadata", "PATCH"):
            operation = "kv:write-metadata"
            let caller = try await caller(call)
            let (maxVersions, cas, after) = (
                try call.body.integer("max_versions"), try call.body.bool("cas_required"), try call.body.duration("delete_version_after")
            )
            let custom = try call.body.stringMap("custom_metadata")
            try await brokering { () async throws(BrokerError) in
                try await vault.kvWriteMetadata(
                    caller, rest, maxVersions: maxVersions, casRequired: cas, deleteVersionAfter: after, customMetadata: custom)
            }
            return .noContent
        case ("metadata", "DELETE"):
            operation = "kv:delete-metadata"
            let caller = try await caller(call)
            try await brokering { () async throws(BrokerError) in try await vault.kvDeleteAll(caller, rest) }
            return .noContent
        case ("metadata", "LIST"):
            operation = "kv:list"
            let caller = try await caller(call)
            let names = try await brokering { () async throws(BrokerError) in try await vault.kvList(caller, rest) }
            guard !names.isEmpty else { throw ServerError(.notFound, "not_found", "") }
            return .data(
                Self.object { out in
                    out.key("keys")
                    out.array { list in for name in names { list.string(name) } }
                }, mount: "kv")
        case ("config", _), ("data", _), ("delete", _), ("undelete", _), ("destroy", _), ("metadata", _): throw Self.unsupported(call)
        default: throw Self.noRoute(call.path)
        }
    }

    /// A version's metadata, as data reads and writes show it.
    private func versionMetadata(_ secret: KVSecretEntry, _ version: KVSecretEntry.Version) -> String {
        Self.object { out in
            out.member("created_time", Self.time(milliseconds: version.createdAt))
            out.key("custom_metadata")
            customMetadata(secret, &out)
            out.member("deletion_time", version.deletionTime.map { Self.time(milliseconds: $0) } ?? "")
            out.key("destroyed")
            out.bool(version.destroyed)
            out.member("version", version.version)
        }
    }

    /// `secret/metadata/:path`'s data.
    private func metadata(_ secret: KVSecretEntry) -> String {
        Self.object { out in
            out.key("cas_required")
            out.bool(secret.casRequired)
            out.member("created_time", Self.time(milliseconds: secret.createdAt))
            out.member("current_version", secret.currentVersion)
            out.key("custom_metadata")
            customMetadata(secret, &out)
            out.member("delete_version_after", DurationText.text(secret.deleteVersionAfter))
            out.member("max_versions", secret.maxVersions)
            out.member("oldest_version", secret.versions.first?.version ?? 0)
            out.member("updated_time", Self.time(milliseconds: secret.updatedAt))
            out.member("kbs_required_tier", secret.requiredTier)
            out.key("versions")
            out.object { versions in
                for version in secret.versions {
                    versions.key(String(version.version))
                    versions.object { one in
                        one.member("created_time", Self.time(milliseconds: version.createdAt))
                        one.member("deletion_time", version.deletionTime.map { Self.time(milliseconds: $0) } ?? "")
                        one.key("destroyed")
                        one.bool(version.destroyed)
                    }
                }
            }
        }
    }

    private func customMetadata(_ secret: KVSecretEntry, _ out: inout JSONWriter) {
        if secret.customMetadata.isEmpty {
            out.null()
        } else {
            out.object { map in for (name, value) in secret.customMetadata.sorted(by: { $0.key < $1.key }) { map.member(name, value) } }
        }
    }
}

/// RFC 7386 JSON Merge Patch over JSON text: members of the patch replace the target's, `null` removes one, objects
/// merge recursively; everything untouched is copied as it was sent.
package enum MergePatch {
    /// `target` (parsed from `targetBytes`) with `patch` (parsed from `patchBytes`) applied, as JSON.
    package static func apply(_ patch: JSONNode, bytes patchBytes: [UInt8], to target: JSONNode, bytes targetBytes: [UInt8]) -> [UInt8] {
        var writer = JSONWriter()
        write(patch, patchBytes, target, targetBytes, into: &writer)
        return writer.bytes
    }

    private static func write(_ patch: JSONNode, _ patchBytes: [UInt8], _ target: JSONNode?, _ targetBytes: [UInt8], into writer: inout JSONWriter) {
        guard case .object(let changes) = patch.value else {
            writer.raw(patchBytes[patch.range])
            return
        }
        var members: [(key: String, value: JSONNode)] = []
        if let target, case .object(let existing) = target.value { members = existing }
        writer.object { out in
            for member in members {
                guard let change = changes.first(where: { $0.key == member.key }) else {
                    out.key(member.key)
                    out.raw(targetBytes[member.value.range])
                    continue
                }
                if case .null = change.value.value { continue }
                out.key(member.key)
                write(change.value, patchBytes, member.value, targetBytes, into: &out)
            }
            for change in changes where !members.contains(where: { $0.key == change.key }) {
                if case .null = change.value.value { continue }
                out.key(change.key)
                write(change.value, patchBytes, nil, targetBytes, into: &out)
            }
        }
    }
}
