import Crypto
import Foundation
import KBSClaims
package import KBSKeys

extension KeyService {
    /// A ciphertext this API made and the key it names.
    package struct Sealed: Sendable {
        /// The key id (not the hierarchy's `kms/` id).
        package var keyID: String
        package var ciphertext: [UInt8]
    }

    /// A decrypted ciphertext: the key that encrypted it and the plaintext, which the caller wipes after use.
    package struct Opened: Sendable {
        package var keyID: String
        package var plaintext: [UInt8]
    }

    /// A data key: its ciphertext and, unless asked without, its plaintext (which the caller wipes after use).
    package struct DataKey: Sendable {
        package var keyID: String
        package var ciphertext: [UInt8]
        package var plaintext: [UInt8]?
    }

    /// The most bytes `Encrypt` takes, and the most a ciphertext may have, as in AWS.
    package static let maximumPlaintext = 4096
    package static let maximumCiphertext = 6144

    /// `Encrypt`: `plaintext` (1–4096 bytes) under the key's current version, the encryption context bound as
    /// additional data. The ciphertext names the key and version, so `Decrypt` needs neither.
    package func encrypt(_ caller: KMSCaller, _ reference: String, plaintext: [UInt8], context: [String: String])
        async throws(BrokerError) -> Sealed
    {
        guard (1...Self.maximumPlaintext).contains(plaintext.count) else {
            throw Self.error("validation", "Plaintext must be 1 to 4096 bytes")
        }
        let key = try await resolve(reference)
        try await authorize(caller, "kms:Encrypt", .key(key, context: context))
        let sealed = try await seal(caller, "kms:Encrypt", key, plaintext, context: context)
        try await audited(caller, "kms:Encrypt", key.record.id, Self.contextDetails(context))
        return sealed
    }

    /// `Decrypt`: the plaintext of a ciphertext `Encrypt` (or `GenerateDataKey`, `ReEncrypt`) made, under the exact
    /// encryption context it was made with. A `KeyId` given must name the key the ciphertext names
    /// (`kms_incorrect_key`); any change to the ciphertext or the context is `kms_invalid_ciphertext`.
    package func decrypt(_ caller: KMSCaller, ciphertext: [UInt8], context: [String: String], expectedKey: String?)
        async throws(BrokerError) -> Opened
    {
        let (key, opened) = try await open(caller, "kms:Decrypt", ciphertext, context: context, expectedKey: expectedKey)
        do { try await audited(caller, "kms:Decrypt", key.record.id, Self.contextDetails(context)) } catch {
            var plaintext = opened.plaintext
            SecretBytes.wipe(&plaintext)
            throw error
        }
        return opened
    }

    /// `ReEncrypt`: decrypts under the source key and context and encrypts under the destination key and context
    /// without the plaintext leaving the broker (it is wiped before returning). Decided twice: `kms:ReEncryptFrom` on
    /// the source key, `kms:ReEncryptTo` on the destination.
    package func reEncrypt(
        _ caller: KMSCaller, ciphertext: [UInt8], sourceContext: [String: String], sourceKey: String?, destinationKey: String,
        destinationContext: [String: String]
    ) async throws(BrokerError) -> (source: String, sealed: Sealed) {
        let (source, opened) = try await open(caller, "kms:ReEncryptFrom", ciphertext, context: sourceContext, expectedKey: sourceKey)
        var plaintext = opened.plaintext
        defer { SecretBytes.wipe(&plaintext) }
        let destination = try await resolve(destinationKey)
        try await authorize(caller, "kms:ReEncryptTo", .key(destination, context: destinationContext))
        let sealed = try await seal(caller, "kms:ReEncryptTo", destination, plaintext, context: destinationContext)
        try await audited(
            caller, "kms:ReEncrypt", destination.record.id,
            Self.contextDetails(destinationContext).merging(["source": .string(source.record.id)]) { $1 })
        return (source.entry.id, sealed)
    }

    /// `GenerateDataKey` (`withPlaintext`) and `GenerateDataKeyWithoutPlaintext`: `count` (1–1024) random bytes and
    /// their ciphertext under the key, as `Encrypt` makes it.
    package func generateDataKey(
        _ caller: KMSCaller, _ reference: String, count: Int, context: [String: String], withPlaintext: Bool
    ) async throws(BrokerError) -> DataKey {
        let action = withPlaintext ? "kms:GenerateDataKey" : "kms:GenerateDataKeyWithoutPlaintext"
        guard (1...1024).contains(count) else { throw Self.error("validation", "NumberOfBytes must be 1 to 1024") }
        let key = try await resolve(reference)
        try await authorize(caller, action, .key(key, context: context))
        let material = SecretBytes.random(count: count)
        var plaintext = material.withUnsafeBytes { Array($0) }
        let sealed: Sealed
        do { sealed = try await seal(caller, action, key, plaintext, context: context) } catch {
            SecretBytes.wipe(&plaintext)
            throw error
        }
        do { try await audited(caller, action, key.record.id, Self.contextDetails(context).merging(["bytes": .integer(Int64(count))]) { $1 }) } catch
        {
            SecretBytes.wipe(&plaintext)
            throw error
        }
        guard withPlaintext else {
            SecretBytes.wipe(&plaintext)
            return DataKey(keyID: sealed.keyID, ciphertext: sealed.ciphertext, plaintext: nil)
        }
        return DataKey(keyID: sealed.keyID, ciphertext: sealed.ciphertext, plaintext: plaintext)
    }

    /// `GenerateRandom`: `count` (1–1024) bytes from the system's cryptographically secure generator.
    package func generateRandom(_ caller: KMSCaller, count: Int) async throws(BrokerError) -> [UInt8] {
        guard (1...1024).contains(count) else { throw Self.error("validation", "NumberOfBytes must be 1 to 1024") }
        try await authorize(caller, "kms:GenerateRandom", .account)
        try await audited(caller, "kms:GenerateRandom", "*", ["bytes": .integer(Int64(count))])
        var generator = SystemRandomNumberGenerator()
        return (0..<count).map { _ in generator.next() }
    }

    // MARK: Sealing and opening

    /// Encrypts under `key` (rotated first when due) after checking it encrypts; the refusal audited.
    private func seal(_ caller: KMSCaller, _ action: String, _ key: KMSKeyView, _ plaintext: [UInt8], context: [String: String])
        async throws(BrokerError) -> Sealed
    {
        guard key.entry.usage == .encryptDecrypt else {
            throw await failed(
                caller, action, key.record.id,
                Self.error("invalid_key_usage", "key \(key.entry.id) is \(key.entry.usage.rawValue); it does not encrypt"))
        }
        let current = try await rotatedIfDue(key)
        let keys = try await broker.vault.keySource.hierarchy()
        do {
            let ciphertext = try await keys.encrypt(keyID: current.record.id, plaintext: plaintext, aad: EncryptionContext.canonical(context))
            return Sealed(keyID: key.entry.id, ciphertext: ciphertext)
        } catch {
            throw await failed(caller, action, key.record.id, Self.keyError(error))
        }
    }

    /// Finds the key a ciphertext names, decides `action` on it and decrypts; the refusals audited.
    private func open(_ caller: KMSCaller, _ action: String, _ ciphertext: [UInt8], context: [String: String], expectedKey: String?)
        async throws(BrokerError) -> (KMSKeyView, Opened)
    {
        let invalid = Self.error("invalid_ciphertext", "the ciphertext is not one this service made, or it was altered")
        guard (1...Self.maximumCiphertext).contains(ciphertext.count) else {
            throw Self.error("validation", "CiphertextBlob must be 1 to 6144 bytes")
        }
        // The header is read unauthenticated to find the key; opening authenticates it, with the context.
        guard let named = try? KeyHierarchy.ciphertextKey(ciphertext), named.id.hasPrefix(Self.recordPrefix),
            KMSKeyReference.isKeyID(String(named.id.dropFirst(Self.recordPrefix.count)))
        else { throw invalid }
        let id = String(named.id.dropFirst(Self.recordPrefix.count))
        let key: KMSKeyView
        do { key = try await view(id) } catch {
            // A ciphertext naming no key of this service was altered or made elsewhere.
            if error.code == "kms_not_found", try await repository(.read, { try await repository.key(id) }) == nil { throw invalid }
            throw error
        }
        if let expectedKey {
            let given = try await resolve(expectedKey)
            guard given.entry.id == key.entry.id else {
                throw Self.error("incorrect_key", "the key ID in the request does not identify the key that encrypted the ciphertext")
            }
        }
        try await authorize(caller, action, .key(key, context: context))
        guard key.entry.usage == .encryptDecrypt else {
            throw await failed(caller, action, key.record.id, Self.error("invalid_key_usage", "key \(id) does not decrypt"))
        }
        let keys = try await broker.vault.keySource.hierarchy()
        do {
            let plaintext = try await keys.decrypt(ciphertext, aad: EncryptionContext.canonical(context))
            return (key, Opened(keyID: id, plaintext: plaintext))
        } catch {
            // A version the record lacks is an altered header, like any other failed authentication.
            let refusal = error.reason == .notFound ? invalid : Self.keyError(error)
            throw await failed(caller, action, key.record.id, refusal)
        }
    }

    /// What the audit keeps of an encryption context: a hash of its canonical bytes (its keys and values are the
    /// caller's, and may be names the audit log refuses), never the context itself.
    static func contextDetails(_ context: [String: String]) -> [String: AuditValue] {
        guard !context.isEmpty else { return [:] }
        return ["context_sha256": .string(Hex.encode(SHA256.hash(data: EncryptionContext.canonical(context))))]
    }
}
