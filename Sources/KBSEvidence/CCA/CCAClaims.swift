import Crypto
import KBSClaims

/// The hash algorithm names CCA tokens use (`sha-256`, …, the IANA Named Information names).
enum CCAHash: String, Sendable {
    case sha256 = "sha-256"
    case sha384 = "sha-384"
    case sha512 = "sha-512"

    init(_ name: String, claim: String) throws(EvidenceError) {
        guard let hash = CCAHash(rawValue: name) else {
            throw EvidenceError(.unsupported, "\(claim) names hash algorithm `\(name)`, not sha-256/sha-384/sha-512")
        }
        self = hash
    }

    func digest(_ bytes: [UInt8]) -> [UInt8] {
        switch self {
        case .sha256: Array(SHA256.hash(data: bytes))
        case .sha384: Array(SHA384.hash(data: bytes))
        case .sha512: Array(SHA512.hash(data: bytes))
        }
    }
}

/// Typed reads of claims out of a decoded claims map, each failing as `malformed` with the claim's name.
struct CCAClaimReader {
    let map: CBOR
    let what: String

    init(_ payload: [UInt8], what: String) throws(EvidenceError) {
        map = try CBORDecoder.decode(payload, what: what)
        guard case .map = map else { throw EvidenceError(.malformed, "\(what) is \(map.typeName), not a claims map") }
        self.what = what
    }

    init(map: CBOR, what: String) throws(EvidenceError) {
        guard case .map = map else { throw EvidenceError(.malformed, "\(what) is \(map.typeName), not a map") }
        self.map = map
        self.what = what
    }

    func optionalBytes(_ key: Int64, _ name: String, sizes: Set<Int>? = nil) throws(EvidenceError) -> [UInt8]? {
        guard let value = map[key] else { return nil }
        guard case .bytes(let bytes) = value else {
            throw EvidenceError(.malformed, "\(what) \(name) (\(key)) is \(value.typeName), not a byte string")
        }
        if let sizes, !sizes.contains(bytes.count) {
            let allowed = sizes.sorted().map(String.init).joined(separator: "/")
            throw EvidenceError(.malformed, "\(what) \(name) (\(key)) is \(bytes.count) bytes, not \(allowed)")
        }
        return bytes
    }

    func bytes(_ key: Int64, _ name: String, sizes: Set<Int>? = nil) throws(EvidenceError) -> [UInt8] {
        guard let bytes = try optionalBytes(key, name, sizes: sizes) else { throw missing(key, name) }
        return bytes
    }

    func optionalText(_ key: Int64, _ name: String) throws(EvidenceError) -> String? {
        guard let value = map[key] else { return nil }
        guard case .text(let text) = value else {
            throw EvidenceError(.malformed, "\(what) \(name) (\(key)) is \(value.typeName), not a text string")
        }
        return text
    }

    func text(_ key: Int64, _ name: String) throws(EvidenceError) -> String {
        guard let text = try optionalText(key, name) else { throw missing(key, name) }
        return text
    }

    func unsigned(_ key: Int64, _ name: String) throws(EvidenceError) -> Int64 {
        guard let value = map[key] else { throw missing(key, name) }
        guard case .unsigned = value, let number = value.integer else {
            throw EvidenceError(.malformed, "\(what) \(name) (\(key)) is \(value.typeName), not an unsigned integer")
        }
        return number
    }

    func array(_ key: Int64, _ name: String) throws(EvidenceError) -> [CBOR] {
        guard let value = map[key] else { throw missing(key, name) }
        guard case .array(let elements) = value else {
            throw EvidenceError(.malformed, "\(what) \(name) (\(key)) is \(value.typeName), not an array")
        }
        return elements
    }

    private func missing(_ key: Int64, _ name: String) -> EvidenceError {
        EvidenceError(.malformed, "\(what) has no \(name) claim (\(key))")
    }
}

/// One measured platform software component (platform claim 2399 entry).
struct CCASoftwareComponent: Equatable, Sendable {
    var type: String?
    var measurement: [UInt8]
    var version: String?
    var signerID: [UInt8]
    var hashAlgorithm: String?
}

/// The CCA platform token's claims (draft-ffm-rats-cca-token §4.2; legacy `http://arm.com/CCA-SSD/1.0.0`).
struct CCAPlatformClaims: Sendable {
    static let legacyProfile = "http://arm.com/CCA-SSD/1.0.0"
    static let profile = "tag:arm.com,2023:cca_platform#1.0.0"

    var profile: String
    var challenge: [UInt8]
    var implementationID: [UInt8]
    var instanceID: [UInt8]
    var config: [UInt8]?
    var lifecycle: Int64
    var softwareComponents: [CCASoftwareComponent]
    var verificationService: String?
    var hashAlgorithm: String?

    init(_ payload: [UInt8]) throws(EvidenceError) {
        let claims = try CCAClaimReader(payload, what: "platform claims")
        profile = try claims.text(265, "profile")
        guard profile == Self.legacyProfile || profile == Self.profile else {
            throw EvidenceError(.unsupported, "platform profile `\(profile)` is not \(Self.legacyProfile) or \(Self.profile)")
        }
        challenge = try claims.bytes(10, "challenge", sizes: [32, 48, 64])
        implementationID = try claims.bytes(2396, "implementation-id", sizes: [32])
        // A UEID of type RAND (0x01) followed by 32 bytes.
        instanceID = try claims.bytes(256, "instance-id", sizes: [33])
        guard instanceID.first == 0x01 else {
            throw EvidenceError(.malformed, "platform instance-id is not a RAND UEID (first byte \(instanceID[0]))")
        }
        config = try claims.optionalBytes(2401, "config")
        lifecycle = try claims.unsigned(2395, "lifecycle")
        guard lifecycle <= 0xFFFF else { throw EvidenceError(.malformed, "platform lifecycle \(lifecycle) is not 16 bits") }
        verificationService = try claims.optionalText(2400, "verification-service")
        hashAlgorithm = try claims.optionalText(2402, "hash-algorithm")
        var components: [CCASoftwareComponent] = []
        for (index, element) in try claims.array(2399, "sw-components").enumerated() {
            let component = try CCAClaimReader(map: element, what: "platform sw-component \(index)")
            components.append(
                CCASoftwareComponent(
                    type: try component.optionalText(1, "component-type"),
                    measurement: try component.bytes(2, "measurement-value", sizes: [32, 48, 64]),
                    version: try component.optionalText(4, "version"),
                    signerID: try component.bytes(5, "signer-id", sizes: [32, 48, 64]),
                    hashAlgorithm: try component.optionalText(6, "hash-algorithm")))
        }
        softwareComponents = components
    }

    /// PSA lifecycle `secured` (0x3000–0x30FF): the only state in which the platform's security guarantees hold.
    var isSecured: Bool { (0x3000...0x30FF).contains(lifecycle) }

    /// Whether the platform's guarantees do not hold: any lifecycle but `secured` — the debug states (0x4000–0x50FF),
    /// and also assembly and test, PSA-RoT provisioning, decommissioned and unknown ones, in which debug access or
    /// unprovisioned secrets are possible. Only `secured` counts as non-debug.
    var isDebug: Bool { !isSecured }
}

/// The realm token's claims (RMM specification §A.7.2; draft-ffm-rats-cca-token §4.1).
struct CCARealmClaims: Sendable {
    static let profile = "tag:arm.com,2023:realm#1.0.0"

    var profile: String?
    var challenge: [UInt8]
    var personalizationValue: [UInt8]
    var hashAlgorithm: String
    /// Claim 44237 exactly as encoded inside its byte string: the platform challenge hashes these bytes.
    var rakClaim: [UInt8]
    var rak: COSEPublicKey
    var initialMeasurement: [UInt8]
    var extensibleMeasurements: [[UInt8]]
    var rakHashAlgorithm: CCAHash

    init(_ payload: [UInt8]) throws(EvidenceError) {
        let claims = try CCAClaimReader(payload, what: "realm claims")
        profile = try claims.optionalText(265, "profile")
        if let profile, profile != Self.profile {
            throw EvidenceError(.unsupported, "realm profile `\(profile)` is not \(Self.profile)")
        }
        challenge = try claims.bytes(10, "challenge", sizes: [64])
        personalizationValue = try claims.bytes(44235, "personalization-value", sizes: [64])
        hashAlgorithm = try claims.text(44236, "hash-algorithm")
        rakClaim = try claims.bytes(44237, "public-key")
        rak = try Self.rak(rakClaim)
        initialMeasurement = try claims.bytes(44238, "initial-measurement", sizes: [32, 48, 64])
        let rems = try claims.array(44239, "extensible-measurements")
        guard rems.count == 4 else {
            throw EvidenceError(.malformed, "realm extensible-measurements has \(rems.count) entries, not 4")
        }
        var measurements: [[UInt8]] = []
        for rem in rems {
            guard case .bytes(let bytes) = rem, [32, 48, 64].contains(bytes.count) else {
                throw EvidenceError(.malformed, "realm extensible measurement is not a 32/48/64-byte string")
            }
            measurements.append(bytes)
        }
        extensibleMeasurements = measurements
        rakHashAlgorithm = try CCAHash(try claims.text(44240, "public-key-hash-algorithm"), claim: "realm public-key-hash-algorithm")
    }

    /// The RAK: a raw uncompressed P-384 point (RMM 1.0 tokens) or a COSE_Key (draft-ffm tokens).
    private static func rak(_ claim: [UInt8]) throws(EvidenceError) -> COSEPublicKey {
        if claim.count == 97, claim.first == 0x04 {
            guard let key = COSEPublicKey(curve: "P-384", x: Array(claim[1..<49]), y: Array(claim[49..<97])) else {
                throw EvidenceError(.malformed, "realm public key is not a point on P-384")
            }
            return key
        }
        let coseKey = try CCAClaimReader(map: try CBORDecoder.decode(claim, what: "realm public key"), what: "realm COSE_Key")
        // kty 2 (EC2), crv 2 (P-384): the RMM signs realm tokens with ES384 only.
        guard coseKey.map[1]?.integer == 2, coseKey.map[-1]?.integer == 2 else {
            throw EvidenceError(.unsupported, "realm COSE_Key is not an EC2 P-384 key")
        }
        let x = try coseKey.bytes(-2, "x", sizes: [48])
        let y = try coseKey.bytes(-3, "y", sizes: [48])
        guard let key = COSEPublicKey(curve: "P-384", x: x, y: y) else {
            throw EvidenceError(.malformed, "realm COSE_Key is not a point on P-384")
        }
        return key
    }
}
