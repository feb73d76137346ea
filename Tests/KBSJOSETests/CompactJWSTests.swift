import Crypto
import CryptoExtras
import Foundation
import KBSClaims
import Testing

@testable import KBSJOSE

@Suite struct CompactJWSTests {
    static func header(_ alg: String, _ extra: String = "") -> [UInt8] { Array(#"{"alg":"\#(alg)"\#(extra)}"#.utf8) }

    struct Signer: Sendable, CustomTestStringConvertible {
        var algorithm: JWSAlgorithm
        var make: @Sendable () throws -> (JWSSigningKey, VerificationKey)
        var testDescription: String { algorithm.rawValue }
    }

    static let signers: [Signer] = [
        Signer(algorithm: .es256) {
            let key = P256.Signing.PrivateKey()
            return (.p256(key), .p256(key.publicKey))
        },
        Signer(algorithm: .es384) {
            let key = P384.Signing.PrivateKey()
            return (.p384(key), .p384(key.publicKey))
        },
        Signer(algorithm: .edDSA) {
            let key = Curve25519.Signing.PrivateKey()
            return (.ed25519(key), .ed25519(key.publicKey))
        },
        Signer(algorithm: .rs256) {
            let key = try _RSA.Signing.PrivateKey(keySize: .bits2048)
            return (.rsa(key), .rsa(key.publicKey))
        },
        Signer(algorithm: .ps384) {
            let key = try _RSA.Signing.PrivateKey(keySize: .bits2048)
            return (.rsa(key), .rsa(key.publicKey))
        },
    ]

    @Test("a signed JWS verifies, keeps its header bytes, and fails once its payload changes", arguments: signers)
    func roundTrip(_ signer: Signer) throws {
        let (signing, verifying) = try signer.make()
        let header = Self.header(signer.algorithm.rawValue, #","typ":"JWT""#)
        let token = try CompactJWS.sign(header: header, payload: Array(#"{"sub":"a"}"#.utf8), algorithm: signer.algorithm, with: signing)
        let jws = try CompactJWS(Array(token.utf8))
        #expect(Base64URL.decode(token.split(separator: ".")[0]) == header)
        #expect(try jws.algorithm(allowed: [signer.algorithm]) == signer.algorithm)
        try jws.verify(signer.algorithm, with: verifying)

        let parts = token.split(separator: ".").map(String.init)
        let altered = try CompactJWS(Array((parts[0] + "." + Base64URL.encode(Array(#"{"sub":"b"}"#.utf8)) + "." + parts[2]).utf8))
        #expect(JWKs.reason { () throws(JOSEError) in try altered.verify(signer.algorithm, with: verifying) } == .signature)
    }

    @Test("the algorithm never chooses the key: a key of another type is refused before any signature check")
    func algorithmMustFitTheKey() throws {
        let key = P256.Signing.PrivateKey()
        let token = try CompactJWS.sign(header: Self.header("ES256"), payload: [], algorithm: .es256, with: .p256(key))
        let jws = try CompactJWS(Array(token.utf8))
        let other = Curve25519.Signing.PrivateKey().publicKey
        #expect(JWKs.reason { () throws(JOSEError) in try jws.verify(.edDSA, with: .ed25519(other)) } == .signature)
        #expect(JWKs.reason { () throws(JOSEError) in try jws.verify(.es384, with: .p256(key.publicKey)) } == .algorithm)
        #expect(
            JWKs.reason { () throws(JOSEError) in
                _ = try CompactJWS.sign(header: Self.header("ES384"), payload: [], algorithm: .es256, with: .p256(key))
            } == .algorithm, "the header must name the algorithm it is signed with")
        #expect(
            JWKs.reason { () throws(JOSEError) in
                _ = try CompactJWS.sign(header: Self.header("ES384"), payload: [], algorithm: .es384, with: .p256(key))
            } == .algorithm)
    }

    @Test("an ES256 signature is 64 bytes of r ‖ s, never DER")
    func derIsRefused() throws {
        let key = P256.Signing.PrivateKey()
        let input = Array("e30.e30".utf8)
        let der = Array(try key.signature(for: input).derRepresentation)
        #expect(JWKs.reason { () throws(JOSEError) in try JWSAlgorithm.es256.verify(der, over: input, with: .p256(key.publicKey)) } == .signature)
        let raw = Array(try key.signature(for: input).rawRepresentation)
        #expect(JWKs.reason { () throws(JOSEError) in try JWSAlgorithm.es256.verify(raw, over: input, with: .p256(key.publicKey)) } == nil)
    }

    @Test("compact serialization: three unpadded base64url parts, a JSON object header, a size limit; trailing line breaks dropped")
    func parsing() throws {
        let header = Base64URL.encode(Self.header("ES256"))
        func reason(_ token: String, maximumBytes: Int = CompactJWS.maximumBytes) -> JOSEErrorReason? {
            JWKs.reason { () throws(JOSEError) in _ = try CompactJWS(Array(token.utf8), maximumBytes: maximumBytes) }
        }
        #expect(reason(header + ".e30.AAAA") == nil)
        #expect(reason(header + ".e30.AAAA\r\n") == nil)
        #expect(reason(header + ".e30") == .malformed)
        #expect(reason(header + ".e30.AAAA.AAAA") == .malformed)
        #expect(reason(header + "=.e30.AAAA") == .malformed)
        #expect(reason(Base64URL.encode(Array("[]".utf8)) + ".e30.AAAA") == .malformed)
        #expect(reason(Base64URL.encode(Array(#"{"alg":"ES256","alg":"none"}"#.utf8)) + ".e30.AAAA") == .malformed)
        #expect(reason(header + ".e30.AAAA", maximumBytes: 10) == .malformed)
        let jws = try CompactJWS(Array((header + ".e30.AAAA\n").utf8))
        #expect(jws.signingInput == Array((header + ".e30").utf8))
    }

    @Test("the header: `none` and HMAC are never accepted, keys never come from it, `crit` is refused, `kid` is a string")
    func headerChecks() throws {
        func jws(_ header: String) throws -> CompactJWS {
            try CompactJWS(Array((Base64URL.encode(Array(header.utf8)) + ".e30.AAAA").utf8))
        }
        for alg in ["none", "None", "HS256", "es256"] {
            let token = try jws(#"{"alg":"\#(alg)"}"#)
            #expect(JWKs.reason { () throws(JOSEError) in _ = try token.algorithm(allowed: Set(JWSAlgorithm.allCases)) } == .algorithm, "\(alg)")
        }
        let es256k = try jws(#"{"alg":"ES256K"}"#)
        #expect(JWKs.reason { () throws(JOSEError) in _ = try es256k.algorithm(allowed: JWSAlgorithm.defaultAllowed) } == .algorithm)
        let noAlgorithm = try jws(#"{"typ":"JWT"}"#)
        #expect(JWKs.reason { () throws(JOSEError) in _ = try noAlgorithm.algorithm(allowed: [.es256]) } == .malformed)
        for member in ["jwk", "jku", "x5u", "x5c"] {
            let token = try jws(#"{"alg":"ES256","\#(member)":{}}"#)
            #expect(JWKs.reason { () throws(JOSEError) in try token.checkHeaderKeySources() } == .untrustedKey, "\(member)")
        }
        let critical = try jws(#"{"alg":"ES256","crit":["exp"]}"#)
        #expect(JWKs.reason { () throws(JOSEError) in try critical.checkHeaderKeySources() } == .critical)
        #expect(try jws(#"{"alg":"ES256","kid":"k1"}"#).keyID() == "k1")
        let numericKID = try jws(#"{"alg":"ES256","kid":1}"#)
        #expect(JWKs.reason { () throws(JOSEError) in _ = try numericKID.keyID() } == .malformed)
    }
}
