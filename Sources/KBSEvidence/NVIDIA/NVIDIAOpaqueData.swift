import KBSClaims

/// The NVIDIA opaque data of an SPDM MEASUREMENTS response: `{type u16, size u16, value}` records, little-endian.
///
/// Types follow NVIDIA's verifiers (nvtrust `OpaqueDataParser`); unknown types are skipped (NVSwitch LS10 reports
/// carry type 26), a known type that appears twice is refused as ambiguous.
struct NVIDIAOpaqueData {
    enum Field: UInt16, CaseIterable {
        case driverVersion = 3
        case gpuInfo = 4
        case vbiosVersion = 6
        case nvdec0Status = 11
        case measurementCounts = 12
        case cprInfo = 13
        case boardID = 14
        case chipSKU = 15
        case chipSKUMod = 16
        case project = 17
        case projectSKU = 18
        case projectSKUMod = 19
        case fwid = 20
        case ppcieStatus = 21
        case switchPDIs = 22
        case floorsweptPorts = 23
        case positionID = 24
        case lockSwitchStatus = 25
        case sysEnableStatus = 33
        case opaqueVersion = 34
        case chipInfo = 35
        case featureFlag = 36
    }

    private(set) var values: [Field: [UInt8]] = [:]
    /// Every record type seen, known or not, in order.
    private(set) var types: [UInt16] = []

    init(_ bytes: [UInt8]) throws(EvidenceError) {
        var reader = ByteReader(bytes, what: "NVIDIA opaque data")
        while reader.remaining > 0 {
            let type = try reader.u16()
            let size = Int(try reader.u16())
            let value = try reader.bytes(size)
            types.append(type)
            guard let field = Field(rawValue: type) else { continue }
            guard values[field] == nil else { throw EvidenceError(.malformed, "NVIDIA opaque data holds type \(type) twice") }
            values[field] = value
        }
    }

    subscript(field: Field) -> [UInt8]? { values[field] }

    /// A NUL-terminated text field (driver version, project, SKU), up to the first NUL.
    func text(_ field: Field) -> String? {
        guard let value = values[field] else { return nil }
        return String(decoding: value.prefix { $0 != 0 }, as: UTF8.self)
    }

    /// The driver version, `550.90.07`.
    var driverVersion: String? { text(.driverVersion) }

    /// The VBIOS version as NVIDIA prints it: GPUs report 8 bytes `{b0 b1 b2 b3 b4 …}` shown as
    /// `b3.b2.b1.b0.b4` in hex (`96.00.9f.00.01`); NVSwitches report the text itself.
    var vbiosVersion: String? {
        guard let value = values[.vbiosVersion] else { return nil }
        if value.count == 8 {
            return [value[3], value[2], value[1], value[0], value[4]].map { Hex.encode([$0]) }.joined(separator: ".")
        }
        return String(decoding: value.prefix { $0 != 0 }, as: UTF8.self)
    }

    /// A one-byte status (NVDEC0, protected PCIe); nil when absent or not one byte.
    func byte(_ field: Field) -> UInt8? {
        guard let value = values[field], value.count == 1 else { return nil }
        return value[0]
    }

    /// The per-index measurement counts (u32 each).
    var measurementCounts: [Int64]? {
        guard let value = values[.measurementCounts] else { return nil }
        var reader = ByteReader(value, what: "measurement counts")
        var counts: [Int64] = []
        while reader.remaining >= 4, let count = try? reader.u32() { counts.append(Int64(count)) }
        return counts
    }

    /// The switch PDIs (8 bytes each).
    var switchPDIs: [[UInt8]]? {
        guard let value = values[.switchPDIs] else { return nil }
        return stride(from: 0, to: value.count - value.count % 8, by: 8).map { Array(value[$0..<$0 + 8]) }
    }
}
