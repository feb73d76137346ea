import KBSClaims

/// A parsed SEV-SNP ATTESTATION_REPORT (SEV-SNP Firmware ABI, table "ATTESTATION_REPORT Structure").
///
/// Exactly 0x4A0 (1184) bytes, little-endian. Fields are read by fixed offsets after one length check, so no read
/// can run past the end.
struct SNPReport: Sendable {
    /// The size of the structure.
    static let size = 0x4A0
    /// The signed bytes are `0x000..<signedLength`.
    static let signedLength = 0x2A0
    /// Where the signature's `r` and `s` (72-byte little-endian each) start.
    static let signatureROffset = 0x2A0
    static let signatureSOffset = 0x2E8
    /// The versions this verifier reads: 2 (no CPUID), 3 (CPUID), 5 (mitigation vectors).
    static let supportedVersions: Set<UInt32> = [2, 3, 5]

    /// Which key signed the report (KEY_INFO bits 2–4).
    enum SigningKey: String, Sendable {
        case vcek, vlek
    }

    let bytes: [UInt8]
    let version: UInt32
    let guestSVN: UInt32
    let policy: UInt64
    let vmpl: UInt32
    let signatureAlgorithm: UInt32
    let platformInfo: UInt64
    let keyInfo: UInt32
    let signingKey: SigningKey
    /// CPUID family/model/stepping, nil before version 3.
    let cpuid: (family: UInt8, model: UInt8, stepping: UInt8)?
    /// The product the CPUID names; nil for version 2 (the VCEK's productName decides then).
    let cpuidProduct: SNPProduct?

    /// Parses `bytes`: `malformed` unless exactly 1184 bytes, `unsupported` for other versions, algorithms, signing
    /// keys or CPUIDs.
    init(_ bytes: [UInt8]) throws(EvidenceError) {
        guard bytes.count == Self.size else {
            throw EvidenceError(.malformed, "SNP report is \(bytes.count) bytes, expected exactly \(Self.size)")
        }
        self.bytes = bytes
        func u32(_ offset: Int) -> UInt32 { UInt32(ByteReader.littleEndian(bytes, at: offset, count: 4)) }
        func u64(_ offset: Int) -> UInt64 { ByteReader.littleEndian(bytes, at: offset, count: 8) }
        version = u32(0x00)
        guard Self.supportedVersions.contains(version) else {
            throw EvidenceError(.unsupported, "SNP report version \(version) is not supported (2, 3 and 5 are)")
        }
        guestSVN = u32(0x04)
        policy = u64(0x08)
        vmpl = u32(0x30)
        signatureAlgorithm = u32(0x34)
        guard signatureAlgorithm == 1 else {
            throw EvidenceError(.unsupported, "SNP report signature algorithm \(signatureAlgorithm) (only 1, ECDSA P-384 with SHA-384)")
        }
        platformInfo = u64(0x40)
        keyInfo = u32(0x48)
        switch (keyInfo >> 2) & 0x7 {
        case 0: signingKey = .vcek
        case 1: signingKey = .vlek
        case 7: throw EvidenceError(.unsupported, "SNP report is unsigned (signing key 7: none)")
        case let other: throw EvidenceError(.unsupported, "SNP report signing key \(other) is reserved")
        }
        if version >= 3 {
            let family = bytes[0x188]
            let model = bytes[0x189]
            let stepping = bytes[0x18A]
            cpuid = (family, model, stepping)
            guard let product = SNPProduct(family: family, model: model) else {
                throw EvidenceError(
                    .unsupported,
                    "SNP report CPUID family 0x\(Hex.encode([family])) model 0x\(Hex.encode([model])) is not Milan, Genoa or Turin")
            }
            cpuidProduct = product
        } else {
            cpuid = nil
            cpuidProduct = nil
        }
    }

    func field(_ offset: Int, _ count: Int) -> [UInt8] { Array(bytes[offset..<offset + count]) }

    var familyID: [UInt8] { field(0x10, 16) }
    var imageID: [UInt8] { field(0x20, 16) }
    var reportData: [UInt8] { field(0x50, 64) }
    var measurement: [UInt8] { field(0x90, 48) }
    var hostData: [UInt8] { field(0xC0, 32) }
    var idKeyDigest: [UInt8] { field(0xE0, 48) }
    var authorKeyDigest: [UInt8] { field(0x110, 48) }
    var reportID: [UInt8] { field(0x140, 32) }
    var reportIDMA: [UInt8] { field(0x160, 32) }
    var chipID: [UInt8] { field(0x1A0, 64) }
    var signedBytes: [UInt8] { field(0, Self.signedLength) }

    func currentTCB(_ product: SNPProduct) -> SNPTCB { SNPTCB(bytes, at: 0x38, product: product) }
    func reportedTCB(_ product: SNPProduct) -> SNPTCB { SNPTCB(bytes, at: 0x180, product: product) }
    func committedTCB(_ product: SNPProduct) -> SNPTCB { SNPTCB(bytes, at: 0x1E0, product: product) }
    func launchTCB(_ product: SNPProduct) -> SNPTCB { SNPTCB(bytes, at: 0x1F0, product: product) }

    /// Firmware version as "major.minor.build" (bytes build, minor, major at `offset`).
    func firmware(at offset: Int) -> String { "\(bytes[offset + 2]).\(bytes[offset + 1]).\(bytes[offset])" }
    var currentFirmware: String { firmware(at: 0x1E8) }
    var committedFirmware: String { firmware(at: 0x1EC) }

    /// LAUNCH_MIT_VECTOR and CURRENT_MIT_VECTOR, version 5 only.
    var mitigationVectors: (launch: UInt64, current: UInt64)? {
        guard version >= 5 else { return nil }
        return (ByteReader.littleEndian(bytes, at: 0x1F8, count: 8), ByteReader.littleEndian(bytes, at: 0x200, count: 8))
    }

    /// Whether policy bit 19 lets the host debug the guest.
    var debugAllowed: Bool { policy & (1 << 19) != 0 }

    /// The signature as big-endian `r ‖ s` (48 bytes each); `signature` when a stored value does not fit 48 bytes.
    func rawSignature() throws(EvidenceError) -> [UInt8] {
        var raw: [UInt8] = []
        for offset in [Self.signatureROffset, Self.signatureSOffset] {
            let little = field(offset, 72)
            guard little[48...].allSatisfy({ $0 == 0 }) else {
                throw EvidenceError(.signature, "SNP report signature component at 0x\(String(offset, radix: 16)) exceeds 48 bytes")
            }
            raw += little[0..<48].reversed()
        }
        return raw
    }
}
