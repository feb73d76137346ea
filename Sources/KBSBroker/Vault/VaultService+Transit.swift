package import Foundation
import KBSClaims
package import KBSKeys

/// A Transit key as the API shows it: its settings and its record in the key hierarchy (versions, tier, state).
package struct TransitKeyView: Sendable {
    package let entry: TransitKeyEntry
    package let record: KeyRecord

    /// The newest version.
    package var latestVersion: Int { Int(record.currentVersion) }
}

/// One item of a Transit request (a `batch_input` member, or the request itself).
package struct TransitItem: Sendable {
    package var plaintext: [UInt8]?
    package var ciphertext: String?
    package var context: [UInt8]?

    /// An item.
    package init(plaintext: [UInt8]? = nil, ciphertext: String? = nil, context: [UInt8]? = nil) {
        self.plaintext = plaintext
        self.ciphertext = ciphertext
        self.context = context
    }
}

/// What became of one item: a ciphertext and its version, a plaintext (the caller wipes it), or Vault's error text.
package enum TransitOutcome: Sendable {
    case sealed(ciphertext: String, version: Int)
    case opened([UInt8])
    case failed(String)
}

extension VaultService {
    /// The creation options of a Transit key.
    package struct TransitOptions: Sendable {
        package var type = "aes256-gcm96"
        package var derived = false
        package var convergent = false
        package var autoRotatePeriod: Int64 = 0
        /// This broker's addition: the tier callers must reach to use the key (default `PRIVACY_TIER`).
        package var requiredTier: Int?
        package var labels: [String: String] = [:]

        /// Vault's defaults.
        package init() {}
    }

    // MARK: Keys

    /// `POST transit/keys/:name`: a new key (creating an existing one changes nothing, as in Vault).
    package func createTransitKey(_ caller: VaultCaller, _ name: String, _ options: TransitOptions) async throws(BrokerError) -> TransitKeyView {
        try Self.validateTransitName(name)
        if let existing = try await transitKey(name) {
            try await authorize(caller, "vault:transit:read", target(existing))
            return existing
        }
        guard TransitCipher.types.contains(options.type) else {
            throw Self.invalid("unknown key type \(options.type.prefix(32)); this server offers \(TransitCipher.types.joined(separator: ", "))")
        }
        guard !options.convergent || options.derived else { throw Self.invalid("convergent encryption requires derivation to be enabled") }
        guard options.autoRotatePeriod == 0 || options.autoRotatePeriod >= 3600 else {
            throw Self.invalid("auto rotate period must be 0 to disable or at least an hour")
        }
        let tier = options.requiredTier ?? defaultTier.rawValue
        guard (0...4).contains(tier) else { throw Self.invalid("required_tier must be 0 to 4") }
        try KeyService.validateTags(options.labels)
        let action = "vault:transit:create"
        try await authorize(caller, action, .path("transit/\(name)", requiredTier: tier, labels: options.labels))
        let now = broker.clock()
        let keys = try await hierarchy()
        let keyID = "transit/\(name)/" + Self.randomText(bytes: 9)
        let record: KeyRecord
        do {
            record = try await keys.createDataKey(
                id: keyID, parent: Self.parentID, requiredTier: PrivacyTier(rawValue: tier) ?? .hsm, labels: options.labels, now: now)
        } catch {
            throw await failed(caller, action, "transit/\(name)", Self.keyError(error))
        }
        let entry = TransitKeyEntry(
            name: name, keyID: keyID, type: options.type, derived: options.derived, convergent: options.convergent, deletionAllowed: false,
            minDecryptionVersion: 1, minEncryptionVersion: 0, autoRotatePeriod: options.autoRotatePeriod, creator: caller.identity.subject,
            labels: options.labels, createdAt: Int64(now.timeIntervalSince1970))
        guard try await store(entry, .transitKey, name, over: nil) else {
            // Another request created it first; its key stands, this material goes.
            _ = try? await keys.destroyImmediately(keyID)
            guard let raced = try await transitKey(name) else { throw Self.invalid("the key changed meanwhile; try again") }
            return raced
        }
        try await audited(caller, action, "transit/\(name)", ["type": .string(options.type), "required_tier": .integer(Int64(tier))])
        return TransitKeyView(entry: entry, record: record)
    }

    /// `GET transit/keys/:name`.
    package func readTransitKey(_ caller: VaultCaller, _ name: String) async throws(BrokerError) -> TransitKeyView {
        let key = try await existingTransitKey(caller, "vault:transit:read", name, reading: true)
        try await authorize(caller, "vault:transit:read", target(key))
        return key
    }

    /// `LIST transit/keys`: every key's name.
    package func listTransitKeys(_ caller: VaultCaller) async throws(BrokerError) -> [String] {
        try await authorize(caller, "vault:transit:list", .path("transit/keys"))
        do { return try await repository.names(.transitKey, prefix: "", limit: 100_000) } catch { throw Self.storeUnavailable("read") }
    }

    /// `POST transit/keys/:name/rotate`: a new version becomes the one that encrypts.
    package func rotateTransitKey(_ caller: VaultCaller, _ name: String) async throws(BrokerError) -> TransitKeyView {
        let action = "vault:transit:rotate"
        let key = try await existingTransitKey(caller, action, name)
        try await authorize(caller, action, target(key))
        let keys = try await hierarchy()
        let record: KeyRecord
        do { record = try await keys.rotate(key.entry.keyID, now: broker.clock()) } catch {
            throw await failed(caller, action, "transit/\(name)", Self.keyError(error))
        }
        try await audited(caller, action, "transit/\(name)", ["version": .integer(Int64(record.currentVersion))])
        return TransitKeyView(entry: key.entry, record: record)
    }

    /// The settings `POST transit/keys/:name/config` changes; nil leaves one as it is.
    package struct TransitConfig: Sendable {
        package var minDecryptionVersion: Int?
        package var minEncryptionVersion: Int?
        package var deletionAllowed: Bool?
        package var autoRotatePeriod: Int64?

        /// No change.
        package init() {}
    }

    /// `POST transit/keys/:name/config`.
    package func configureTransitKey(_ caller: VaultCaller, _ name: String, _ config: TransitConfig) async throws(BrokerError) -> TransitKeyView {
        let action = "vault:transit:config"
        let key = try await existingTransitKey(caller, action, name)
        try await authorize(caller, action, target(key))
        var entry = key.entry
        let latest = key.latestVersion
        if let value = config.minDecryptionVersion {
            guard value >= 0, value <= latest else { throw Self.invalid("cannot set min decryption version to \(value): the latest is \(latest)") }
            entry.minDecryptionVersion = max(1, value)
        }
        if let value = config.minEncryptionVersion {
            guard value >= 0, value <= latest else { throw Self.invalid("cannot set min encryption version to \(value): the latest is \(latest)") }
            entry.minEncryptionVersion = value
        }
        guard entry.minEncryptionVersion == 0 || entry.minEncryptionVersion >= entry.minDecryptionVersion else {
            throw Self.invalid("min encryption version must not be lower than min decryption version")
        }
        if let value = config.deletionAllowed { entry.deletionAllowed = value }
        if let value = config.autoRotatePeriod {
            guard value == 0 || value >= 3600 else { throw Self.invalid("auto rotate period must be 0 to disable or at least an hour") }
            entry.autoRotatePeriod = value
        }
        try await replace(key, with: entry)
        try await audited(
            caller, action, "transit/\(name)",
            [
                "min_decryption_version": .integer(Int64(entry.minDecryptionVersion)), "deletion_allowed": .bool(entry.deletionAllowed),
            ])
        return TransitKeyView(entry: entry, record: key.record)
    }

    /// `DELETE transit/keys/:name`: refused until `deletion_allowed` is set; then the material is destroyed at once and
    /// every ciphertext of the key stops decrypting.
    package func deleteTransitKey(_ caller: VaultCaller, _ name: String) async throws(BrokerError) {
        let action = "vault:transit:delete"
        let key = try await existingTransitKey(caller, action, name)
        try await authorize(caller, action, target(key))
        guard key.entry.deletionAllowed else {
            throw await failed(caller, action, "transit/\(name)", Self.invalid("deletion is not allowed for this key"))
        }
        let keys = try await hierarchy()
        do { _ = try await keys.destroyImmediately(key.entry.keyID) } catch {
            guard error.reason == .destroyed else { throw await failed(caller, action, "transit/\(name)", Self.keyError(error)) }
        }
        _ = try await remove(.transitKey, name)
        try await audited(caller, action, "transit/\(name)", ["record": .string(key.entry.keyID)])
    }

    // MARK: Cryptography

    /// `transit/encrypt/:name`: each item's plaintext under the key's newest version (or `version`), the key created
    /// first when missing (Vault's upsert, decided as `vault:transit:create`).
    package func transitEncrypt(_ caller: VaultCaller, _ name: String, _ items: [TransitItem], version: Int?) async throws(BrokerError)
        -> [TransitOutcome]
    {
        let action = "vault:transit:encrypt"
        var key: TransitKeyView
        if let existing = try await transitKey(name) {
            key = existing
        } else {
            let derived = items.contains { $0.context?.isEmpty == false }
            var options = TransitOptions()
            options.derived = derived
            key = try await createTransitKey(caller, name, options)
        }
        try await authorize(caller, action, target(key))
        key = try await rotatedIfDue(key)
        let use = version ?? key.latestVersion
        guard use <= key.latestVersion, use >= 1 else { throw Self.invalid("requested version \(use) is not a version of this key") }
        guard use >= key.entry.minEncryptionVersion else {
            throw Self.invalid("requested version for encryption is less than the minimum encryption key version")
        }
        let outcomes = try await withMaterial(caller, action, key, versions: [use]) { material in
            items.map { item -> TransitOutcome in
                guard let plaintext = item.plaintext else { return .failed("missing plaintext to encrypt") }
                do throws(BrokerError) {
                    let bytes = try TransitCipher.seal(plaintext, material: material(use), entry: key.entry, version: use, context: item.context)
                    return .sealed(ciphertext: TransitCipher.format(version: use, bytes: bytes), version: use)
                } catch {
                    return .failed(error.message)
                }
            }
        }
        try await audited(caller, action, "transit/\(name)", ["items": .integer(Int64(items.count)), "version": .integer(Int64(use))])
        return outcomes
    }

    /// `transit/decrypt/:name`: each item's ciphertext opened (a version below `min_decryption_version` refused).
    package func transitDecrypt(_ caller: VaultCaller, _ name: String, _ items: [TransitItem]) async throws(BrokerError) -> [TransitOutcome] {
        let action = "vault:transit:decrypt"
        let key = try await existingTransitKey(caller, action, name)
        try await authorize(caller, action, target(key))
        let outcomes = try await withMaterial(caller, action, key, versions: Self.versions(of: items, key)) { material in
            items.map { item -> TransitOutcome in
                do throws(BrokerError) {
                    let (version, bytes) = try Self.checkedCiphertext(item.ciphertext, key)
                    return .opened(
                        try TransitCipher.open(bytes, material: material(version), entry: key.entry, version: version, context: item.context))
                } catch {
                    return .failed(error.message)
                }
            }
        }
        try await audited(caller, action, "transit/\(name)", ["items": .integer(Int64(items.count))])
        return outcomes
    }

    /// `transit/rewrap/:name`: each ciphertext opened and sealed again under the newest version (or `version`), the
    /// plaintext never leaving the broker.
    package func transitRewrap(_ caller: VaultCaller, _ name: String, _ items: [TransitItem], version: Int?) async throws(BrokerError)
        -> [TransitOutcome]
    {
        let action = "vault:transit:rewrap"
        var key = try await existingTransitKey(caller, action, name)
        try await authorize(caller, action, target(key))
        key = try await rotatedIfDue(key)
        let use = version ?? key.latestVersion
        guard use <= key.latestVersion, use >= max(1, key.entry.minEncryptionVersion) else {
            throw Self.invalid("requested version \(use) cannot encrypt with this key")
        }
        let outcomes = try await withMaterial(caller, action, key, versions: Self.versions(of: items, key).union([use])) { material in
            items.map { item -> TransitOutcome in
                do throws(BrokerError) {
                    let (version, bytes) = try Self.checkedCiphertext(item.ciphertext, key)
                    var plaintext = try TransitCipher.open(
                        bytes, material: material(version), entry: key.entry, version: version, context: item.context)
                    defer { SecretBytes.wipe(&plaintext) }
                    let sealed = try TransitCipher.seal(plaintext, material: material(use), entry: key.entry, version: use, context: item.context)
                    return .sealed(ciphertext: TransitCipher.format(version: use, bytes: sealed), version: use)
                } catch {
                    return .failed(error.message)
                }
            }
        }
        try await audited(caller, action, "transit/\(name)", ["items": .integer(Int64(items.count)), "version": .integer(Int64(use))])
        return outcomes
    }

    /// `transit/datakey/(plaintext|wrapped)/:name`: `bits` (128, 256, 512) random bits and their ciphertext under the
    /// newest version; the plaintext only when asked for (the caller wipes it).
    package func transitDataKey(_ caller: VaultCaller, _ name: String, bits: Int, context: [UInt8]?, withPlaintext: Bool)
        async throws(BrokerError) -> (ciphertext: String, version: Int, plaintext: [UInt8]?)
    {
        guard [128, 256, 512].contains(bits) else { throw Self.invalid("invalid bits value: give 128, 256 or 512") }
        let action = "vault:transit:datakey"
        var key = try await existingTransitKey(caller, action, name)
        try await authorize(caller, action, target(key))
        key = try await rotatedIfDue(key)
        let use = key.latestVersion
        let material = SecretBytes.random(count: bits / 8)
        var plaintext = material.withUnsafeBytes { Array($0) }
        let outcome: [TransitOutcome]
        do {
            outcome = try await withMaterial(caller, action, key, versions: [use]) { keyMaterial in
                do throws(BrokerError) {
                    let bytes = try TransitCipher.seal(plaintext, material: keyMaterial(use), entry: key.entry, version: use, context: context)
                    return [.sealed(ciphertext: TransitCipher.format(version: use, bytes: bytes), version: use)]
                } catch {
                    return [.failed(error.message)]
                }
            }
            try await audited(caller, action, "transit/\(name)", ["bits": .integer(Int64(bits)), "returned_in_clear": .bool(withPlaintext)])
        } catch {
            SecretBytes.wipe(&plaintext)
            throw error
        }
        guard case .sealed(let ciphertext, _)? = outcome.first else {
            SecretBytes.wipe(&plaintext)
            if case .failed(let message)? = outcome.first { throw Self.invalid(message) }
            throw Self.invalid("the data key could not be sealed")
        }
        guard withPlaintext else {
            SecretBytes.wipe(&plaintext)
            return (ciphertext, use, nil)
        }
        return (ciphertext, use, plaintext)
    }

    // MARK: Helpers

    /// A Transit key by name, or nil.
    func transitKey(_ name: String) async throws(BrokerError) -> TransitKeyView? {
        guard let (entry, _) = try await load(TransitKeyEntry.self, .transitKey, name) else { return nil }
        let keys = try await hierarchy()
        do { return TransitKeyView(entry: entry, record: try await keys.record(entry.keyID)) } catch {
            if error.reason == .notFound { return nil }
            throw Self.keyError(error)
        }
    }

    /// A Transit key by name; when there is none, Vault's 400 `encryption key not found` (its 404 when `reading`), but
    /// only to a caller the policy lets do `action` on the path: others learn nothing of what exists.
    func existingTransitKey(_ caller: VaultCaller, _ action: String, _ name: String, reading: Bool = false) async throws(BrokerError)
        -> TransitKeyView
    {
        try Self.validateTransitName(name)
        guard let key = try await transitKey(name) else {
            try await authorize(caller, action, .path("transit/\(name)"))
            throw reading ? Self.error(.notFound, "not_found", "") : Self.invalid("encryption key not found")
        }
        return key
    }

    /// The decision target of a key.
    func target(_ key: TransitKeyView) -> Target {
        Target(id: "transit/\(key.entry.name)", creator: key.entry.creator, requiredTier: key.record.requiredTier.rawValue, labels: key.entry.labels)
    }

    /// Replaces a key's settings over the revision read.
    private func replace(_ key: TransitKeyView, with entry: TransitKeyEntry) async throws(BrokerError) {
        guard let (_, revision) = try await load(TransitKeyEntry.self, .transitKey, key.entry.name),
            try await store(entry, .transitKey, key.entry.name, over: revision)
        else { throw Self.invalid("the key changed meanwhile; try again") }
    }

    /// Rotates a key whose automatic rotation period has passed since its newest version.
    func rotatedIfDue(_ key: TransitKeyView) async throws(BrokerError) -> TransitKeyView {
        guard key.entry.autoRotatePeriod > 0, let newest = key.record.version(key.record.currentVersion),
            broker.clock().timeIntervalSince(newest.created) >= Double(key.entry.autoRotatePeriod)
        else { return key }
        let keys = try await hierarchy()
        let record: KeyRecord
        do { record = try await keys.rotate(key.entry.keyID, now: broker.clock()) } catch {
            // Another replica rotated it first: use what it made.
            guard error.reason == .conflict, let current = try await transitKey(key.entry.name) else { throw Self.keyError(error) }
            return current
        }
        try await broker.audit(
            AuditEntry(
                kind: .keyOperation, actor: "kbs", action: "vault:transit:rotate", resource: "transit/\(key.entry.name)", outcome: .success,
                details: ["version": .integer(Int64(record.currentVersion)), "automatic": .bool(true)]))
        return TransitKeyView(entry: key.entry, record: record)
    }

    /// Runs `body` with a function giving the material of `versions` (each unwrapped once, wiped afterwards); a key
    /// the hierarchy refuses (disabled, destroyed) is audited and refused.
    private func withMaterial(
        _ caller: VaultCaller, _ action: String, _ key: TransitKeyView, versions: Set<Int>,
        _ body: (_ material: (Int) throws(BrokerError) -> [UInt8]) -> [TransitOutcome]
    ) async throws(BrokerError) -> [TransitOutcome] {
        let keys = try await hierarchy()
        var copies: [Int: [UInt8]] = [:]
        defer { for version in Array(copies.keys) { SecretBytes.wipe(&copies[version]!) } }
        // Only the versions the request names are unwrapped (each through the KEK), up front: the hierarchy's calls
        // are async, the cipher's are not.
        for version in versions.sorted() where version >= max(1, key.entry.minDecryptionVersion) && version <= key.latestVersion {
            do { copies[version] = try await keys.useKey(key.entry.keyID, version: UInt32(version)) { Array($0) } } catch let error as KeyError {
                if error.reason == .destroyed || error.reason == .notFound { continue }
                throw await failed(caller, action, "transit/\(key.entry.name)", Self.keyError(error))
            } catch {
                throw await failed(caller, action, "transit/\(key.entry.name)", Self.invalid("the key cannot be used"))
            }
        }
        return body { (version: Int) throws(BrokerError) -> [UInt8] in
            guard let bytes = copies[version] else { throw Self.invalid("key version \(version) is not available") }
            return bytes
        }
    }

    /// The versions the ciphertexts of `items` name that this key may decrypt (the others are refused item by item).
    static func versions(of items: [TransitItem], _ key: TransitKeyView) -> Set<Int> {
        Set(items.compactMap { item in try? checkedCiphertext(item.ciphertext, key).0 })
    }

    /// The version and bytes of a ciphertext this key may decrypt: Vault's refusals for a malformed ciphertext, one
    /// too new, and one older than `min_decryption_version`.
    static func checkedCiphertext(_ text: String?, _ key: TransitKeyView) throws(BrokerError) -> (Int, [UInt8]) {
        guard let text else { throw invalid("missing ciphertext to decrypt") }
        guard let parsed = TransitCipher.parse(text) else { throw invalid("invalid ciphertext: no prefix") }
        guard parsed.version <= key.latestVersion else { throw invalid("invalid ciphertext: version is too new") }
        guard parsed.version >= key.entry.minDecryptionVersion else {
            throw invalid("ciphertext or signature version is disallowed by policy (too old)")
        }
        return (parsed.version, parsed.bytes)
    }

    /// The hierarchy with the Vault key-encryption key (and the KV data key) in it, created on first use and audited.
    /// Once they exist they are never deleted, so later calls skip the record reads that check for them.
    func hierarchy() async throws(BrokerError) -> KeyHierarchy {
        if prepared.withLock({ $0 }) { return try await broker.vault.keySource.hierarchy() }
        let (keys, created) = try await broker.vault.keySource.hierarchy(dataKey: Self.kvKeyID, parent: Self.parentID, now: broker.clock())
        for id in created {
            try await broker.audit(AuditEntry(kind: .keyOperation, actor: "kbs", action: "create", resource: id, outcome: .success))
        }
        prepared.withLock { $0 = true }
        return keys
    }

    /// Transit key names: 1 to 128 of letters, digits, `_ - .`.
    static func validateTransitName(_ name: String) throws(BrokerError) {
        guard (1...128).contains(name.utf8.count),
            name.utf8.allSatisfy({
                (0x30...0x39).contains($0) || (0x41...0x5A).contains($0) || (0x61...0x7A).contains($0) || $0 == UInt8(ascii: "_")
                    || $0 == UInt8(ascii: "-") || $0 == UInt8(ascii: ".")
            }), name != ".", name != ".."
        else { throw invalid("a key name is 1 to 128 letters, digits, _ - and .") }
    }
}
