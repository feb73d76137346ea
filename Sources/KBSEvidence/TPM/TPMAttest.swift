import KBSClaims

/// A TPM 2.0 `TPMS_ATTEST` carrying a `TPMS_QUOTE_INFO` (TPM 2.0 Part 2 §10.12), the message a TPM signs for a quote.
///
/// Everything is big-endian. Only quotes are accepted: a certify or time attestation signed by the same key must not
/// pass as a PCR quote.
struct TPMAttest: Sendable, Equatable {
    /// `TPM_GENERATED_VALUE`: only the TPM itself writes this in front of what it signs, so a caller cannot get the
    /// AK to sign a forged `TPMS_ATTEST` through `TPM2_Sign`.
    static let generatedMagic: UInt32 = 0xFF54_4347
    /// `TPM_ST_ATTEST_QUOTE`.
    static let quoteType: UInt16 = 0x8018
    /// `TPM_ALG_SHA256`.
    static let sha256: UInt16 = 0x000B
    /// The largest message accepted; a quote over every bank of 24 PCRs stays well below this.
    static let maximumSize = 4096

    /// One `TPMS_PCR_SELECTION`: a hash bank and the PCR indices chosen in it, ascending.
    struct Selection: Sendable, Equatable {
        var hash: UInt16
        var indices: [Int]
    }

    /// `qualifiedSigner`: the TPM name of the signing key's hierarchy (`TPM2B_NAME`).
    var qualifiedSigner: [UInt8]
    /// `extraData`: the caller's nonce, the report data of a quote.
    var extraData: [UInt8]
    /// `clockInfo.clock`: milliseconds the TPM has been running since it was last cleared.
    var clock: UInt64
    var resetCount: UInt32
    var restartCount: UInt32
    /// `clockInfo.safe`: whether `clock` never went backwards.
    var safe: Bool
    /// Vendor-defined firmware version.
    var firmwareVersion: UInt64
    /// `pcrSelect`, in the order the TPM hashed the PCRs.
    var selections: [Selection]
    /// `pcrDigest`: the hash of the selected PCR values, concatenated in selection order.
    var pcrDigest: [UInt8]

    /// The selected PCR indices in the order their values were hashed.
    var selectedIndices: [Int] { selections.flatMap(\.indices) }

    /// Parses `bytes`, which must be one whole quote `TPMS_ATTEST` and nothing more.
    init(_ bytes: [UInt8]) throws(EvidenceError) {
        guard bytes.count <= Self.maximumSize else {
            throw EvidenceError(.malformed, "TPM attestation is \(bytes.count) bytes, more than \(Self.maximumSize)")
        }
        var reader = ByteReader(bytes, what: "TPM attestation")
        let magic = try reader.u32BigEndian()
        guard magic == Self.generatedMagic else {
            throw EvidenceError(.malformed, "TPM attestation magic is 0x\(String(magic, radix: 16)), not TPM_GENERATED_VALUE 0xff544347")
        }
        let type = try reader.u16BigEndian()
        guard type == Self.quoteType else {
            throw EvidenceError(.unsupported, "TPM attestation type is 0x\(String(type, radix: 16)), not a quote (0x8018)")
        }
        qualifiedSigner = try Self.sized(&reader)
        extraData = try Self.sized(&reader)
        let clockHigh = UInt64(try reader.u32BigEndian())
        clock = clockHigh << 32 | UInt64(try reader.u32BigEndian())
        resetCount = try reader.u32BigEndian()
        restartCount = try reader.u32BigEndian()
        let safeByte = try reader.u8()
        guard safeByte <= 1 else { throw EvidenceError(.malformed, "TPM clockInfo.safe is \(safeByte), not a TPMI_YES_NO") }
        safe = safeByte == 1
        let firmwareHigh = UInt64(try reader.u32BigEndian())
        firmwareVersion = firmwareHigh << 32 | UInt64(try reader.u32BigEndian())

        let count = try reader.u32BigEndian()
        // TPM 2.0 caps a selection list at HASH_COUNT banks; a handful is all any TPM has.
        guard count >= 1, count <= 16 else {
            throw EvidenceError(.malformed, "TPM quote selects \(count) PCR banks (expected 1 to 16)")
        }
        var selections: [Selection] = []
        for _ in 0..<count {
            let hash = try reader.u16BigEndian()
            let sizeOfSelect = Int(try reader.u8())
            // PCR_SELECT_MAX is 4 bytes (32 PCRs) on every TPM in the field; PC-client TPMs use 3.
            guard sizeOfSelect <= 4 else {
                throw EvidenceError(.malformed, "TPM PCR selection is \(sizeOfSelect) bytes (at most 4)")
            }
            let bitmap = try reader.bytes(sizeOfSelect)
            var indices: [Int] = []
            for (octet, byte) in bitmap.enumerated() {
                for bit in 0..<8 where byte & (1 << bit) != 0 { indices.append(octet * 8 + bit) }
            }
            selections.append(Selection(hash: hash, indices: indices))
        }
        self.selections = selections
        pcrDigest = try Self.sized(&reader)
        guard reader.remaining == 0 else {
            throw EvidenceError(.malformed, "TPM attestation has \(reader.remaining) bytes after the quote")
        }
    }

    /// A `TPM2B`: a big-endian 16-bit size, then that many bytes.
    private static func sized(_ reader: inout ByteReader) throws(EvidenceError) -> [UInt8] {
        let size = Int(try reader.u16BigEndian())
        return try reader.bytes(size)
    }
}
