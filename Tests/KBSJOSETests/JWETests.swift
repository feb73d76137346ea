import Crypto
import CryptoExtras
import Foundation
import KBSClaims
import Testing

@testable import KBSJOSE

@Suite struct JWETests {
    @Test("Concat KDF gives RFC 7518 Appendix C's key")
    func concatKDFVector() {
        let z: [UInt8] = [
            158, 86, 217, 29, 129, 113, 53, 211, 114, 131, 66, 131, 191, 132, 38, 156, 251, 49, 110, 163, 218, 128, 106, 72,
            246, 218, 167, 121, 140, 254, 144, 196,
        ]
        let key = z.withUnsafeBytes { JWE.concatKDF(z: $0, algorithm: "A128GCM", partyU: Array("Alice".utf8), partyV: Array("Bob".utf8), bits: 128) }
        #expect(Base64URL.encode(key) == "VqqN6vgjbSBcIijNcacQGg")
    }

    static func members(_ text: String) throws -> [String: String] {
        try #require(try JSONSerialization.jsonObject(with: Data(text.utf8)) as? [String: String])
    }

    /// Opens an A256GCM flattened JWE once the CEK is unwrapped, the way RFC 7516 §5.2 says.
    static func open(_ object: [String: String], cek: SymmetricKey) throws -> [UInt8] {
        let protected = try #require(object["protected"])
        let iv = try #require(Base64URL.decode(object["iv"] ?? ""))
        let ciphertext = try #require(Base64URL.decode(object["ciphertext"] ?? ""))
        let tag = try #require(Base64URL.decode(object["tag"] ?? ""))
        let box = try AES.GCM.SealedBox(nonce: AES.GCM.Nonce(data: iv), ciphertext: ciphertext, tag: tag)
        return Array(try AES.GCM.open(box, using: cek, authenticating: Array(protected.utf8)))
    }

    static func header(_ object: [String: String]) throws -> [String: Any] {
        let bytes = try #require(Base64URL.decode(object["protected"] ?? ""))
        return try #require(try JSONSerialization.jsonObject(with: Data(bytes)) as? [String: Any])
    }

    /// Decrypts an ECDH-ES+A256KW / A256GCM JWE to a P-256 key.
    static func decrypt(_ text: String, with key: P256.KeyAgreement.PrivateKey) throws -> [UInt8] {
        let object = try members(text)
        let header = try header(object)
        #expect(header["alg"] as? String == "ECDH-ES+A256KW")
        #expect(header["enc"] as? String == "A256GCM")
        let epk = try #require(header["epk"] as? [String: String])
        #expect(epk["kty"] == "EC" && epk["crv"] == "P-256")
        let x = try #require(Base64URL.decode(epk["x"] ?? ""))
        let y = try #require(Base64URL.decode(epk["y"] ?? ""))
        let secret = try key.sharedSecretFromKeyAgreement(with: try P256.KeyAgreement.PublicKey(rawRepresentation: x + y))
        let kek = secret.withUnsafeBytes { JWE.concatKDF(z: $0, algorithm: "ECDH-ES+A256KW", bits: 256) }
        let wrapped = try #require(Base64URL.decode(object["encrypted_key"] ?? ""))
        return try open(object, cek: try AES.KeyWrap.unwrap(wrapped, using: SymmetricKey(data: kek)))
    }

    static func encrypt(_ text: String, to jwk: [String: Any]) throws -> String {
        let key = try JWE.RecipientKey(try JWK(try JWKs.node(jwk)))
        return try Array(text.utf8).withUnsafeBytes { try JWE.encrypt($0, to: key) }
    }

    @Test("a JWE to an EC key opens with the recipient's key, and not once its protected header changes")
    func ecRoundTrip() throws {
        let recipient = P256.KeyAgreement.PrivateKey()
        let text = try Self.encrypt("the secret", to: JWKs.ec(recipient.publicKey.rawRepresentation, curve: "P-256", alg: "ECDH-ES+A256KW"))
        #expect(Set(try Self.members(text).keys) == ["protected", "encrypted_key", "iv", "ciphertext", "tag"])
        #expect(try Self.decrypt(text, with: recipient) == Array("the secret".utf8))
        #expect(throws: (any Error).self) { try Self.decrypt(text, with: P256.KeyAgreement.PrivateKey()) }
        // The header is the GCM additional data: re-encoding it (here with an extra member) must break the tag.
        var object = try Self.members(text)
        var header = try Self.header(object)
        header["kid"] = "x"
        object["protected"] = Base64URL.encode(try JSONSerialization.data(withJSONObject: header, options: [.sortedKeys]))
        let altered = String(decoding: try JSONSerialization.data(withJSONObject: object), as: UTF8.self)
        #expect(throws: (any Error).self) { try Self.decrypt(altered, with: recipient) }
    }

    @Test("P-384 and P-521 recipients get an ephemeral key on their own curve")
    func otherCurves() throws {
        let p384 = try Self.header(
            try Self.members(
                try Self.encrypt(
                    "s",
                    to: JWKs.ec(
                        P384.KeyAgreement.PrivateKey().publicKey.rawRepresentation,
                        curve: "P-384"))))
        #expect((p384["epk"] as? [String: String])?["crv"] == "P-384")
        let p521 = try Self.header(
            try Self.members(
                try Self.encrypt(
                    "s",
                    to: JWKs.ec(
                        P521.KeyAgreement.PrivateKey().publicKey.rawRepresentation,
                        curve: "P-521"))))
        #expect((p521["epk"] as? [String: String])?["crv"] == "P-521")
    }

    @Test("a JWE to an RSA key is RSA-OAEP-256 and opens with the private key")
    func rsaRoundTrip() throws {
        let recipient = try _RSA.Encryption.PrivateKey(keySize: .bits2048)
        let primitives = try recipient.publicKey.getKeyPrimitives()
        let text = try Self.encrypt("the secret", to: JWKs.rsa(n: primitives.modulus, e: primitives.publicExponent))
        let object = try Self.members(text)
        #expect(try Self.header(object)["alg"] as? String == "RSA-OAEP-256")
        #expect(try Self.header(object)["epk"] == nil)
        let wrapped = try #require(Base64URL.decode(object["encrypted_key"] ?? ""))
        let cek = try recipient.decrypt(wrapped, padding: .PKCS1_OAEP_SHA256)
        #expect(try Self.open(object, cek: SymmetricKey(data: cek)) == Array("the secret".utf8))
    }

    @Test("recipient keys: private members, unknown types, wrong sizes, points off the curve, short RSA, OKP and mismatched alg")
    func recipientRefusals() throws {
        let good = JWKs.ec(P256.KeyAgreement.PrivateKey().publicKey.rawRepresentation, curve: "P-256", alg: "ECDH-ES+A256KW")
        func reason(_ jwk: [String: Any]) throws -> JOSEErrorReason? {
            let node = try JWKs.node(jwk)
            return JWKs.reason { () throws(JOSEError) in _ = try JWE.RecipientKey(try JWK(node)) }
        }
        #expect(try reason(good) == nil)
        for member in ["d", "p", "q", "dp", "dq", "qi"] {
            #expect(try reason(good.merging([member: "AAAA"]) { $1 }) == .invalidKey, "`\(member)` is private")
        }
        #expect(try reason(["kty": "oct", "k": "AAAA"]) == .invalidKey)
        #expect(try reason(["kty": "oct"]) == .unsupported)
        #expect(try reason(good.merging(["crv": "P-384"]) { $1 }) == .invalidKey)
        #expect(try reason(good.merging(["alg": "RSA-OAEP-256"]) { $1 }) == .algorithm)
        #expect(try reason(good.merging(["x": "not base64url!"]) { $1 }) == .invalidKey)
        var offCurve = good
        offCurve["y"] = Base64URL.encode([UInt8](repeating: 7, count: 32))
        #expect(try reason(offCurve) == .invalidKey)
        #expect(try reason(JWKs.rsa(n: [UInt8](repeating: 0xC3, count: 128), e: [1, 0, 1])) == .weakKey)
        #expect(try reason(JWKs.rsa(n: [UInt8](repeating: 0xC3, count: 256), e: [1, 0, 1]).merging(["alg": "ECDH-ES+A256KW"]) { $1 }) == .algorithm)
        let ed = Curve25519.Signing.PrivateKey().publicKey.rawRepresentation
        #expect(try reason(["kty": "OKP", "crv": "Ed25519", "x": Base64URL.encode(ed)]) == .unsupported)
    }
}
