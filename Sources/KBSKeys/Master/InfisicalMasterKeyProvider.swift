import Crypto
import KBSClaims

/// A master key provider whose master key is a key in Infisical KMS: KEKs are wrapped by Infisical and the master key
/// never leaves it.
///
/// Infisical's encrypt binds no additional data, so the context is bound inside the plaintext instead: Infisical
/// encrypts `magic ‖ SHA-256(context) ‖ key`, and unwrapping checks both (a mismatch is `integrity`). The wrapped
/// bytes are `"KBSI" ‖ 0x01 ‖ key-id length (2 bytes, big-endian) ‖ Infisical key id ‖ Infisical's ciphertext`,
/// because Infisical's decrypt needs the key id; a blob naming another key is refused with `integrity` before
/// anything is sent. See `docs/keys.md`.
package struct InfisicalMasterKeyProvider: MasterKeyProvider {
    package let masterKeyID: String
    /// The Infisical KMS key id that wraps.
    package let keyID: String
    private let backend: any KMSBackend

    static let blobMagic = Array("KBSI".utf8) + [1]
    static let plaintextMagic = Array("kbs-infisical-kek/v1".utf8)
    private static let digestCount = 32

    /// A provider that wraps with Infisical key `keyID` through `backend` (normally an `InfisicalKMSBackend`);
    /// `keyName` names the master key in envelope headers.
    package init(backend: any KMSBackend, keyID: String, keyName: String) {
        self.backend = backend
        self.keyID = keyID
        self.masterKeyID = "infisical/" + keyName
    }

    /// Finds the KMS key `keyName` in the client's project (creating an AES-256-GCM key if it is missing and `create`
    /// is true) and returns a provider over it. A disabled key is refused with `disabled`.
    package static func connect(
        client: InfisicalClient,
        keyName: String,
        create: Bool = false
    ) async throws(KeyError) -> InfisicalMasterKeyProvider {
        let key: InfisicalKMSKey
        do {
            key = try await client.key(named: keyName)
        } catch  where error.reason == .notFound && create {
            key = try await client.createKey(name: keyName, description: "KBS master key (wraps key-encryption keys)")
        }
        guard !key.isDisabled else { throw KeyError(.disabled, "Infisical KMS key \(keyName) is disabled") }
        return InfisicalMasterKeyProvider(backend: InfisicalKMSBackend(client: client), keyID: key.id, keyName: keyName)
    }

    package func wrap(_ key: borrowing SecretBytes, context: [UInt8]) async throws(KeyError) -> [UInt8] {
        let digest = Array(SHA256.hash(data: context))
        let prefix = Self.plaintextMagic + digest
        var plaintext = SecretBytes(zeros: prefix.count + key.count)
        plaintext.withUnsafeMutableBytes { out in
            out.copyBytes(from: prefix)
            key.withUnsafeBytes { bytes in
                UnsafeMutableRawBufferPointer(rebasing: out[prefix.count...]).copyMemory(from: bytes)
            }
        }
        let ciphertext = try await backend.encrypt(keyID: keyID, plaintext: plaintext)
        let id = Array(keyID.utf8)
        guard id.count <= Int(UInt16.max) else { throw KeyError(.invalidArgument, "the Infisical key id is too long") }
        return Self.blobMagic + [UInt8(id.count >> 8), UInt8(id.count & 0xFF)] + id + ciphertext
    }

    package func unwrap(_ wrapped: [UInt8], context: [UInt8]) async throws(KeyError) -> SecretBytes {
        let (wrappingKey, ciphertext) = try Self.parse(wrapped)
        guard wrappingKey == keyID else {
            throw KeyError(.integrity, "wrapped by Infisical key \(wrappingKey), not \(keyID) (\(masterKeyID))")
        }
        let plaintext = try await backend.decrypt(keyID: keyID, ciphertext: ciphertext)
        let expected = Self.plaintextMagic + Array(SHA256.hash(data: context))
        return try plaintext.withUnsafeBytes { (bytes) throws(KeyError) in
            guard bytes.count > expected.count else {
                throw KeyError(.integrity, "Infisical returned a plaintext too short to be a wrapped key")
            }
            // Constant time, though nothing here is secret but the key that follows: a habit worth keeping.
            guard constantTimeEqual(UnsafeRawBufferPointer(rebasing: bytes[..<expected.count]), expected) else {
                throw KeyError(.integrity, "the wrapped key belongs to another context or is not a KBS wrapped key")
            }
            return SecretBytes(copying: UnsafeRawBufferPointer(rebasing: bytes[expected.count...]))
        }
    }

    /// Splits a wrapped blob into the Infisical key id and Infisical's ciphertext.
    static func parse(_ wrapped: [UInt8]) throws(KeyError) -> (keyID: String, ciphertext: [UInt8]) {
        let header = blobMagic.count + 2
        guard wrapped.count > header, Array(wrapped[..<blobMagic.count]) == blobMagic else {
            throw KeyError(.malformed, "not a key wrapped by an Infisical master key")
        }
        let length = Int(wrapped[blobMagic.count]) << 8 | Int(wrapped[blobMagic.count + 1])
        guard length > 0, wrapped.count > header + length,
            let id = String(validating: wrapped[header..<header + length], as: UTF8.self)
        else {
            throw KeyError(.malformed, "the Infisical wrapped key's header is truncated")
        }
        return (id, Array(wrapped[(header + length)...]))
    }
}
