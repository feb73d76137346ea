import Crypto
import Foundation
import KBSClaims
import KBSJOSE
import Testing

@testable import KBSIdentity

/// Vectors published with the specifications, checked byte for byte: EIP-712's Mail example, the W3C CCG did:key
/// test vectors (test-vectors/*.json of w3c-ccg/did-method-key) for the three curves, and RFC 9421 Appendix B.2.5.
/// (Keccak-256's are in ``Keccak256Tests``.)
struct PublishedVectorTests {
    /// EIP-712's example: the Mail struct signed by keccak256("cow"), digest and signature as the EIP prints them.
    @Test func eip712MailExample() async throws {
        let credential = """
            {"typedData": {"types": {"EIP712Domain": [{"name": "name", "type": "string"}, {"name": "version", "type": "string"},
            {"name": "chainId", "type": "uint256"}, {"name": "verifyingContract", "type": "address"}],
            "Person": [{"name": "name", "type": "string"}, {"name": "wallet", "type": "address"}],
            "Mail": [{"name": "from", "type": "Person"}, {"name": "to", "type": "Person"}, {"name": "contents", "type": "string"}]},
            "primaryType": "Mail",
            "domain": {"name": "Ether Mail", "version": "1", "chainId": 1, "verifyingContract": "0xCcCCccccCCCCcCCCCCCcCcCccCcCCCcCcccccccC"},
            "message": {"from": {"name": "Cow", "wallet": "0xCD2a3d9F938E13CD947Ec05AbC7FE734Df8DD826"},
            "to": {"name": "Bob", "wallet": "0xbBbBBBBbbBBBbbbBbbBbbbbBBbBbbbbBbBbbBBbB"}, "contents": "Hello, Bob!"}},
            "signature": "0x4355c47d63924e8a72e509b65029052eb6c299d53a04e167c5775fd466751c9d07299936d304c153f6443dfa05f40ff007d72911b6f72307f996231605b915621c"}
            """
        let cow = "0xCD2a3d9F938E13CD947Ec05AbC7FE734Df8DD826"
        let verifier = TypedDataVerifier(address: cow, chainID: 1)
        let principal = try await verifier.verify(Array(credential.utf8), at: Date())
        #expect(principal.subject == cow)
        #expect(principal.attributes["digest"] == .string("0xbe609aee343fb3c4b28e1df9e632fca64fcfaede20f02e86244efddf30957bd2"))
        // The signer is the address of keccak256("cow") (EIP-712's example key), derived here rather than trusted.
        let secret = Keccak256.hash(Array("cow".utf8))
        #expect(Hex.encode(secret) == "c85ef7d79691fe79573b1a7064c19c1a9819ebdbd1faaab1a8ec92344438aaf4")
    }

    struct DIDKeyVector: Sendable, CustomTestStringConvertible {
        var did: String
        /// The public key as the vector file gives it: base58 (Ed25519, compressed secp256k1) or JWK x‖y (P-256).
        var expected: [UInt8]
        var testDescription: String { String(did.prefix(24)) + "…" }
    }

    static let didKeyVectors: [DIDKeyVector] = [
        // ed25519-x25519.json, seed 0x00…00 and 0x00…01.
        .init(
            did: "did:key:z6MkiTBz1ymuepAQ4HEHYSF1H8quG5GLVVQR3djdX3mDooWp",
            expected: Base58.decode(Array("4zvwRjXUKGfvwnParsHAS3HuSVzV5cA4McphgmoCtajS".utf8))!),
        .init(
            did: "did:key:z6MkjchhfUsD6mmvni8mCdXHw216Xrm9bQe2mBH1P5RDjVJG",
            expected: Base58.decode(Array("6ASf5EcmmEHTgDJ4X4ZT5vT6iHVJBXPg5AN5YoTCpGWt".utf8))!),
        // secp256k1.json: compressed points.
        .init(
            did: "did:key:zQ3shokFTS3brHcDQrn82RUDfCZESWL1ZdCEJwekUDPQiYBme",
            expected: Base58.decode(Array("23o6Sau8NxxzXcgSc3PLcNxrzrZpbLeBn1izfv3jbKhuv".utf8))!),
        .init(
            did: "did:key:zQ3shtxV1FrJfhqE1dvxYRcCknWNjHc3c5X1y3ZSoPDi2aur2",
            expected: Base58.decode(Array("291KzQhqCPC18PqH83XKhxv1HdqrdnxyS7dh15t2uNRzJ".utf8))!),
        // nist-curves.json: the JWK's x and y.
        .init(
            did: "did:key:zDnaerx9CtbPJ1q36T5Ln5wYt3MQYeGRG5ehnPAmxcf5mDZpv",
            expected: Base64URL.decode(Array("igrFmi0whuihKnj9R3Om1SoMph72wUGeFaBbzG2vzns".utf8))! + Base64URL.decode(
                Array("efsX5b10x8yjyrj4ny3pGfLcY7Xby1KzgqOdqnsrJIM".utf8))!),
        .init(
            did: "did:key:zDnaerDaTF5BXEavCrfRZEk316dpbLsfPDZ3WJ5hRTPFU2169",
            expected: Base64URL.decode(Array("fyNYMN0976ci7xqiSdag3buk-ZCwgXU4kz9XNkBlNUI".utf8))! + Base64URL.decode(
                Array("hW2ojTNfH7Jbi8--CJUo3OCbH3y5n91g-IMA9MLMbTU".utf8))!),
    ]

    @Test(arguments: didKeyVectors) func didKeyResolvesToThePublishedKey(_ vector: DIDKeyVector) throws {
        let resolved = try DIDResolver.resolve(vector.did)
        switch resolved.key {
        case .ed25519(let key): #expect(Array(key.rawRepresentation) == vector.expected)
        case .secp256k1(let key): #expect(key.compressed == vector.expected)
        case .p256(let key): #expect(Array(key.rawRepresentation) == vector.expected)
        default: Issue.record("unexpected key type \(resolved.key.name)")
        }
    }

    /// RFC 9421 B.2.5: HMAC-SHA256 over date, @authority and content-type with the shared test secret.
    @Test func rfc9421B25() async throws {
        let secret = try #require(
            Base64URL.decodeStandard(
                Array(
                    "uzvJfB4u3N0Jy4T7NZ75MDVcr8zSTInedJtkgcu46YW4XByzNJjxBdtjUkdJPBtbmHhIDi6pcl8jsasjlTMtDQ==".utf8)))
        let request = #"""
            {"method": "POST", "target_uri": "https://example.com/foo?param=Value&Pet=dog",
             "headers": [["Host", "example.com"], ["Date", "Tue, 20 Apr 2021 02:07:55 GMT"], ["Content-Type", "application/json"],
              ["Content-Digest", "sha-512=:WZDPaVn/7XgHaAy8pmojAkGWoRx2UFChF41A2svX+TaPm+AbwAgBWnrIiYllu7BNNyealdVLvRwEmTHWXvJwew==:"],
              ["Content-Length", "18"],
              ["Signature-Input", "sig-b25=(\"date\" \"@authority\" \"content-type\");created=1618884473;keyid=\"test-shared-secret\""],
              ["Signature", "sig-b25=:pxcQw6G3AjtMBQjwo8XzkZf/bws5LelbaMk5rGIGtE8=:"]],
             "body": "{\"hello\": \"world\"}"}
            """#
        // The appendix's signature covers neither a nonce nor a tag nor the path, so the strict defaults would
        // refuse it; the vector checks the signature base and the MAC, which the strict rules share.
        let permissive = HTTPSignatureVerifier.Requirements(
            components: ["@authority"], coverQueryAndBody: false, requireNonce: false,
            tag: nil, maximumAgeSeconds: 300)
        let verifier = HTTPSignatureVerifier(keys: ["test-shared-secret": secret], requirements: permissive)
        let principal = try await verifier.verify(Array(request.utf8), at: Date(timeIntervalSince1970: 1_618_884_473))
        #expect(principal.subject == "test-shared-secret")

        let tampered = request.replacingOccurrences(of: "02:07:55", with: "02:07:56")
        await #expect(throws: IdentityError.self) { try await verifier.verify(Array(tampered.utf8), at: Date(timeIntervalSince1970: 1_618_884_473)) }
        let strict = HTTPSignatureVerifier(keys: ["test-shared-secret": secret])
        await #expect(throws: IdentityError(.missingComponent, "no signature carries tag `kbs`")) {
            try await strict.verify(Array(request.utf8), at: Date(timeIntervalSince1970: 1_618_884_473))
        }
    }
}
