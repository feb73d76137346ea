package import Foundation
package import KBSClaims

/// The key hierarchy: a master key (held by a `MasterKeyProvider`) wraps key-encryption keys, which wrap
/// data-encryption keys, which encrypt data. The one public entry point of `KBSKeys`.
///
/// Every key is 32 random bytes and every wrapping and encryption uses the envelope format (AES-256-GCM with a
/// per-message key from HKDF-SHA256; see `docs/keys.md`). Wrapped material is bound to its record's id and version,
/// so it cannot be moved to another record. Plaintext keys exist only as `SecretBytes` during one call and are wiped
/// when it ends. No method reads the clock: callers pass `now`.
package struct KeyHierarchy: Sendable {
    /// Wraps and unwraps key-encryption keys.
    package let master: any MasterKeyProvider
    /// Keeps the records.
    package let store: any KeyRecordStore
    /// Records and unwrapped data keys kept between calls (see ``decrypt(_:aad:recordsAt:)``).
    let caches = KeyHierarchyCaches()

    /// Creates a hierarchy over `store` rooted in `master`.
    package init(master: any MasterKeyProvider, store: any KeyRecordStore) {
        self.master = master
        self.store = store
    }

    // MARK: Creating and rotating

    /// Creates an enabled key-encryption key with one version, wrapped by the master key.
    package func createKeyEncryptionKey(
        id: String,
        requiredTier: PrivacyTier = .open,
        labels: [String: String] = [:],
        now: Date
    ) async throws(KeyError) -> KeyRecord {
        try KeyID.validate(id)
        let material = SecretBytes.random(count: 32)
        let wrapped = try await wrapUnderMaster(material, id: id, version: 1)
        let record = KeyRecord(
            id: id, kind: .keyEncryption, versions: [KeyVersion(number: 1, wrapped: wrapped, created: now)],
            currentVersion: 1, state: .enabled, requiredTier: requiredTier, labels: labels, created: now, revision: 1)
        try await save(record, expectedRevision: nil)
        return record
    }

    /// Creates an enabled data-encryption key with one version, wrapped by the current version of the enabled
    /// key-encryption key `parent`: AES-256 material, or with `algorithm` a signing key.
    package func createDataKey(
        id: String,
        parent: String,
        requiredTier: PrivacyTier = .open,
        labels: [String: String] = [:],
        algorithm: KeyAlgorithm = .aes256,
        now: Date
    ) async throws(KeyError) -> KeyRecord {
        try KeyID.validate(id)
        let material = try algorithm.generate()
        let wrapped = try await wrapUnderParent(material, parent: parent, id: id, version: 1)
        // AES keys leave the field out, so their records read exactly as before signing keys existed.
        let record = KeyRecord(
            id: id, kind: .dataEncryption(parent: parent),
            versions: [KeyVersion(number: 1, wrapped: wrapped, created: now)], currentVersion: 1, state: .enabled,
            requiredTier: requiredTier, labels: labels, created: now, revision: 1, algorithm: algorithm == .aes256 ? nil : algorithm)
        try await save(record, expectedRevision: nil)
        return record
    }

    /// Creates a key-encryption key, or a data key under `parent` when one is named.
    package func createKey(
        id: String, parent: String?, requiredTier: PrivacyTier, labels: [String: String], now: Date
    ) async throws(KeyError) -> KeyRecord {
        if let parent { return try await createDataKey(id: id, parent: parent, requiredTier: requiredTier, labels: labels, now: now) }
        return try await createKeyEncryptionKey(id: id, requiredTier: requiredTier, labels: labels, now: now)
    }

    /// Adds a fresh version to an enabled key and makes it current; older versions stay for decryption.
    ///
    /// Rotating a key-encryption key does not rewrap its data keys: their existing versions keep naming the KEK
    /// version that wraps them, and their next rotation wraps under the new one; `rewrap` moves them all.
    ///
    /// With `expectedRevision`, the record must still be at that revision (else `conflict`): a caller that decided to
    /// rotate from a record it read earlier (a rotation period that ended) rotates only if no one else has since.
    package func rotate(_ id: String, now: Date, expectedRevision: Int? = nil) async throws(KeyError) -> KeyRecord {
        var record = try await load(id)
        if let expectedRevision, record.revision != expectedRevision {
            throw KeyError(.conflict, "key \(id) changed since it was read (revision \(record.revision), not \(expectedRevision))")
        }
        try record.requireUsable()
        try record.requireSymmetric()
        let number = (record.versions.map(\.number).max() ?? 0) + 1
        let material = SecretBytes.random(count: 32)
        let wrapped: [UInt8]
        switch record.kind {
        case .keyEncryption: wrapped = try await wrapUnderMaster(material, id: id, version: number)
        case .dataEncryption(let parent):
            wrapped = try await wrapUnderParent(material, parent: parent, id: id, version: number)
        }
        let revision = record.revision
        record.versions.append(KeyVersion(number: number, wrapped: wrapped, created: now))
        record.currentVersion = number
        record.revision += 1
        try await save(record, expectedRevision: revision)
        return record
    }

    /// Rewraps every version of the enabled data key `id` under the current version of its key-encryption key, so
    /// that older KEK versions no longer wrap anything. The data key's own material (and so every ciphertext) is
    /// unchanged.
    package func rewrap(_ id: String) async throws(KeyError) -> KeyRecord {
        var record = try await load(id)
        try record.requireDataKey()
        try record.requireUsable()
        guard case .dataEncryption(let parent) = record.kind else { return record }
        let revision = record.revision
        for index in record.versions.indices {
            let number = record.versions[index].number
            let material = try await dataKeyMaterial(record, version: number)
            record.versions[index].wrapped = try await wrapUnderParent(material, parent: parent, id: id, version: number)
        }
        record.revision += 1
        try await save(record, expectedRevision: revision)
        return record
    }

    // MARK: State transitions

    /// Disables an enabled key: it refuses encryption and decryption until enabled.
    package func disable(_ id: String) async throws(KeyError) -> KeyRecord {
        try await update(id) { (record) throws(KeyError) in try record.disable() }
    }

    /// Enables a disabled key. A key pending deletion must have its deletion cancelled first.
    package func enable(_ id: String) async throws(KeyError) -> KeyRecord {
        try await update(id) { (record) throws(KeyError) in try record.enable() }
    }

    /// Schedules destruction `days` days (7–30) after `now`; until then the key refuses use.
    package func scheduleDeletion(_ id: String, days: Int, now: Date) async throws(KeyError) -> KeyRecord {
        try await update(id) { (record) throws(KeyError) in _ = try record.scheduleDeletion(days: days, now: now) }
    }

    /// Replaces the labels of a key that is not destroyed; the material and state are unchanged.
    package func relabel(_ id: String, labels: [String: String]) async throws(KeyError) -> KeyRecord {
        try await update(id) { (record) throws(KeyError) in
            if case .destroyed = record.state { throw KeyError(.destroyed, "key \(id) was destroyed") }
            record.labels = labels
        }
    }

    /// Cancels a scheduled deletion, leaving the key disabled (as AWS KMS does).
    package func cancelDeletion(_ id: String) async throws(KeyError) -> KeyRecord {
        try await update(id) { (record) throws(KeyError) in try record.cancelDeletion() }
    }

    /// Destroys a key whose deletion date is `now` or earlier, dropping the wrapped material of every version.
    ///
    /// Destroying a key-encryption key makes every data key under it undecryptable.
    package func destroy(_ id: String, now: Date) async throws(KeyError) -> KeyRecord {
        try await update(id) { (record) throws(KeyError) in try record.destroy(now: now) }
    }

    /// Destroys a key at once, without a deletion window: for callers that gate deletion themselves (Vault Transit's
    /// `deletion_allowed`). Every ciphertext of the key stops decrypting.
    package func destroyImmediately(_ id: String) async throws(KeyError) -> KeyRecord {
        try await update(id) { (record) throws(KeyError) in try record.destroyImmediately() }
    }

    /// Destroys every key whose deletion date has come and returns their ids; for a periodic sweeper.
    package func destroyDue(now: Date) async throws(KeyError) -> [String] {
        var destroyed: [String] = []
        for record in try await records() {
            guard case .pendingDeletion(let until) = record.state, now >= until else { continue }
            _ = try await destroy(record.id, now: now)
            destroyed.append(record.id)
        }
        return destroyed
    }

    // MARK: Reading records

    /// The record of key `id`.
    package func record(_ id: String) async throws(KeyError) -> KeyRecord {
        try await load(id)
    }

    /// Every record, in id order.
    package func records() async throws(KeyError) -> [KeyRecord] {
        do { return try await store.list() } catch { throw Self.storeError(error) }
    }

    // MARK: Using keys

    /// Encrypts `plaintext` with the current version of the enabled data key `keyID`, binding `aad`.
    ///
    /// The result names the key and version, so `decrypt` needs only the ciphertext and the same `aad`.
    package func encrypt(keyID: String, plaintext: [UInt8], aad: [UInt8] = []) async throws(KeyError) -> [UInt8] {
        let record = try await load(keyID)
        try record.requireDataKey()
        try record.requireSymmetric()
        let key = try await dataKeyMaterial(record, version: record.currentVersion, cached: true)
        return try Envelope.seal(plaintext, key: key, keyID: keyID, keyVersion: record.currentVersion, aad: aad)
    }

    /// The key id and version a ciphertext from ``encrypt(keyID:plaintext:aad:)`` names, read from its header without
    /// decrypting; `malformed` when it is not one. The header is authenticated only when the ciphertext is opened.
    package static func ciphertextKey(_ ciphertext: [UInt8]) throws(KeyError) -> (id: String, version: UInt32) {
        let (header, _) = try Envelope.header(of: ciphertext)
        return (header.keyID, header.keyVersion)
    }

    /// Decrypts what `encrypt` produced, with whichever version of the data key it names; the key must be enabled.
    ///
    /// Any change to the ciphertext, the `aad`, or the key id or version in its header fails with `integrity`
    /// (or `notFound` when the changed id or version does not exist).
    ///
    /// `recordsAt` is the store's key-record change counter (``ReleaseRevisions``) read before this call: records read
    /// under the same counter are taken from memory. Without it every record is read from the store.
    package func decrypt(_ ciphertext: [UInt8], aad: [UInt8] = [], recordsAt stamp: Int64? = nil) async throws(KeyError) -> [UInt8] {
        let (header, _) = try Envelope.header(of: ciphertext)
        let record = try await load(header.keyID, at: stamp)
        try record.requireDataKey()
        try record.requireSymmetric()
        let key = try await dataKeyMaterial(record, version: header.keyVersion, recordsAt: stamp, cached: true)
        return try Envelope.open(ciphertext, key: key, aad: aad)
    }

    /// Calls `body` with the plaintext of data key `id` (its current version, or `version`), then wipes it.
    ///
    /// The bytes are valid only inside `body`, which cannot escape; copying them out defeats the wiping and is the
    /// caller's responsibility (see `SecretBytes` for what the wiping covers).
    package func useKey<Result>(
        _ id: String,
        version: UInt32? = nil,
        _ body: (UnsafeRawBufferPointer) throws -> Result
    ) async throws -> Result {
        let record = try await load(id)
        try record.requireDataKey()
        let key = try await dataKeyMaterial(record, version: version ?? record.currentVersion)
        return try key.withUnsafeBytes(body)
    }

    // MARK: Unwrapping

    /// The plaintext of version `number` of a usable data key, through its KEK and the master key.
    ///
    /// Both records are checked usable on every call. With `cached` (envelope encryption and decryption only) the
    /// unwrapped key is reused from ``LockedKeyCache`` while neither record has changed; keys lent raw to a caller
    /// (``useKey(_:version:_:)``: token roots, Transit exports) and signing keys are unwrapped through the master key
    /// every time, so a token never seen before still needs the key service (their verified tokens are cached above).
    func dataKeyMaterial(_ record: KeyRecord, version number: UInt32, recordsAt stamp: Int64? = nil, cached: Bool = false) async throws(KeyError)
        -> SecretBytes
    {
        try record.requireUsable()
        guard case .dataEncryption(let parentID) = record.kind else {
            throw KeyError(.invalidState, "key \(record.id) is a key-encryption key")
        }
        let wrapped = try record.wrappedMaterial(number)
        let (header, _) = try Envelope.header(of: wrapped)
        guard header.keyID == parentID else {
            throw KeyError(.integrity, "key \(record.id) version \(number) is wrapped by \(header.keyID), not \(parentID)")
        }
        let parent = try await load(parentID, at: stamp)
        try parent.requireUsable()
        let name = LockedKeyCache.Name(id: record.id, version: number, revision: record.revision, parent: parentID, parentRevision: parent.revision)
        if cached, let known = caches.dataKeys.key(name) { return known }
        let kek = try await keyEncryptionKeyMaterial(parent, version: header.keyVersion)
        let key = try Envelope.openSecret(wrapped, key: kek, aad: Self.context("dek", record.id, number))
        if cached { caches.dataKeys.keep(key, as: name) }
        return key
    }

    /// The plaintext of version `number` of a usable key-encryption key, from the master key provider.
    private func keyEncryptionKeyMaterial(_ record: KeyRecord, version number: UInt32) async throws(KeyError) -> SecretBytes {
        try record.requireUsable()
        guard case .keyEncryption = record.kind else {
            throw KeyError(.integrity, "key \(record.id) wraps data keys but is itself a data key")
        }
        let wrapped = try record.wrappedMaterial(number)
        do {
            return try await master.unwrap(wrapped, context: Self.context("kek", record.id, number))
        } catch {
            throw Self.providerError(error)
        }
    }

    private func wrapUnderMaster(_ key: borrowing SecretBytes, id: String, version: UInt32) async throws(KeyError) -> [UInt8] {
        do {
            return try await master.wrap(key, context: Self.context("kek", id, version))
        } catch {
            throw Self.providerError(error)
        }
    }

    private func wrapUnderParent(
        _ key: borrowing SecretBytes,
        parent parentID: String,
        id: String,
        version: UInt32
    ) async throws(KeyError) -> [UInt8] {
        let parent = try await load(parentID)
        guard case .keyEncryption = parent.kind else {
            throw KeyError(.invalidArgument, "key \(parentID) is a data key; a data key's parent is a key-encryption key")
        }
        let kek = try await keyEncryptionKeyMaterial(parent, version: parent.currentVersion)
        return try key.withUnsafeBytes { (bytes) throws(KeyError) in
            try Envelope.seal(
                bytes, key: kek, keyID: parentID, keyVersion: parent.currentVersion,
                aad: Self.context("dek", id, version))
        }
    }

    /// The additional data that binds wrapped material to its record and version.
    private static func context(_ kind: String, _ id: String, _ version: UInt32) -> [UInt8] {
        Array("kbs-keys/v1 \(kind)".utf8) + [0] + Array(id.utf8) + [0] + Array(String(version).utf8)
    }

    // MARK: Store access

    /// The record of `id`; with `stamp` (the store's key-record counter, read before), from memory when it was read
    /// under the same counter.
    func load(_ id: String, at stamp: Int64? = nil) async throws(KeyError) -> KeyRecord {
        if let stamp, let known = caches.record(id, at: stamp) { return known }
        let record: KeyRecord?
        do { record = try await store.load(id) } catch { throw Self.storeError(error) }
        guard let record else { throw KeyError(.notFound, "no key \(id)") }
        if let stamp { caches.remember(record, at: stamp) }
        return record
    }

    private func save(_ record: KeyRecord, expectedRevision: Int?) async throws(KeyError) {
        do { try await store.save(record, expectedRevision: expectedRevision) } catch { throw Self.storeError(error) }
        caches.forget(record.id)
    }

    private func update(
        _ id: String,
        _ change: (inout KeyRecord) throws(KeyError) -> Void
    ) async throws(KeyError) -> KeyRecord {
        var record = try await load(id)
        let revision = record.revision
        try change(&record)
        record.revision += 1
        try await save(record, expectedRevision: revision)
        return record
    }

    private static func storeError(_ error: any Error) -> KeyError {
        (error as? KeyError) ?? KeyError(.storage, "the key record store failed: \(error)")
    }

    private static func providerError(_ error: any Error) -> KeyError {
        (error as? KeyError) ?? KeyError(.sealed, "the master key provider failed: \(error)")
    }
}

extension KeyRecord {
    func requireDataKey() throws(KeyError) {
        guard case .dataEncryption = kind else {
            throw KeyError(.invalidState, "key \(id) is a key-encryption key; it wraps data keys and encrypts nothing else")
        }
    }

    /// The wrapped material of version `number`, refusing a missing version or wiped material.
    func wrappedMaterial(_ number: UInt32) throws(KeyError) -> [UInt8] {
        guard let version = version(number) else { throw KeyError(.notFound, "key \(id) has no version \(number)") }
        guard !version.wrapped.isEmpty else { throw KeyError(.destroyed, "key \(id) version \(number) was destroyed") }
        return version.wrapped
    }
}
