import Crypto
import CryptoExtras
import Foundation
import KBSClaims
import Testing

@testable import KBSJOSE

@Suite struct JWKTests {
    static func verificationReason(_ jwk: [String: Any]) throws -> JOSEErrorReason? {
        let node = try JWKs.node(jwk)
        return JWKs.reason { () throws(JOSEError) in _ = try VerificationKey(try JWK(node)) }
    }

    @Test("signature keys: RSA, P-256, P-384, secp256k1 and Ed25519 read, each as its own type")
    func keyTypes() throws {
        let rsa = try _RSA.Signing.PrivateKey(keySize: .bits2048).publicKey.getKeyPrimitives()
        let p256 = JWKs.ec(P256.Signing.PrivateKey().publicKey.rawRepresentation, curve: "P-256")
        let p384 = JWKs.ec(P384.Signing.PrivateKey().publicKey.rawRepresentation, curve: "P-384")
        let ed = Curve25519.Signing.PrivateKey().publicKey.rawRepresentation
        // The secp256k1 generator point.
        let g = Hex.decode(
            "79be667ef9dcbbac55a06295ce870b07029bfcdb2dce28d959f2815b16f81798"
                + "483ada7726a3c4655da4fbfc0e1108a8fd17b448a68554199c47d08ffb10d4b8")!
        let keys = [
            JWKs.rsa(n: rsa.modulus, e: rsa.publicExponent), p256, p384,
            JWKs.ec(Data(g), curve: "secp256k1"), ["kty": "OKP", "crv": "Ed25519", "x": Base64URL.encode(ed)],
        ]
        let names = try keys.map { try VerificationKey(try JWK(try JWKs.node($0))).name }
        #expect(names == ["RSA-2048", "EC P-256", "EC P-384", "EC secp256k1", "Ed25519"])
    }

    @Test("signature keys: private and symmetric members, short RSA, other curves, off-curve points and bad members are refused")
    func refusals() throws {
        let p256 = JWKs.ec(P256.Signing.PrivateKey().publicKey.rawRepresentation, curve: "P-256")
        for member in JWK.privateMembers {
            #expect(try Self.verificationReason(p256.merging([member: "AAAA"]) { $1 }) == .invalidKey, "`\(member)`")
        }
        #expect(try Self.verificationReason(JWKs.rsa(n: [UInt8](repeating: 0xC3, count: 128), e: [1, 0, 1])) == .weakKey)
        #expect(
            try Self.verificationReason(JWKs.rsa(n: [0, 0] + [UInt8](repeating: 0x7F, count: 256), e: [1, 0, 1])) == .weakKey,
            "leading zeros and bits do not count")
        #expect(try Self.verificationReason(JWKs.ec(P521.Signing.PrivateKey().publicKey.rawRepresentation, curve: "P-521")) == .unsupported)
        #expect(
            try Self.verificationReason(["kty": "OKP", "crv": "X25519", "x": Base64URL.encode([UInt8](repeating: 9, count: 32))])
                == .unsupported)
        #expect(try Self.verificationReason(["kty": "oct"]) == .unsupported)
        #expect(try Self.verificationReason(["kty": "EC", "x": "AAAA", "y": "AAAA"]) == .invalidKey, "no `crv`")
        var offCurve = p256
        offCurve["y"] = Base64URL.encode([UInt8](repeating: 7, count: 32))
        #expect(try Self.verificationReason(offCurve) == .invalidKey)
        #expect(try Self.verificationReason(p256.merging(["x": "AAAA"]) { $1 }) == .invalidKey, "a short coordinate")
        #expect(try Self.verificationReason(p256.merging(["kid": 7]) { $1 }) == .malformed)
    }

    @Test("a JWK Set keeps the keys declared for verification, each with its own error, found by exact kid")
    func keySet() throws {
        let key = P256.Signing.PrivateKey().publicKey.rawRepresentation
        let document: [String: Any] = [
            "keys": [
                JWKs.ec(key, curve: "P-256").merging(["kid": "a", "alg": "ES256"]) { $1 },
                JWKs.rsa(n: [UInt8](repeating: 0xC3, count: 128), e: [1, 0, 1]).merging(["kid": "weak"]) { $1 },
                JWKs.ec(key, curve: "P-256").merging(["kid": "enc", "use": "enc"]) { $1 },
                JWKs.ec(key, curve: "P-256").merging(["kid": "ops", "key_ops": ["sign"]]) { $1 },
            ]
        ]
        let set = try JWKSet(json: Array(try JSONSerialization.data(withJSONObject: document)))
        #expect(set.entries.map(\.keyID) == ["a", "weak"])
        #expect(try set.key(for: "a")?.get().algorithm == "ES256")
        #expect(JWKs.reason { () throws(JOSEError) in _ = try set.key(for: "weak")?.get() } == .weakKey)
        #expect(set.key(for: "A") == nil, "kids compare exactly")
        #expect(set.key(for: nil) == nil, "no kid picks a key only when there is one")
        #expect(JWKs.reason { () throws(JOSEError) in _ = try JWKSet(json: Array(#"{"keys": {}}"#.utf8)) } == .malformed)
        #expect(
            JWKs.reason { () throws(JOSEError) in _ = try JWKSet(json: Array(#"{"keys": [], "keys": []}"#.utf8)) } == .malformed,
            "duplicate members are refused")
    }
}
