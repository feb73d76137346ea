import Crypto
import KBSClaims

/// The report Azure's paravisor (HCL) stores in the vTPM's NV index 0x01400001: an attestation header, the hardware
/// report the paravisor requested, and the IGVM request data whose variable part (`var_data`, the runtime claims
/// JSON) the hardware report binds through `SHA-256(var_data) == report_data[0:32]`.
///
/// Layout (little-endian): `"HCLA"` header at 0x00 (32 bytes), hardware report at 0x20 (room for 1184 bytes: an SNP
/// report, or a 1024-byte TDX TD report), IGVM request data at 0x4C0 (data size, version, report type, hash type,
/// variable-data size) and `var_data` at 0x4D4.
struct HCLReport: Sendable {
    /// The hardware report type in the IGVM request data.
    enum ReportType: UInt32, Sendable {
        case snp = 2
        case tdx = 4

        /// The hardware report's size at 0x20.
        var reportSize: Int {
            switch self {
            case .snp: 1184
            case .tdx: 1024
            }
        }
    }

    /// `"HCLA"` read little-endian.
    static let signature: UInt32 = 0x414C_4348
    static let hardwareReportOffset = 0x20
    static let requestDataOffset = 0x4C0
    static let varDataOffset = 0x4D4
    /// The fixed part of the IGVM request data, counted in its `data_size`.
    static let requestHeaderSize = 20
    /// `IGVM_HASH_TYPE_SHA256`.
    static let sha256HashType: UInt32 = 1
    /// The NV index holds 2600 bytes; anything far beyond that is not an HCL report.
    static let maximumSize = 16384

    /// The header's format version.
    var version: UInt32
    var reportType: ReportType
    /// The hardware report: what the SNP or TDX verifier checks (or, for TDX, what the TD quote was made from).
    var hardwareReport: [UInt8]
    /// The IGVM request data's version.
    var requestVersion: UInt32
    /// The runtime claims JSON whose SHA-256 the hardware report data carries.
    var varData: [UInt8]

    /// SHA-256 of ``varData``.
    var varDataDigest: [UInt8] { Array(SHA256.hash(data: varData)) }

    /// Parses `bytes`; a report type other than SNP or TDX, or a hash type other than SHA-256, is `unsupported`.
    init(_ bytes: [UInt8]) throws(EvidenceError) {
        guard bytes.count <= Self.maximumSize else {
            throw EvidenceError(.malformed, "HCL report is \(bytes.count) bytes, more than \(Self.maximumSize)")
        }
        var header = ByteReader(bytes, what: "HCL report")
        let signature = try header.u32()
        guard signature == Self.signature else {
            throw EvidenceError(.malformed, "HCL report does not start with \"HCLA\"")
        }
        version = try header.u32()

        guard bytes.count >= Self.varDataOffset else {
            throw EvidenceError(.malformed, "HCL report is \(bytes.count) bytes, too short for its IGVM request data at 0x4c0")
        }
        var request = ByteReader(bytes, offset: Self.requestDataOffset, what: "HCL report")
        let dataSize = try request.u32()
        requestVersion = try request.u32()
        let rawType = try request.u32()
        guard let reportType = ReportType(rawValue: rawType) else {
            throw EvidenceError(.unsupported, "HCL hardware report type \(rawType) is neither SNP (2) nor TDX (4)")
        }
        self.reportType = reportType
        let hashType = try request.u32()
        guard hashType == Self.sha256HashType else {
            throw EvidenceError(.unsupported, "HCL report-data hash type \(hashType) is not SHA-256 (1)")
        }
        let varDataSize = Int(try request.u32())
        guard Int(dataSize) == Self.requestHeaderSize + varDataSize else {
            throw EvidenceError(.malformed, "HCL request data size \(dataSize) does not match its variable data size \(varDataSize)")
        }
        varData = try request.bytes(varDataSize)
        hardwareReport = Array(bytes[Self.hardwareReportOffset..<Self.hardwareReportOffset + reportType.reportSize])
    }
}
