import KBSClaims

/// The AMD-specific extensions of a VCEK or VLEK (the "versioned endorsement key", VEK) certificate.
///
/// AMD's KDS spec: each extnValue holds a DER value — INTEGER SPLs, an IA5String productName — and hwID holds the
/// chip id either raw (older VCEKs) or wrapped in a DER OCTET STRING (newer ones).
struct SNPVEKExtensions: Sendable {
    static let productNameOID = "1.3.6.1.4.1.3704.1.2"
    static let bootloaderOID = "1.3.6.1.4.1.3704.1.3.1"
    static let teeOID = "1.3.6.1.4.1.3704.1.3.2"
    static let snpOID = "1.3.6.1.4.1.3704.1.3.3"
    static let microcodeOID = "1.3.6.1.4.1.3704.1.3.8"
    static let fmcOID = "1.3.6.1.4.1.3704.1.3.9"
    static let hwIDOID = "1.3.6.1.4.1.3704.1.4"

    var productName: String?
    var bootloader: UInt8?
    var tee: UInt8?
    var snp: UInt8?
    var microcode: UInt8?
    var fmc: UInt8?
    var hwID: [UInt8]?

    /// VEKs' extensions by certificate fingerprint: a known device's VEK is read once.
    static let cache = ParsedCache<SNPVEKExtensions>(capacity: 1024)

    /// The extensions of `vek`, read once per distinct certificate (``cache``).
    static func of(_ vek: Certificate) throws(EvidenceError) -> SNPVEKExtensions {
        try cache.value(of: vek, domain: "SNP VEK extensions") { () throws(EvidenceError) in try SNPVEKExtensions(vek) }
    }

    /// Reads the extensions of `certificate`; `malformed` when one is present but not well-formed.
    init(_ certificate: Certificate) throws(EvidenceError) {
        if let value = try certificate.extensionValue(Self.productNameOID) {
            productName = try Self.string(value, what: "productName")
        }
        bootloader = try certificate.extensionValue(Self.bootloaderOID).map { (v) throws(EvidenceError) in try Self.spl(v, what: "blSPL") }
        tee = try certificate.extensionValue(Self.teeOID).map { (v) throws(EvidenceError) in try Self.spl(v, what: "teeSPL") }
        snp = try certificate.extensionValue(Self.snpOID).map { (v) throws(EvidenceError) in try Self.spl(v, what: "snpSPL") }
        microcode = try certificate.extensionValue(Self.microcodeOID).map { (v) throws(EvidenceError) in try Self.spl(v, what: "ucodeSPL") }
        fmc = try certificate.extensionValue(Self.fmcOID).map { (v) throws(EvidenceError) in try Self.spl(v, what: "fmcSPL") }
        hwID = try certificate.extensionValue(Self.hwIDOID).map { (v) throws(EvidenceError) in try Self.hwID(v) }
    }

    /// The chip id from a hwID extnValue: raw 64 bytes (8 on Turin), or a DER OCTET STRING of them.
    static func hwID(_ value: [UInt8]) throws(EvidenceError) -> [UInt8] {
        switch value.count {
        case 64, 8: return value
        case 66 where value[0] == 0x04 && value[1] == 0x40: return Array(value[2...])
        case 10 where value[0] == 0x04 && value[1] == 0x08: return Array(value[2...])
        default:
            throw EvidenceError(
                .malformed, "VEK hwID extension is \(value.count) bytes, neither a raw chip id nor a DER OCTET STRING of one")
        }
    }

    /// A security patch level: a DER INTEGER 0…255.
    static func spl(_ value: [UInt8], what: String) throws(EvidenceError) -> UInt8 {
        var reader = DERReader(value[...], what: "VEK \(what)")
        let content = Array(try reader.next(tag: DERReader.integer).content)
        guard reader.isAtEnd else { throw EvidenceError(.malformed, "VEK \(what) has bytes after its INTEGER") }
        // Minimal two's-complement: 0…127 in one byte, 128…255 as 00 xx.
        switch content.count {
        case 1 where content[0] < 0x80: return content[0]
        case 2 where content[0] == 0 && content[1] >= 0x80: return content[1]
        default: throw EvidenceError(.malformed, "VEK \(what) is not an INTEGER between 0 and 255")
        }
    }

    /// An IA5String or UTF8String.
    static func string(_ value: [UInt8], what: String) throws(EvidenceError) -> String {
        var reader = DERReader(value[...], what: "VEK \(what)")
        guard let tag = value.first, tag == 0x16 || tag == 0x0C else {
            throw EvidenceError(.malformed, "VEK \(what) is not a string")
        }
        let content = try reader.next(tag: tag).content
        guard reader.isAtEnd, content.allSatisfy({ $0 >= 0x20 && $0 < 0x7F }) else {
            throw EvidenceError(.malformed, "VEK \(what) is not a printable string")
        }
        return String(decoding: content, as: UTF8.self)
    }
}
