import KBSClaims

/// An Intel DCAP ECDSA quote (v3 SGX, v4 and v5 TDX or SGX), parsed by lengths.
///
/// Layout (Intel DCAP quote library): a 48-byte header, the report body (v5 prefixes a descriptor {type u16, size
/// u32}), `u32` signature-data length, then the signature data. Bytes after the signature data are ignored: real
/// quotes carry zero padding or junk there.
struct DCAPQuote: Sendable {
    /// The largest quote accepted (real ones are 5–8 KiB plus padding).
    static let maximumSize = 1 << 20

    enum Body: Sendable {
        case sgx(SGXReportBody)
        case td(TDReportBody)
    }

    var version: UInt16
    var attestationKeyType: UInt16
    var teeType: UInt32
    var qeVendorID: [UInt8]
    var userData: [UInt8]
    var body: Body
    /// The bytes the attestation key signs: header ‖ (descriptor ‖) body.
    var signedRegion: ArraySlice<UInt8>
    /// The attestation key's signature, raw `r ‖ s`.
    var signature: [UInt8]
    /// The raw P-256 attestation public key `x ‖ y`.
    var attestationKey: [UInt8]
    /// The Quoting Enclave's report, exactly as the PCK key signed it.
    var qeReport: [UInt8]
    var qeReportSignature: [UInt8]
    var qeAuthData: [UInt8]
    /// The PCK chain (type-5 certification data): PEM text, leaf first.
    var pckChainPEM: [UInt8]
    /// Where the signature data starts and ends in the quote (for tests and reports).
    var signatureDataRange: Range<Int>

    static let teeTDX: UInt32 = 0x81
    static let teeSGX: UInt32 = 0x00

    init(_ bytes: [UInt8]) throws(EvidenceError) {
        guard bytes.count <= Self.maximumSize else { throw EvidenceError(.malformed, "quote is \(bytes.count) bytes, over the limit") }
        var reader = ByteReader(bytes, what: "DCAP quote")
        version = try reader.u16()
        attestationKeyType = try reader.u16()
        teeType = try reader.u32()
        try reader.skip(4)  // v3: QE SVN, PCE SVN; v4/v5: reserved
        qeVendorID = try reader.bytes(16)
        userData = try reader.bytes(20)
        guard [3, 4, 5].contains(version) else {
            throw EvidenceError(version == 0 || version > 0xFF ? .malformed : .unsupported, "DCAP quote version \(version) is not 3, 4 or 5")
        }
        guard attestationKeyType == 2 else {
            throw EvidenceError(.unsupported, "attestation key type \(attestationKeyType) is not ECDSA-P256 (2)")
        }
        if version == 3 {
            guard teeType == Self.teeSGX else { throw EvidenceError(.malformed, "quote v3 carries TEE type \(teeType), not SGX") }
            body = .sgx(try SGXReportBody(try reader.bytes(SGXReportBody.size)))
        } else if version == 4 {
            switch teeType {
            case Self.teeTDX: body = .td(try TDReportBody(try reader.bytes(TDReportBody.size10), isTD15: false))
            case Self.teeSGX: body = .sgx(try SGXReportBody(try reader.bytes(SGXReportBody.size)))
            default: throw EvidenceError(.unsupported, "TEE type 0x\(String(teeType, radix: 16)) is neither SGX nor TDX")
            }
        } else {
            let type = try reader.u16()
            let size = try reader.u32()
            switch (type, size) {
            case (1, UInt32(SGXReportBody.size)) where teeType == Self.teeSGX:
                body = .sgx(try SGXReportBody(try reader.bytes(SGXReportBody.size)))
            case (2, UInt32(TDReportBody.size10)) where teeType == Self.teeTDX:
                body = .td(try TDReportBody(try reader.bytes(TDReportBody.size10), isTD15: false))
            case (3, UInt32(TDReportBody.size15)) where teeType == Self.teeTDX:
                body = .td(try TDReportBody(try reader.bytes(TDReportBody.size15), isTD15: true))
            default:
                throw EvidenceError(
                    .malformed, "quote v5 body descriptor type \(type) size \(size) does not fit TEE type 0x\(String(teeType, radix: 16))")
            }
        }
        signedRegion = bytes[0..<reader.offset]
        let signatureLength = Int(try reader.u32())
        let start = reader.offset
        var data = ByteReader(try reader.bytes(signatureLength), what: "quote signature data")
        signatureDataRange = start..<start + signatureLength
        signature = try data.bytes(64)
        attestationKey = try data.bytes(64)
        if version == 3 {
            qeReport = try data.bytes(SGXReportBody.size)
            qeReportSignature = try data.bytes(64)
            qeAuthData = try data.bytes(Int(try data.u16()))
            pckChainPEM = try Self.pckChain(&data, what: "quote v3 certification data")
        } else {
            let type = try data.u16()
            guard type == 6 else { throw EvidenceError(.unsupported, "certification data type \(type) is not 6 (QE report)") }
            var inner = ByteReader(try data.bytes(Int(try data.u32())), what: "QE report certification data")
            qeReport = try inner.bytes(SGXReportBody.size)
            qeReportSignature = try inner.bytes(64)
            qeAuthData = try inner.bytes(Int(try inner.u16()))
            pckChainPEM = try Self.pckChain(&inner, what: "QE report certification data")
        }
    }

    /// Reads type-5 certification data (the PCK chain as PEM).
    private static func pckChain(_ reader: inout ByteReader, what: String) throws(EvidenceError) -> [UInt8] {
        let type = try reader.u16()
        let size = Int(try reader.u32())
        guard type == 5 else {
            throw EvidenceError(.unsupported, "\(what): certification data type \(type) is not 5 (PCK chain); PPID-only quotes need a PCK from PCS")
        }
        return try reader.bytes(size)
    }
}

/// An SGX enclave report body (384 bytes): an application enclave's in a v3 quote, and every Quoting Enclave's.
struct SGXReportBody: Sendable {
    static let size = 384
    var raw: [UInt8]

    init(_ raw: [UInt8]) throws(EvidenceError) {
        guard raw.count == Self.size else { throw EvidenceError(.malformed, "SGX report body is \(raw.count) bytes") }
        self.raw = raw
    }

    var cpuSVN: [UInt8] { Array(raw[0..<16]) }
    var miscSelect: UInt32 { UInt32(ByteReader.littleEndian(raw, at: 16, count: 4)) }
    var miscSelectBytes: [UInt8] { Array(raw[16..<20]) }
    var attributes: [UInt8] { Array(raw[48..<64]) }
    var mrEnclave: [UInt8] { Array(raw[64..<96]) }
    var mrSigner: [UInt8] { Array(raw[128..<160]) }
    var configID: [UInt8] { Array(raw[192..<256]) }
    var isvProdID: UInt16 { UInt16(ByteReader.littleEndian(raw, at: 256, count: 2)) }
    var isvSVN: UInt16 { UInt16(ByteReader.littleEndian(raw, at: 258, count: 2)) }
    var configSVN: UInt16 { UInt16(ByteReader.littleEndian(raw, at: 260, count: 2)) }
    var reportData: [UInt8] { Array(raw[320..<384]) }
    /// ATTRIBUTES.FLAGS bit 1.
    var debug: Bool { raw[48] & 0x02 != 0 }
}

/// A TD report body: TDX 1.0 (584 bytes) or 1.5 (648 bytes, adding TEE_TCB_SVN2 and MRSERVICETD).
struct TDReportBody: Sendable {
    static let size10 = 584
    static let size15 = 648
    var raw: [UInt8]
    var isTD15: Bool

    init(_ raw: [UInt8], isTD15: Bool) throws(EvidenceError) {
        guard raw.count == (isTD15 ? Self.size15 : Self.size10) else { throw EvidenceError(.malformed, "TD report body is \(raw.count) bytes") }
        self.raw = raw
        self.isTD15 = isTD15
    }

    var teeTCBSVN: [UInt8] { Array(raw[0..<16]) }
    var mrSeam: [UInt8] { Array(raw[16..<64]) }
    var mrSignerSeam: [UInt8] { Array(raw[64..<112]) }
    var seamAttributes: [UInt8] { Array(raw[112..<120]) }
    var tdAttributes: [UInt8] { Array(raw[120..<128]) }
    var tdAttributeBits: UInt64 { ByteReader.littleEndian(raw, at: 120, count: 8) }
    var xfam: [UInt8] { Array(raw[128..<136]) }
    var mrTD: [UInt8] { Array(raw[136..<184]) }
    var mrConfigID: [UInt8] { Array(raw[184..<232]) }
    var mrOwner: [UInt8] { Array(raw[232..<280]) }
    var mrOwnerConfig: [UInt8] { Array(raw[280..<328]) }
    /// RTMR0…3.
    var rtmrs: [[UInt8]] { (0..<4).map { Array(raw[328 + 48 * $0..<376 + 48 * $0]) } }
    var reportData: [UInt8] { Array(raw[520..<584]) }
    var teeTCBSVN2: [UInt8]? { isTD15 ? Array(raw[584..<600]) : nil }
    var mrServiceTD: [UInt8]? { isTD15 ? Array(raw[600..<648]) : nil }
    /// TDATTRIBUTES bit 0.
    var debug: Bool { tdAttributeBits & 1 != 0 }
}
