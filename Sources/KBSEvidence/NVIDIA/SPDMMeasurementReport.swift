import KBSClaims

/// An SPDM 1.1 GET_MEASUREMENTS exchange as NVIDIA GPUs and NVSwitches report it: the 37-byte request followed by
/// the signed MEASUREMENTS response.
///
/// Layout (all little-endian): request `{0x11, 0xE0, param1, param2, nonce[32], slot}`; response `{0x11, 0x60,
/// param1, param2, number of blocks u8, record length u24, DMTF measurement blocks, nonce[32], opaque length u16,
/// opaque data, signature[96]}`. The signature is ECDSA P-384 (raw `r ‖ s`) over SHA-384 of everything before it.
struct SPDMMeasurementReport {
    /// One DMTF measurement block.
    struct Block: Equatable {
        /// The SPDM measurement index (1-based; RIM index `i` is block `i + 1`).
        var index: Int
        /// The DMTF value type byte (bit 7: raw bitstream rather than digest).
        var valueType: UInt8
        var value: [UInt8]
    }

    static let requestLength = 37
    static let signatureLength = 96
    /// How many bytes may follow the signature; they must all be zero. One capture in Trustee's test data
    /// (`hopper_coco_report1`) ends in a single 0x00 after the signature; anything longer or non-zero is refused.
    static let maximumTrailingZeros = 8
    /// The largest report accepted: 255 blocks of 1 KiB plus opaque data stays far below this.
    static let maximumSize = 1 << 20

    /// The request's nonce (request bytes 4..<36): the caller's freshness value.
    let requestNonce: [UInt8]
    /// The responder's own nonce.
    let responseNonce: [UInt8]
    let blocks: [Block]
    /// The measurement record as reported (the concatenated DMTF blocks).
    let record: [UInt8]
    let opaque: NVIDIAOpaqueData
    /// Request ‖ response up to (not including) the signature: what the signature covers.
    let signedBytes: [UInt8]
    let signature: [UInt8]

    init(_ bytes: [UInt8]) throws(EvidenceError) {
        guard bytes.count <= Self.maximumSize else {
            throw EvidenceError(.malformed, "SPDM report is \(bytes.count) bytes, more than \(Self.maximumSize)")
        }
        var reader = ByteReader(bytes, what: "SPDM report")
        let requestVersion = try reader.u8()
        let requestCode = try reader.u8()
        guard requestCode == 0xE0 else {
            throw EvidenceError(.malformed, "not an SPDM GET_MEASUREMENTS request (code 0x\(Hex.encode([requestCode])))")
        }
        guard requestVersion == 0x11 else {
            throw EvidenceError(.unsupported, "SPDM version 0x\(Hex.encode([requestVersion])) (only 1.1 is supported)")
        }
        try reader.skip(2)
        requestNonce = try reader.bytes(32)
        try reader.skip(1)  // slot
        let responseVersion = try reader.u8()
        let responseCode = try reader.u8()
        guard responseCode == 0x60 else {
            throw EvidenceError(.malformed, "not an SPDM MEASUREMENTS response (code 0x\(Hex.encode([responseCode])))")
        }
        guard responseVersion == requestVersion else {
            throw EvidenceError(.malformed, "SPDM response version 0x\(Hex.encode([responseVersion])) differs from the request's")
        }
        try reader.skip(2)
        let blockCount = Int(try reader.u8())
        let recordLength = Int(try reader.u24())
        record = try reader.bytes(recordLength)
        blocks = try Self.parseBlocks(record, count: blockCount)
        responseNonce = try reader.bytes(32)
        let opaqueLength = Int(try reader.u16())
        opaque = try NVIDIAOpaqueData(try reader.bytes(opaqueLength))
        let signedEnd = reader.offset
        signature = try reader.bytes(Self.signatureLength)
        let trailing = try reader.bytes(reader.remaining)
        guard trailing.count <= Self.maximumTrailingZeros, trailing.allSatisfy({ $0 == 0 }) else {
            throw EvidenceError(.malformed, "SPDM report has \(trailing.count) unexpected bytes after the signature")
        }
        signedBytes = Array(bytes[0..<signedEnd])
    }

    private static func parseBlocks(_ record: [UInt8], count: Int) throws(EvidenceError) -> [Block] {
        var reader = ByteReader(record, what: "SPDM measurement record")
        var blocks: [Block] = []
        var previous = 0
        while reader.remaining > 0 {
            let index = Int(try reader.u8())
            let specification = try reader.u8()
            let size = Int(try reader.u16())
            guard specification & 0x01 == 1 else {
                throw EvidenceError(.unsupported, "measurement block \(index) is not in DMTF format (spec 0x\(Hex.encode([specification])))")
            }
            var inner = ByteReader(try reader.bytes(size), what: "measurement block \(index)")
            let valueType = try inner.u8()
            let valueSize = Int(try inner.u16())
            let value = try inner.bytes(valueSize)
            guard inner.remaining == 0 else {
                throw EvidenceError(.malformed, "measurement block \(index) is \(size) bytes but holds a \(valueSize)-byte value")
            }
            guard index > previous else { throw EvidenceError(.malformed, "measurement block indices are not increasing at \(index)") }
            previous = index
            blocks.append(Block(index: index, valueType: valueType, value: value))
        }
        guard blocks.count == count else {
            throw EvidenceError(.malformed, "SPDM response announces \(count) measurement blocks but holds \(blocks.count)")
        }
        return blocks
    }
}
