import Crypto
import CryptoExtras
import Foundation
import KBSClaims
import KBSJOSE
import KBSKeys
import Testing

@testable import KBSBroker

/// The broker's side of the protocol: the TEE key's wire codes, the JWE a release returns, attestation tokens,
/// RCAR sessions and request validation (the JOSE machinery itself is tested in `KBSJOSETests`).
@Suite struct ProtocolTests {
    /// A JWK object parsed as the server parses one.
    static func node(_ jwk: [String: Any]) throws -> JSONNode {
        try JSONNode.parse(Array(try JSONSerialization.data(withJSONObject: jwk)))
    }

    static func jwk(_ key: P256.KeyAgreement.PrivateKey) -> [String: Any] {
        let raw = key.publicKey.rawRepresentation
        return ["kty": "EC", "crv": "P-256", "alg": "ECDH-ES+A256KW", "x": Base64URL.encode(raw.prefix(32)), "y": Base64URL.encode(raw.suffix(32))]
    }

    /// Decrypts an ECDH-ES+A256KW / A256GCM flattened JWE the way RFC 7516 §5.2 says.
    static func decrypt(_ text: String, with key: P256.KeyAgreement.PrivateKey) throws -> [UInt8] {
        let object = try #require(try JSONSerialization.jsonObject(with: Data(text.utf8)) as? [String: String])
        #expect(Set(object.keys) == ["protected", "encrypted_key", "iv", "ciphertext", "tag"])
        let protected = try #require(object["protected"])
        let headerBytes = try #require(Base64URL.decode(protected))
        let header = try #require(try JSONSerialization.jsonObject(with: Data(headerBytes)) as? [String: Any])
        #expect(header["alg"] as? String == "ECDH-ES+A256KW")
        #expect(header["enc"] as? String == "A256GCM")
        let epk = try #require(header["epk"] as? [String: String])
        let x = try #require(Base64URL.decode(epk["x"] ?? ""))
        let y = try #require(Base64URL.decode(epk["y"] ?? ""))
        let ephemeral = try P256.KeyAgreement.PublicKey(rawRepresentation: x + y)
        let secret = try key.sharedSecretFromKeyAgreement(with: ephemeral)
        let kek = secret.withUnsafeBytes { JWE.concatKDF(z: $0, algorithm: "ECDH-ES+A256KW", bits: 256) }
        let wrapped = try #require(Base64URL.decode(object["encrypted_key"] ?? ""))
        let iv = try #require(Base64URL.decode(object["iv"] ?? ""))
        let ciphertext = try #require(Base64URL.decode(object["ciphertext"] ?? ""))
        let tag = try #require(Base64URL.decode(object["tag"] ?? ""))
        let cek = try AES.KeyWrap.unwrap(wrapped, using: SymmetricKey(data: kek))
        let box = try AES.GCM.SealedBox(nonce: AES.GCM.Nonce(data: iv), ciphertext: ciphertext, tag: tag)
        return Array(try AES.GCM.open(box, using: cek, authenticating: Array(protected.utf8)))
    }

    @Test("a released secret is a flattened JWE to the TEE's key that only the TEE's key opens")
    func releaseJWE() throws {
        let recipient = P256.KeyAgreement.PrivateKey()
        let key = try TEEPublicKey(jwk: Self.node(Self.jwk(recipient)))
        let text = try JWE.encrypt(SecretBytes(copying: Array("the secret".utf8)), to: key)
        #expect(try Self.decrypt(text, with: recipient) == Array("the secret".utf8))
        #expect(throws: (any Error).self) { try Self.decrypt(text, with: P256.KeyAgreement.PrivateKey()) }
    }

    @Test("TEE keys: private members, unknown types, wrong sizes, points off the curve, short RSA and mismatched alg are refused")
    func keyRefusals() throws {
        let good = Self.jwk(P256.KeyAgreement.PrivateKey())
        #expect(try TEEPublicKey(jwk: Self.node(good)).algorithm == "ECDH-ES+A256KW")
        func code(_ jwk: [String: Any]) -> String? {
            do {
                _ = try TEEPublicKey(jwk: Self.node(jwk))
                return nil
            } catch { return (error as? BrokerError)?.code ?? "\(error)" }
        }
        #expect(code(good.merging(["d": "AAAA"]) { $1 }) == "invalid_tee_pubkey")
        #expect(code(["kty": "oct", "k": "AAAA"]) == "invalid_tee_pubkey")
        #expect(code(good.merging(["crv": "P-384"]) { $1 }) == "invalid_tee_pubkey")
        #expect(code(good.merging(["alg": "RSA-OAEP-256"]) { $1 }) == "unsupported_alg")
        #expect(code(good.merging(["x": "not base64url!"]) { $1 }) == "invalid_tee_pubkey")
        var offCurve = good
        offCurve["y"] = Base64URL.encode([UInt8](repeating: 7, count: 32))
        #expect(code(offCurve) == "invalid_tee_pubkey")
        #expect(code(["kty": "RSA", "n": Base64URL.encode([UInt8](repeating: 0xC3, count: 128)), "e": "AQAB"]) == "invalid_tee_pubkey")
        #expect(code(["kty": "RSA", "n": Base64URL.encode([UInt8](repeating: 0xC3, count: 256)), "e": "AQAB", "alg": "RSA1_5"]) == "unsupported_alg")
        #expect(code(["kty": "OKP", "crv": "X25519", "x": Base64URL.encode([UInt8](repeating: 9, count: 32))]) == "invalid_tee_pubkey")
        for member in ["p", "q", "dp", "dq", "qi"] { #expect(code(good.merging([member: "AAAA"]) { $1 }) == "invalid_tee_pubkey") }
    }

    static func appraisal(at time: Date) throws -> Appraisal {
        let jwk = try node(jwk(P256.KeyAgreement.PrivateKey()))
        let claims = ClaimRecord([("kind", .string("snp")), ("measurement", .hex([0xab])), ("debug", .bool(false)), ("tcb_svn", .int(8))])
        return Appraisal(
            id: "a1", kind: "snp", claims: claims, deviceClaims: [],
            tier: 2, teePublicKeyJSON: try JCS.canonicalize(jwk), teePublicKey: try TEEPublicKey(jwk: jwk), attestedAt: time)
    }

    @Test("attestation tokens verify only unaltered, unexpired and from this signer")
    func tokens() async throws {
        let signer = AttestationTokenSigner.ephemeral(lifetime: 300)
        let now = Date()
        let token = try await signer.sign(try Self.appraisal(at: now))
        let back = try await signer.verify(token, now: now + 10)
        #expect(back.tier == 2 && back.kind == "snp" && back.id == "a1")
        #expect(ClaimValue.record(back.claims).json == #"{"kind":"snp","measurement":"ab","debug":false,"tcb_svn":8}"#)
        // The header as Trustee's (alg, typ, the public key with its members in name order), plus the key's id.
        let jwk = try #require(try await signer.keys.publicJWKs().first)
        let kid = try #require(jwk["kid"])
        let expectedHeader =
            #"{"alg":"ES256","typ":"JWT","kid":"\#(kid)","jwk":{"alg":"ES256","crv":"P-256","kty":"EC","x":"\#(jwk["x"]!)","y":"\#(jwk["y"]!)"}}"#
        #expect(Base64URL.decode(token.split(separator: ".")[0]) == Array(expectedHeader.utf8))
        func code(_ token: String, at time: Date, signer: AttestationTokenSigner) async -> String? {
            do {
                _ = try await signer.verify(token, now: time)
                return nil
            } catch { return error.code }
        }
        #expect(await code(token, at: now + 301, signer: signer) == "token_expired")
        #expect(await code(token, at: now, signer: AttestationTokenSigner.ephemeral()) == "invalid_token")
        let parts = token.split(separator: ".").map(String.init)
        var payload = try #require(try JSONSerialization.jsonObject(with: Data(Base64URL.decode(parts[1])!)) as? [String: Any])
        payload["kbs.tier"] = 4
        let raised = parts[0] + "." + Base64URL.encode(try JSONSerialization.data(withJSONObject: payload)) + "." + parts[2]
        #expect(await code(raised, at: now, signer: signer) == "invalid_token", "a holder cannot raise its tier")
        #expect(await code("a.b", at: now, signer: signer) == "invalid_token")
        #expect(await code(parts[0] + "." + parts[1] + ".", at: now, signer: signer) == "invalid_token")
    }

    @Test("sessions are bounded per client and overall, expire, and allow one attestation attempt")
    func sessions() throws {
        let sessions = InMemoryRCARSessions(capacity: 4, perClient: 2)
        let now = Date()
        func open(_ client: String, at time: Date, tee: String = "snp") throws -> RCARSession {
            let session = RCARSession(
                id: UUID().uuidString, nonce: Data((0..<32).map { _ in UInt8.random(in: 0...255) }).base64EncodedString(),
                tee: tee, client: client, expires: time + 300)
            try sessions.insert(session, now: time)
            return session
        }
        // Issue 15, #4: a flood from one client replaces only its own oldest sessions; another client's survives.
        let victim = try open("192.0.2.2", at: now)
        let flooderFirst = try open("192.0.2.1", at: now)
        for _ in 0..<1000 { _ = try open("192.0.2.1", at: now + 1) }
        #expect(sessions.count == 3)
        #expect(sessions.session(victim.id, now: now + 2) != nil, "another client's session survives a flood")
        #expect(sessions.session(flooderFirst.id, now: now + 2) == nil, "the flooding client lost its own oldest")
        // When every slot holds a live session, a new client is refused rather than given someone else's slot.
        _ = try open("192.0.2.3", at: now + 1)
        #expect(throws: BrokerError.sessionsFull) { _ = try open("192.0.2.4", at: now + 1) }
        #expect(sessions.session(victim.id, now: now + 2) != nil)
        // Expired sessions make room.
        let live = try open("192.0.2.4", at: now + 400, tee: "tdx")
        #expect(Data(base64Encoded: live.nonce)?.count == 32)
        #expect(sessions.session(live.id, now: now + 699) != nil)
        #expect(sessions.beginAttempt(live.id))
        #expect(!sessions.beginAttempt(live.id))
        #expect(sessions.session(live.id, now: now + 701) == nil)
    }

    @Test("resource paths and reference values are checked before they reach the store or the policy")
    func validation() {
        for good in ["repo/key/tag", "default/aa.bb/v1_2-3"] { #expect(throws: Never.self) { try Broker.validatePath(good) } }
        for bad in ["repo/key", "a/b/c/d", "a//c", "../b/c", "a/./c", "a/b c/d", "a/b/\u{00e9}", String(repeating: "x", count: 129) + "/b/c"] {
            #expect(throws: BrokerError.self) { try Broker.validatePath(bad) }
        }
        #expect(throws: Never.self) { try Broker.validateReferenceValues(kind: "snp", name: "measurement", values: ["ABcd"]) }
        #expect(throws: BrokerError.self) { try Broker.validateReferenceValues(kind: "snp", name: "measurement", values: ["xyz1"]) }
        #expect(throws: BrokerError.self) { try Broker.validateReferenceValues(kind: "snp", name: "measurement", values: ["abc"]) }
        #expect(throws: BrokerError.self) { try Broker.validateReferenceValues(kind: "SNP", name: "measurement", values: ["ab"]) }
        #expect(throws: BrokerError.self) { try Broker.validateReferenceValues(kind: "snp", name: "m", values: []) }
    }
}
