import KBSClaims

/// Bounds-checked little-endian reads over evidence bytes; every overrun is a `malformed` error, never a trap.
struct ByteReader {
    let bytes: [UInt8]
    private(set) var offset: Int
    /// What is being read, for messages ("SNP report").
    let what: String

    init(_ bytes: [UInt8], offset: Int = 0, what: String) {
        self.bytes = bytes
        self.offset = offset
        self.what = what
    }

    var remaining: Int { bytes.count - offset }

    mutating func bytes(_ count: Int) throws(EvidenceError) -> [UInt8] {
        guard count >= 0, count <= remaining else {
            throw EvidenceError(.malformed, "\(what) is truncated at byte \(offset) (needs \(count) more, has \(remaining))")
        }
        defer { offset += count }
        return Array(bytes[offset..<offset + count])
    }

    mutating func skip(_ count: Int) throws(EvidenceError) { _ = try bytes(count) }

    mutating func u8() throws(EvidenceError) -> UInt8 { try bytes(1)[0] }
    mutating func u16() throws(EvidenceError) -> UInt16 { UInt16(try littleEndian(2)) }
    mutating func u32() throws(EvidenceError) -> UInt32 { UInt32(try littleEndian(4)) }
    mutating func u64() throws(EvidenceError) -> UInt64 { try littleEndian(8) }
    /// A 24-bit little-endian length, as SPDM writes measurement record sizes.
    mutating func u24() throws(EvidenceError) -> UInt32 { UInt32(try littleEndian(3)) }

    mutating func u16BigEndian() throws(EvidenceError) -> UInt16 {
        let raw = try bytes(2)
        return UInt16(raw[0]) << 8 | UInt16(raw[1])
    }

    mutating func u32BigEndian() throws(EvidenceError) -> UInt32 {
        let raw = try bytes(4)
        return raw.reduce(0) { $0 << 8 | UInt32($1) }
    }

    private mutating func littleEndian(_ count: Int) throws(EvidenceError) -> UInt64 {
        let raw = try bytes(count)
        var value: UInt64 = 0
        for (index, byte) in raw.enumerated() { value |= UInt64(byte) << (8 * UInt64(index)) }
        return value
    }

    /// Little-endian integer at a fixed offset of `bytes` (already length-checked by the caller's layout).
    static func littleEndian(_ bytes: [UInt8], at offset: Int, count: Int) -> UInt64 {
        var value: UInt64 = 0
        for index in 0..<count { value |= UInt64(bytes[offset + index]) << (8 * UInt64(index)) }
        return value
    }
}
