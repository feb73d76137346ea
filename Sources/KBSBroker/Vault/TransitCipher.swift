import Crypto
import Foundation
import KBSClaims
import KBSKeys

/// Transit's ciphertexts: `vault:v<N>:` then standard base64 of `nonce (12) ‖ ciphertext ‖ tag (16)`, as Vault writes
/// them, sealed with version N of the key (AES-256-GCM or ChaCha20-Poly1305).
///
/// The additional data binds the key's hierarchy id and the version, so a ciphertext relabelled to another version
/// or moved to another key does not open. Derived keys are HKDF-SHA256 of the version's material with the request's
/// context; convergent encryption takes the nonce from an HMAC of the plaintext under that derived key, so equal
/// plaintexts under equal contexts give equal ciphertexts (what convergent encryption is for) and nothing else does.
enum TransitCipher {
    static let types = ["aes256-gcm96", "chacha20-poly1305"]

    /// A parsed `vault:vN:…` ciphertext.
    struct Parsed {
        var version: Int
        var bytes: [UInt8]
    }

    /// The version and bytes of `text`; nil when it is not a Transit ciphertext.
    static func parse(_ text: String) -> Parsed? {
        let parts = text.split(separator: ":", maxSplits: 2, omittingEmptySubsequences: false)
        guard parts.count == 3, parts[0] == "vault", parts[1].hasPrefix("v"), let version = Int(parts[1].dropFirst()), version > 0,
            let bytes = Base64URL.decodeStandard(Array(parts[2].utf8)), bytes.count >= 12 + 16
        else { return nil }
        return Parsed(version: version, bytes: bytes)
    }

    /// The text of a ciphertext made with `version`.
    static func format(version: Int, bytes: [UInt8]) -> String { "vault:v\(version):" + Base64URL.encodeStandard(bytes) }

    /// Encrypts `plaintext` with `material` (a version's 32 bytes).
    static func seal(
        _ plaintext: [UInt8], material: [UInt8], entry: TransitKeyEntry, version: Int, context: [UInt8]?
    ) throws(BrokerError) -> [UInt8] {
        let key = try key(material, entry: entry, context: context)
        let aad = additionalData(entry, version)
        do {
            let nonceBytes: [UInt8] =
                entry.convergent
                ? Array(HMAC<SHA256>.authenticationCode(for: Array("kbs-transit/v1 nonce".utf8) + [0] + plaintext, using: key).prefix(12))
                : (0..<12).map { _ in UInt8.random(in: 0...255) }
            if entry.type == "chacha20-poly1305" {
                let box = try ChaChaPoly.seal(plaintext, using: key, nonce: ChaChaPoly.Nonce(data: nonceBytes), authenticating: aad)
                return nonceBytes + box.ciphertext + box.tag
            }
            let box = try AES.GCM.seal(plaintext, using: key, nonce: AES.GCM.Nonce(data: nonceBytes), authenticating: aad)
            return nonceBytes + box.ciphertext + box.tag
        } catch {
            throw BrokerError(.unavailable, "vault_internal", "the cipher failed")
        }
    }

    /// Decrypts what ``seal(_:material:entry:version:context:)`` made; any change is `invalid ciphertext`.
    static func open(_ bytes: [UInt8], material: [UInt8], entry: TransitKeyEntry, version: Int, context: [UInt8]?)
        throws(BrokerError) -> [UInt8]
    {
        let key = try key(material, entry: entry, context: context)
        let aad = additionalData(entry, version)
        let nonce = Array(bytes.prefix(12))
        let tag = Array(bytes.suffix(16))
        let body = Array(bytes.dropFirst(12).dropLast(16))
        do {
            if entry.type == "chacha20-poly1305" {
                let box = try ChaChaPoly.SealedBox(nonce: ChaChaPoly.Nonce(data: nonce), ciphertext: body, tag: tag)
                return Array(try ChaChaPoly.open(box, using: key, authenticating: aad))
            }
            let box = try AES.GCM.SealedBox(nonce: AES.GCM.Nonce(data: nonce), ciphertext: body, tag: tag)
            return Array(try AES.GCM.open(box, using: key, authenticating: aad))
        } catch {
            throw VaultService.invalid("invalid ciphertext: unable to decrypt")
        }
    }

    /// The key for one request: the material itself, or derived from it with `context`.
    private static func key(_ material: [UInt8], entry: TransitKeyEntry, context: [UInt8]?) throws(BrokerError) -> SymmetricKey {
        let base = SymmetricKey(data: material)
        guard entry.derived else {
            guard context == nil || context?.isEmpty == true else {
                throw VaultService.invalid("context is only taken by a derived key (created with derived=true)")
            }
            return base
        }
        guard let context, !context.isEmpty else {
            throw VaultService.invalid(
                "missing 'context' for key derivation; the key was created using a derived key, which means additional, per-request information must be included in order to perform operations with the key"
            )
        }
        return HKDF<SHA256>.deriveKey(
            inputKeyMaterial: base, salt: [UInt8](), info: Array("kbs-transit/v1 derive".utf8) + [0] + context, outputByteCount: 32)
    }

    private static func additionalData(_ entry: TransitKeyEntry, _ version: Int) -> [UInt8] {
        Array("kbs-transit/v1".utf8) + [0] + Array(entry.keyID.utf8) + [0] + Array(String(version).utf8)
    }
}
