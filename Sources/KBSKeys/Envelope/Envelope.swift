import Crypto
import Foundation
import KBSClaims

/// The versioned, self-describing ciphertext format shared by data ciphertexts and wrapped keys.
///
/// ```
/// "KBSK" | format 0x01 | id length (1 byte, 1–255) | key id (UTF-8) | key version (UInt32, big-endian)
///        | salt (32 random bytes) | AES-256-GCM ciphertext | tag (16)
/// ```
///
/// Each message gets its own AES key and nonce: `HKDF-SHA256(ikm: key, salt: salt, info: label ‖ header)` yields 44
/// bytes, 32 of key and 12 of nonce. A (key, nonce) pair repeats only if two 256-bit random salts collide, so nothing
/// has to count messages, persist a counter across restarts, or coordinate replicas — which a counted nonce budget
/// would need, and which is easy to get wrong after a crash or a restored backup. The cost is one HKDF per message.
///
/// The whole header (key id and version included) is both HKDF info and GCM additional data, followed by the
/// caller's additional data, so changing any header byte, the additional data, or opening with another key fails
/// authentication.
enum Envelope {
    static let magic: [UInt8] = Array("KBSK".utf8)
    static let formatVersion: UInt8 = 1
    static let saltCount = 32
    static let tagCount = 16
    private static let label: [UInt8] = Array("kbs-keys/v1 aes-256-gcm hkdf-sha256".utf8)

    /// The parsed header of an envelope.
    struct Header: Equatable {
        var keyID: String
        var keyVersion: UInt32
        var salt: [UInt8]
        /// The encoded header, from the magic to the end of the salt.
        var encoded: [UInt8]

        init(keyID: String, keyVersion: UInt32, salt: [UInt8]) {
            self.keyID = keyID
            self.keyVersion = keyVersion
            self.salt = salt
            var bytes = Envelope.magic
            bytes.append(Envelope.formatVersion)
            let id = Array(keyID.utf8)
            bytes.append(UInt8(id.count))
            bytes += id
            bytes += withUnsafeBytes(of: keyVersion.bigEndian) { Array($0) }
            bytes += salt
            encoded = bytes
        }
    }

    /// Encrypts `plaintext` under `key`, naming it as version `keyVersion` of `keyID`, with a fresh random salt.
    static func seal(
        _ plaintext: some DataProtocol,
        key: borrowing SecretBytes,
        keyID: String,
        keyVersion: UInt32,
        aad: [UInt8],
        salt fixedSalt: [UInt8]? = nil
    ) throws(KeyError) -> [UInt8] {
        try KeyID.validate(keyID)
        var salt = [UInt8](repeating: 0, count: saltCount)
        var generator = SystemRandomNumberGenerator()
        for index in salt.indices { salt[index] = generator.next() }
        // Only the known-answer tests fix the salt.
        if let fixedSalt, fixedSalt.count == saltCount { salt = fixedSalt }
        let header = Header(keyID: keyID, keyVersion: keyVersion, salt: salt)
        let (messageKey, nonce) = derive(key: key, header: header)
        do {
            let box = try AES.GCM.seal(plaintext, using: messageKey, nonce: nonce, authenticating: header.encoded + aad)
            return header.encoded + Array(box.ciphertext) + Array(box.tag)
        } catch {
            throw KeyError(.integrity, "AES-GCM refused to seal: \(error)")
        }
    }

    /// Reads the header of `envelope` without decrypting anything.
    static func header(of envelope: [UInt8]) throws(KeyError) -> (header: Header, bodyStart: Int) {
        let minimum = magic.count + 2 + 1 + 4 + saltCount + tagCount
        guard envelope.count >= minimum, Array(envelope[0..<4]) == magic else {
            throw KeyError(.malformed, "not a KBS ciphertext (bad magic or too short)")
        }
        guard envelope[4] == formatVersion else {
            throw KeyError(.malformed, "unknown ciphertext format version \(envelope[4])")
        }
        let idCount = Int(envelope[5])
        let versionStart = 6 + idCount
        let bodyStart = versionStart + 4 + saltCount
        guard idCount > 0, envelope.count >= bodyStart + tagCount else {
            throw KeyError(.malformed, "truncated ciphertext header")
        }
        guard let keyID = String(validating: envelope[6..<versionStart], as: UTF8.self) else {
            throw KeyError(.malformed, "the key id in the ciphertext is not UTF-8")
        }
        let version = envelope[versionStart..<versionStart + 4].reduce(UInt32(0)) { $0 << 8 | UInt32($1) }
        let header = Header(keyID: keyID, keyVersion: version, salt: Array(envelope[versionStart + 4..<bodyStart]))
        return (header, bodyStart)
    }

    /// Decrypts `envelope` with `key` (which the caller chose from the header) and returns the plaintext.
    static func open(_ envelope: [UInt8], key: borrowing SecretBytes, aad: [UInt8]) throws(KeyError) -> [UInt8] {
        var plaintext = try openData(envelope, key: key, aad: aad)
        defer { plaintext.withUnsafeMutableBytes { wipe($0) } }
        return Array(plaintext)
    }

    /// Decrypts wrapped key material straight into `SecretBytes`, wiping the intermediate buffer.
    static func openSecret(_ envelope: [UInt8], key: borrowing SecretBytes, aad: [UInt8]) throws(KeyError) -> SecretBytes {
        var plaintext = try openData(envelope, key: key, aad: aad)
        defer { plaintext.withUnsafeMutableBytes { wipe($0) } }
        var secret = SecretBytes(zeros: plaintext.count)
        secret.withUnsafeMutableBytes { out in plaintext.withUnsafeBytes { out.copyMemory(from: $0) } }
        return secret
    }

    private static func openData(_ envelope: [UInt8], key: borrowing SecretBytes, aad: [UInt8]) throws(KeyError) -> Data {
        let (header, bodyStart) = try Self.header(of: envelope)
        let (messageKey, nonce) = derive(key: key, header: header)
        let tagStart = envelope.count - tagCount
        do {
            let box = try AES.GCM.SealedBox(
                nonce: nonce, ciphertext: envelope[bodyStart..<tagStart], tag: envelope[tagStart...])
            return try AES.GCM.open(box, using: messageKey, authenticating: header.encoded + aad)
        } catch {
            throw KeyError(.integrity, "ciphertext authentication failed for \(header.keyID) version \(header.keyVersion)")
        }
    }

    /// The per-message AES key and nonce for `header` under `key`.
    private static func derive(key: borrowing SecretBytes, header: Header) -> (SymmetricKey, AES.GCM.Nonce) {
        // SymmetricKey keeps its bytes in swift-crypto's SecureBytes, which zeroes them when freed.
        let inputKey = key.withUnsafeBytes { SymmetricKey(data: $0) }
        let output = HKDF<SHA256>.deriveKey(
            inputKeyMaterial: inputKey, salt: header.salt, info: label + header.encoded, outputByteCount: 44)
        return output.withUnsafeBytes { raw in
            let messageKey = SymmetricKey(data: UnsafeRawBufferPointer(rebasing: raw[0..<32]))
            // A 12-byte nonce always parses.
            let nonce = try! AES.GCM.Nonce(data: Array(raw[32..<44]))
            return (messageKey, nonce)
        }
    }
}
