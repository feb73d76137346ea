import Crypto
import Foundation
import KBSClaims
import Testing

@testable import KBSEvidence

/// Tokens built here with fresh keys: the paths no fixture takes (ES512, debug lifecycles, SHA-384 binding,
/// refused algorithms and headers).
struct CCASyntheticTests {
    /// Canonical CBOR for test tokens.
    static func encode(_ item: CBOR) -> [UInt8] {
        switch item {
        case .unsigned(let value): return CBOREncoder.head(0, value)
        case .negative(let value): return CBOREncoder.head(1, value)
        case .bytes(let bytes): return CBOREncoder.bytes(bytes)
        case .text(let text): return CBOREncoder.text(text)
        case .array(let elements): return CBOREncoder.head(4, UInt64(elements.count)) + elements.flatMap(encode)
        case .map(let entries):
            return CBOREncoder.head(5, UInt64(entries.count)) + entries.flatMap { encode($0.key) + encode($0.value) }
        case .tagged(let tag, let inner): return CBOREncoder.head(6, tag) + encode(inner)
        case .bool(let value): return [value ? 0xf5 : 0xf4]
        case .null: return [0xf6]
        case .undefined: return [0xf7]
        case .simple(let value): return value < 24 ? [0xe0 | value] : [0xf8, value]
        case .float(let bits): return [0xfb] + (0..<8).reversed().map { UInt8(truncatingIfNeeded: bits >> (8 * UInt64($0))) }
        }
    }

    static func int(_ value: Int64) -> CBOR { value >= 0 ? .unsigned(UInt64(value)) : .negative(UInt64(-1 - value)) }

    static func map(_ entries: [(Int64, CBOR)]) -> CBOR { .map(entries.map { CBORMapEntry(key: int($0.0), value: $0.1) }) }

    /// A tagged COSE_Sign1 over `payload` with `alg` (and any extra protected header entries), signed by `sign`.
    static func sign1(
        _ payload: [UInt8], alg: Int64, extraHeader: [(Int64, CBOR)] = [], sign: ([UInt8]) throws -> [UInt8]
    ) rethrows -> [UInt8] {
        let protected = encode(map([(1, int(alg))] + extraHeader))
        let toBeSigned = encode(.array([.text("Signature1"), .bytes(protected), .bytes([]), .bytes(payload)]))
        return encode(.tagged(18, .array([.bytes(protected), .map([]), .bytes(payload), .bytes(try sign(toBeSigned))])))
    }

    struct Token {
        var bytes: [UInt8]
        var cpakPEM: String
    }

    enum CPAK { case p256, p384, p521 }

    static let implementationID = [UInt8](repeating: 0x11, count: 32)
    static let instanceID = [0x01] + [UInt8](repeating: 0x22, count: 32)

    static func token(
        cpak: CPAK = .p384, lifecycle: Int64 = 0x3001, rakHash: String = "sha-384", realmAlg: Int64 = -35,
        platformProfile: String = CCAPlatformClaims.profile, realmExtraHeader: [(Int64, CBOR)] = [], bindingCorrect: Bool = true
    ) throws -> Token {
        let rak = P384.Signing.PrivateKey()
        let rakClaim = Array(rak.publicKey.x963Representation)
        let realmPayload = encode(
            map([
                (265, .text(CCARealmClaims.profile)), (10, .bytes([UInt8](repeating: 0x5A, count: 64))),
                (44235, .bytes([UInt8](repeating: 0x01, count: 64))), (44236, .text("sha-256")), (44237, .bytes(rakClaim)),
                (44238, .bytes([UInt8](repeating: 0x33, count: 32))),
                (44239, .array(Array(repeating: .bytes([UInt8](repeating: 0x44, count: 32)), count: 4))), (44240, .text(rakHash)),
            ]))
        let realm = try sign1(realmPayload, alg: realmAlg, extraHeader: realmExtraHeader) {
            Array(try rak.signature(for: $0).rawRepresentation)
        }
        var challenge = (CCAHash(rawValue: rakHash) ?? .sha256).digest(rakClaim)
        if !bindingCorrect { challenge[0] ^= 1 }
        let platformPayload = encode(
            map([
                (265, .text(platformProfile)), (10, .bytes(challenge)), (2396, .bytes(implementationID)), (256, .bytes(instanceID)),
                (2395, int(lifecycle)),
                (2399, .array([map([(2, .bytes([UInt8](repeating: 0x55, count: 32))), (5, .bytes([UInt8](repeating: 0x66, count: 32)))])])),
            ]))
        let platform: [UInt8]
        let pem: String
        switch cpak {
        case .p256:
            let key = P256.Signing.PrivateKey()
            platform = try sign1(platformPayload, alg: -7) { Array(try key.signature(for: $0).rawRepresentation) }
            pem = key.publicKey.pemRepresentation
        case .p384:
            let key = P384.Signing.PrivateKey()
            platform = try sign1(platformPayload, alg: -35) { Array(try key.signature(for: $0).rawRepresentation) }
            pem = key.publicKey.pemRepresentation
        case .p521:
            let key = P521.Signing.PrivateKey()
            platform = try sign1(platformPayload, alg: -36) { Array(try key.signature(for: $0).rawRepresentation) }
            pem = key.publicKey.pemRepresentation
        }
        let token = encode(
            .tagged(
                399,
                .map([
                    CBORMapEntry(key: .unsigned(44234), value: .bytes(platform)), CBORMapEntry(key: .unsigned(44241), value: .bytes(realm)),
                ])))
        return Token(bytes: token, cpakPEM: pem)
    }

    static func verify(_ token: Token, anchor: String? = nil) async throws(EvidenceError) -> VerifiedEvidence {
        let context = VerificationContext(
            time: Date(timeIntervalSince1970: 0), trustAnchors: [EvidenceFile(name: "cpak", bytes: Array((anchor ?? token.cpakPEM).utf8))])
        return try await CCAVerifier().verify(token.bytes, context: context)
    }

    static func reason(_ token: Token, anchor: String? = nil) async -> EvidenceErrorReason? {
        await evidenceError { () async throws(EvidenceError) -> VerifiedEvidence in try await verify(token, anchor: anchor) }?.reason
    }

    @Test(arguments: [CPAK.p256, .p384, .p521])
    func everyPlatformAlgorithmVerifies(_ cpak: CPAK) async throws {
        let verified = try await Self.verify(try Self.token(cpak: cpak))
        #expect(verified.measurement == [UInt8](repeating: 0x33, count: 32))
        #expect(verified.details["rak_hash_algorithm"] == .string("sha-384"))
        #expect(verified.details["platform_challenge"].map { if case .hex(let bytes) = $0 { bytes.count } else { 0 } } == 48)
    }

    /// Lifecycle decides `debug`: only 0x3000–0x30ff (secured) is non-debug; provisioning (0x2000), the debug states
    /// and decommissioned (0x6000) all are (issue 15 #8: they used to count as non-debug outside 0x4000–0x50ff).
    @Test func lifecycleDecidesDebug() async throws {
        let cases: [(lifecycle: Int64, debug: Bool, secured: Bool)] = [
            (0x3000, false, true), (0x30ff, false, true), (0x2000, true, false), (0x4000, true, false), (0x5001, true, false),
            (0x6000, true, false), (0x1000, true, false), (0x0000, true, false),
        ]
        for (lifecycle, debug, secured) in cases {
            let verified = try await Self.verify(try Self.token(lifecycle: lifecycle))
            #expect(verified.debug == debug)
            #expect(verified.details["lifecycle_secured"] == .bool(secured))
            #expect(verified.details["lifecycle"] == .int(lifecycle))
        }
    }

    @Test func wrongBindingIsRefused() async throws {
        #expect(await Self.reason(try Self.token(bindingCorrect: false)) == .binding)
    }

    @Test func realmNotES384IsUnsupported() async throws {
        #expect(await Self.reason(try Self.token(realmAlg: -36)) == .malformed)  // ES512 needs 132-byte signatures
        #expect(await Self.reason(try Self.token(realmAlg: -37)) == .unsupported)  // PS256
    }

    @Test func criticalHeaderIsUnsupported() async throws {
        #expect(await Self.reason(try Self.token(realmExtraHeader: [(2, .array([.unsigned(99)]))])) == .unsupported)
    }

    @Test func unknownProfileAndHashAreUnsupported() async throws {
        #expect(await Self.reason(try Self.token(platformProfile: "http://arm.com/psa/2.0.0")) == .unsupported)
        #expect(await Self.reason(try Self.token(rakHash: "sha3-256"), anchor: nil) == .unsupported)
    }

    @Test func anotherKeyIsASignatureError() async throws {
        let token = try Self.token()
        #expect(await Self.reason(token, anchor: P384.Signing.PrivateKey().publicKey.pemRepresentation) == .signature)
        // A P-256 key cannot verify an ES384 token.
        #expect(await Self.reason(token, anchor: P256.Signing.PrivateKey().publicKey.pemRepresentation) == .signature)
    }
}
