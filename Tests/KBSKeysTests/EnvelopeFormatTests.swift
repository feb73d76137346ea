import Crypto
import Foundation
import Testing

@testable import KBSKeys

/// The envelope bytes are exactly what docs/keys.md describes, rebuilt here from the description with swift-crypto
/// directly, so a change to the format cannot go unnoticed (stored ciphertexts and wrapped keys depend on it).
struct EnvelopeFormatTests {
    @Test func sealMatchesTheDocumentedFormat() throws {
        let keyBytes = (0..<32).map { UInt8($0) }
        let salt = (0..<32).map { UInt8(0xA0 &+ $0) }
        let plaintext = Array("known answer".utf8)
        let aad = Array("context".utf8)
        let sealed = try Envelope.seal(
            plaintext, key: SecretBytes(copying: keyBytes), keyID: "repo/key", keyVersion: 0x0102_0304, aad: aad,
            salt: salt)

        var header = Array("KBSK".utf8) + [0x01, 8] + Array("repo/key".utf8) + [0x01, 0x02, 0x03, 0x04]
        header += salt
        let derived = HKDF<SHA256>.deriveKey(
            inputKeyMaterial: SymmetricKey(data: keyBytes), salt: salt,
            info: Array("kbs-keys/v1 aes-256-gcm hkdf-sha256".utf8) + header, outputByteCount: 44)
        let (messageKey, nonce) = try derived.withUnsafeBytes { raw in
            (SymmetricKey(data: Array(raw[0..<32])), try AES.GCM.Nonce(data: Array(raw[32..<44])))
        }
        let box = try AES.GCM.seal(plaintext, using: messageKey, nonce: nonce, authenticating: header + aad)
        #expect(sealed == header + Array(box.ciphertext) + Array(box.tag))
        #expect(sealed.count == header.count + plaintext.count + 16)

        let (parsed, bodyStart) = try Envelope.header(of: sealed)
        #expect(parsed.keyID == "repo/key" && parsed.keyVersion == 0x0102_0304 && parsed.salt == salt)
        #expect(bodyStart == header.count)
        #expect(try Envelope.open(sealed, key: SecretBytes(copying: keyBytes), aad: aad) == plaintext)
    }

    @Test func emptyPlaintextRoundTrips() throws {
        let key = SecretBytes.random(count: 32)
        let sealed = try Envelope.seal([UInt8](), key: key, keyID: "k", keyVersion: 1, aad: [])
        #expect(try Envelope.open(sealed, key: key, aad: []) == [])
    }
}
