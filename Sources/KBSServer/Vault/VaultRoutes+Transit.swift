import Foundation
import HTTPTypes
import KBSBroker
import KBSClaims
import KBSKeys

extension VaultRoutes {
    /// Transit at `transit/`: `keys`, `keys/:name(/rotate|/config)`, `encrypt|decrypt|rewrap/:name`,
    /// `datakey/(plaintext|wrapped)/:name`.
    func transit(_ call: Call, _ path: String, operation: inout String) async throws(ServerError) -> Reply {
        let parts = path.split(separator: "/", omittingEmptySubsequences: false).map(String.init)
        operation = "transit:" + (parts.first.map { $0.isEmpty ? "unknown" : $0 } ?? "unknown")
        switch (parts.first ?? "", parts.count, call.method) {
        case ("keys", 1, "LIST"),
            ("keys", 2, "LIST") where parts.count == 1 || parts[1].isEmpty:
            operation = "transit:list"
            let caller = try await caller(call)
            let names = try await brokering { () async throws(BrokerError) in try await vault.listTransitKeys(caller) }
            guard !names.isEmpty else { throw ServerError(.notFound, "not_found", "") }
            return .data(
                Self.object { out in
                    out.key("keys")
                    out.array { list in for name in names { list.string(name) } }
                }, mount: "transit")
        case ("keys", 2, "POST"):
            operation = "transit:create"
            let caller = try await caller(call)
            var options = VaultService.TransitOptions()
            if let type = try call.body.string("type") { options.type = type }
            options.derived = try call.body.bool("derived") ?? false
            options.convergent = try call.body.bool("convergent_encryption") ?? false
            options.autoRotatePeriod = try call.body.duration("auto_rotate_period") ?? 0
            options.requiredTier = try call.body.integer("required_tier")
            options.labels = try call.body.stringMap("labels") ?? [:]
            let exportable = try call.body.bool("exportable") ?? false
            let backup = try call.body.bool("allow_plaintext_backup") ?? false
            if exportable || backup {
                throw VaultInput.invalid("exportable and allow_plaintext_backup are not offered: key material never leaves the broker")
            }
            let key = try await brokering { () async throws(BrokerError) in try await vault.createTransitKey(caller, parts[1], options) }
            return .data(keyInfo(key), mount: "transit")
        case ("keys", 2, "GET"):
            operation = "transit:read"
            let caller = try await caller(call)
            let key = try await brokering { () async throws(BrokerError) in try await vault.readTransitKey(caller, parts[1]) }
            return .data(keyInfo(key), mount: "transit")
        case ("keys", 2, "DELETE"):
            operation = "transit:delete"
            let caller = try await caller(call)
            try await brokering { () async throws(BrokerError) in try await vault.deleteTransitKey(caller, parts[1]) }
            return .noContent
        case ("keys", 3, "POST") where parts[2] == "rotate":
            operation = "transit:rotate"
            let caller = try await caller(call)
            let key = try await brokering { () async throws(BrokerError) in try await vault.rotateTransitKey(caller, parts[1]) }
            return .data(keyInfo(key), mount: "transit")
        case ("keys", 3, "POST") where parts[2] == "config":
            operation = "transit:config"
            let caller = try await caller(call)
            var config = VaultService.TransitConfig()
            config.minDecryptionVersion = try call.body.integer("min_decryption_version")
            config.minEncryptionVersion = try call.body.integer("min_encryption_version")
            config.deletionAllowed = try call.body.bool("deletion_allowed")
            config.autoRotatePeriod = try call.body.duration("auto_rotate_period")
            let exportable = try call.body.bool("exportable") ?? false
            let backup = try call.body.bool("allow_plaintext_backup") ?? false
            if exportable || backup {
                throw VaultInput.invalid("exportable and allow_plaintext_backup are not offered: key material never leaves the broker")
            }
            let key = try await brokering { () async throws(BrokerError) in try await vault.configureTransitKey(caller, parts[1], config) }
            return .data(keyInfo(key), mount: "transit")
        case ("encrypt", 2, "POST"):
            operation = "transit:encrypt"
            let caller = try await caller(call)
            let (items, batch) = try call.body.transitItems("plaintext")
            let version = try call.body.integer("key_version")
            var outcomes = try await brokering { () async throws(BrokerError) in
                try await vault.transitEncrypt(caller, parts[1], items, version: version)
            }
            return try batchReply(&outcomes, batch: batch, call.body)
        case ("decrypt", 2, "POST"):
            operation = "transit:decrypt"
            let caller = try await caller(call)
            let (items, batch) = try call.body.transitItems("ciphertext")
            var outcomes = try await brokering { () async throws(BrokerError) in try await vault.transitDecrypt(caller, parts[1], items) }
            return try batchReply(&outcomes, batch: batch, call.body)
        case ("rewrap", 2, "POST"):
            operation = "transit:rewrap"
            let caller = try await caller(call)
            let (items, batch) = try call.body.transitItems("ciphertext")
            let version = try call.body.integer("key_version")
            var outcomes = try await brokering { () async throws(BrokerError) in
                try await vault.transitRewrap(caller, parts[1], items, version: version)
            }
            return try batchReply(&outcomes, batch: batch, call.body)
        case ("datakey", 3, "POST") where parts[1] == "plaintext" || parts[1] == "wrapped":
            operation = "transit:datakey"
            let caller = try await caller(call)
            let bits = try call.body.integer("bits") ?? 256
            let context = try call.body.base64("context")
            if call.body["nonce"] != nil { throw VaultInput.invalid("nonce is not taken: convergent keys derive theirs") }
            var made = try await brokering { () async throws(BrokerError) in
                try await vault.transitDataKey(caller, parts[2], bits: bits, context: context, withPlaintext: parts[1] == "plaintext")
            }
            defer { if made.plaintext != nil { SecretBytes.wipe(&made.plaintext!) } }
            return .data(
                Self.object { out in
                    out.member("ciphertext", made.ciphertext)
                    out.member("key_version", made.version)
                    if let plaintext = made.plaintext { out.member("plaintext", Base64URL.encodeStandard(plaintext)) }
                }, mount: "transit")
        case ("keys", _, _), ("encrypt", _, _), ("decrypt", _, _), ("rewrap", _, _), ("datakey", _, _):
            throw parts.count > 3 || parts.contains("") ? Self.noRoute(call.path) : Self.unsupported(call)
        default: throw Self.noRoute(call.path)
        }
    }

    /// The reply to encrypt, decrypt and rewrap: one item's result, or `batch_results`; a failed single item is a 400,
    /// and a batch with failures too (or `partial_failure_response_code`), as Vault answers. Plaintexts are wiped
    /// once written.
    private func batchReply(_ outcomes: inout [TransitOutcome], batch: Bool, _ body: VaultInput) throws(ServerError) -> Reply {
        defer {
            for index in outcomes.indices {
                if case .opened(var plaintext) = outcomes[index] {
                    outcomes[index] = .failed("")
                    SecretBytes.wipe(&plaintext)
                }
            }
        }
        func write(_ outcome: TransitOutcome, _ out: inout JSONWriter) {
            switch outcome {
            case .sealed(let ciphertext, let version):
                out.member("ciphertext", ciphertext)
                out.member("key_version", version)
            case .opened(let plaintext): out.member("plaintext", Base64URL.encodeStandard(plaintext))
            case .failed(let message): out.member("error", message)
            }
        }
        guard batch else {
            if case .failed(let message)? = outcomes.first { throw VaultInput.invalid(message) }
            let outcome = outcomes.first ?? .failed("no result")
            return .data(Self.object { write(outcome, &$0) }, mount: "transit")
        }
        let failures = outcomes.filter { if case .failed = $0 { return true } else { return false } }.count
        var status = HTTPResponse.Status.ok
        if failures == outcomes.count {
            status = .badRequest
        } else if failures > 0 {
            status = HTTPResponse.Status(code: try body.integer("partial_failure_response_code") ?? 400)
        }
        let data = Self.object { out in
            out.key("batch_results")
            out.array { list in for outcome in outcomes { list.object { write(outcome, &$0) } } }
        }
        return Reply(status: status, data: data, mountType: "transit")
    }

    /// `transit/keys/:name`'s data.
    private func keyInfo(_ key: TransitKeyView) -> String {
        Self.object { out in
            out.member("name", key.entry.name)
            out.member("type", key.entry.type)
            out.key("keys")
            out.object { versions in
                for version in key.record.versions where Int(version.number) >= key.entry.minDecryptionVersion && !version.wrapped.isEmpty {
                    versions.member(String(version.number), Int64(version.created.timeIntervalSince1970))
                }
            }
            out.member("latest_version", key.latestVersion)
            out.member("min_available_version", 0)
            out.member("min_decryption_version", key.entry.minDecryptionVersion)
            out.member("min_encryption_version", key.entry.minEncryptionVersion)
            out.key("deletion_allowed")
            out.bool(key.entry.deletionAllowed)
            out.key("derived")
            out.bool(key.entry.derived)
            if key.entry.derived {
                out.member("kdf", "hkdf_sha256")
                out.key("convergent_encryption")
                out.bool(key.entry.convergent)
            }
            for flag in ["exportable", "allow_plaintext_backup", "imported_key", "supports_signing"] {
                out.key(flag)
                out.bool(false)
            }
            for flag in ["supports_encryption", "supports_decryption", "supports_derivation"] {
                out.key(flag)
                out.bool(true)
            }
            out.member("auto_rotate_period", key.entry.autoRotatePeriod)
            out.member("kbs_required_tier", key.record.requiredTier.rawValue)
        }
    }
}
