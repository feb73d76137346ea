import Crypto
import CryptoExtras
import Foundation
import KBSClaims

/// Encrypts to a recipient's public key as a flattened JWE JSON object (RFC 7516 §7.2.2), the form Trustee's
/// `kbs-types` `Response` has: `protected`, `encrypted_key`, `iv`, `ciphertext`, `tag` (no `aad` member).
///
/// Content encryption is A256GCM with a fresh random CEK; its additional data is the ASCII of the encoded protected
/// header (§5.1 step 14). The CEK is wrapped with ECDH-ES+A256KW (RFC 7518 §4.6: an ephemeral key on the recipient
/// key's curve, Concat KDF with SHA-256 and empty PartyU/PartyV, AES key wrap) or RSA-OAEP-256.
package enum JWE {
    /// The JWE for `plaintext`. The CEK lives in a `SymmetricKey` (zeroed when freed) and the key-encryption key is
    /// wiped before returning; `plaintext` stays the caller's to wipe.
    package static func encrypt(_ plaintext: UnsafeRawBufferPointer, to key: RecipientKey) throws(JOSEError) -> String {
        let cek = SymmetricKey(size: .bits256)
        do {
            var epk: (curve: String, point: Data)?
            let encryptedKey: [UInt8]
            switch key {
            case .p256(let recipient):
                let ephemeral = P256.KeyAgreement.PrivateKey()
                epk = ("P-256", ephemeral.publicKey.rawRepresentation)
                encryptedKey = try wrap(cek, secret: try ephemeral.sharedSecretFromKeyAgreement(with: recipient))
            case .p384(let recipient):
                let ephemeral = P384.KeyAgreement.PrivateKey()
                epk = ("P-384", ephemeral.publicKey.rawRepresentation)
                encryptedKey = try wrap(cek, secret: try ephemeral.sharedSecretFromKeyAgreement(with: recipient))
            case .p521(let recipient):
                let ephemeral = P521.KeyAgreement.PrivateKey()
                epk = ("P-521", ephemeral.publicKey.rawRepresentation)
                encryptedKey = try wrap(cek, secret: try ephemeral.sharedSecretFromKeyAgreement(with: recipient))
            case .rsa(let recipient):
                encryptedKey = try cek.withUnsafeBytes { try Array(recipient.encrypt(Data($0), padding: .PKCS1_OAEP_SHA256)) }
            }
            var header = JSONWriter()
            header.object { header in
                header.member("alg", key.algorithm)
                header.member("enc", "A256GCM")
                if let epk {
                    header.key("epk")
                    Self.writeEPK(curve: epk.curve, point: epk.point, to: &header)
                }
            }
            let protected = Base64URL.encode(header.bytes)
            let sealed = try AES.GCM.seal(plaintext, using: cek, nonce: AES.GCM.Nonce(), authenticating: Array(protected.utf8))
            // Every member is base64url text, which needs no JSON escaping.
            return "{\"protected\":\"\(protected)\",\"encrypted_key\":\"\(Base64URL.encode(encryptedKey))\","
                + "\"iv\":\"\(Base64URL.encode(Array(sealed.nonce)))\","
                + "\"ciphertext\":\"\(Base64URL.encode(sealed.ciphertext))\",\"tag\":\"\(Base64URL.encode(sealed.tag))\"}"
        } catch {
            throw JOSEError(.failed, "the plaintext could not be encrypted to the \(key.algorithm) key")
        }
    }

    /// The ephemeral public key as a JWK (`kty`, `crv`, `x`, `y`) from its raw `x ‖ y` point.
    private static func writeEPK(curve: String, point: Data, to writer: inout JSONWriter) {
        let half = point.count / 2
        writer.object { jwk in
            jwk.member("kty", "EC")
            jwk.member("crv", curve)
            jwk.member("x", Base64URL.encode(point.prefix(half)))
            jwk.member("y", Base64URL.encode(point.suffix(half)))
        }
    }

    /// AES-KW of the CEK under the Concat-KDF output of the agreed secret.
    private static func wrap(_ cek: SymmetricKey, secret: SharedSecret) throws -> [UInt8] {
        var kek = secret.withUnsafeBytes { concatKDF(z: $0, algorithm: "ECDH-ES+A256KW", bits: 256) }
        defer {
            kek.withUnsafeMutableBytes { bytes in
                // explicit_bzero, unlike a loop or memset before the free, is never dropped as a dead store.
                if let base = bytes.baseAddress { explicit_bzero(base, bytes.count) }
            }
        }
        return Array(try AES.KeyWrap.wrap(cek, using: SymmetricKey(data: kek)))
    }

    /// NIST SP 800-56A Concat KDF with SHA-256 as RFC 7518 §4.6.2 parameterises it: AlgorithmID, PartyUInfo and
    /// PartyVInfo (empty here: no `apu`/`apv` is sent), SuppPubInfo = keydatalen in bits; up to 256 bits take one
    /// round.
    package static func concatKDF(z: UnsafeRawBufferPointer, algorithm: String, partyU: [UInt8] = [], partyV: [UInt8] = [], bits: Int) -> [UInt8] {
        func bigEndian(_ value: UInt32) -> [UInt8] { withUnsafeBytes(of: value.bigEndian, Array.init) }
        var hash = SHA256()
        hash.update(data: bigEndian(1))
        hash.update(bufferPointer: z)
        hash.update(data: bigEndian(UInt32(algorithm.utf8.count)) + Array(algorithm.utf8))
        hash.update(data: bigEndian(UInt32(partyU.count)) + partyU)
        hash.update(data: bigEndian(UInt32(partyV.count)) + partyV)
        hash.update(data: bigEndian(UInt32(bits)))
        return Array(hash.finalize().prefix(bits / 8))
    }
}
