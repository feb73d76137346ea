/// Base64url without padding (RFC 4648 §5), as JOSE, capability tokens and session ids write it, and standard base64
/// (RFC 4648 §4) beside it: the one base64 codec of the package.
///
/// Decoding is strict: no `=`, no whitespace, no other alphabet, and unused trailing bits must be zero, so each byte
/// string has exactly one text form and a token cannot be altered without changing its bytes. Only `decodeLenient`
/// relaxes this, for the attesters that write base64 loosely.
package enum Base64URL {
    @usableFromInline static let urlTable = table(Array("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_".utf8))
    @usableFromInline static let standardTable = table(Array("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/".utf8))
    /// Both alphabets at once: `-` and `+` are 62, `_` and `/` are 63.
    @usableFromInline static let eitherTable = zip(urlTable, standardTable).map { max($0, $1) }
    @usableFromInline static let urlAlphabet = Array("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_".utf8)
    @usableFromInline static let standardAlphabet = Array("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/".utf8)

    /// `bytes` as base64url without padding.
    @inlinable
    package static func encode(_ bytes: some Collection<UInt8>) -> String {
        encode(Array(bytes), alphabet: urlAlphabet, padded: false)
    }

    /// `bytes` as standard base64 with its `=` padding.
    @inlinable
    package static func encodeStandard(_ bytes: some Collection<UInt8>) -> String {
        encode(Array(bytes), alphabet: standardAlphabet, padded: true)
    }

    /// The bytes of unpadded base64url text; nil for anything else (padding, `+`, `/`, whitespace, stray bits).
    @inlinable
    package static func decode(_ text: some Collection<UInt8>) -> [UInt8]? {
        decode(Array(text), table: urlTable, padded: false, canonical: true)
    }

    /// `decode` for text held as a string.
    @inlinable
    package static func decode(_ text: some StringProtocol) -> [UInt8]? {
        decode(Array(text.utf8), table: urlTable, padded: false, canonical: true)
    }

    /// The bytes of standard base64 with its `=` padding (as HTTP structured fields and PEM write it); nil otherwise.
    @inlinable
    package static func decodeStandard(_ text: some Collection<UInt8>) -> [UInt8]? {
        decode(Array(text), table: standardTable, padded: true, canonical: true)
    }

    /// The bytes of base64 in either alphabet, `=` padding optional (up to two, and only at the end), line breaks
    /// ignored, unused trailing bits not checked: what TPM and Azure attesters and CCA trust-anchor files write. The
    /// bytes are verified (signatures, digests) after decoding, so the text need not be canonical.
    package static func decodeLenient(_ text: String) -> [UInt8]? {
        var input: [UInt8] = []
        input.reserveCapacity(text.utf8.count)
        var padding = 0
        for byte in text.utf8 {
            switch byte {
            case UInt8(ascii: "="): padding += 1
            case UInt8(ascii: "\n"), UInt8(ascii: "\r"): continue
            default:
                guard padding == 0 else { return nil }
                input.append(byte)
            }
        }
        guard padding <= 2 else { return nil }
        return decode(input, table: eitherTable, padded: false, canonical: false)
    }

    @usableFromInline
    static func decode(_ text: [UInt8], table: [Int8], padded: Bool, canonical: Bool) -> [UInt8]? {
        var input = text
        if padded {
            guard input.count % 4 == 0 else { return nil }
            var padding = 0
            while padding < 2, input.last == UInt8(ascii: "=") {
                input.removeLast()
                padding += 1
            }
        }
        guard input.count % 4 != 1 else { return nil }
        var output: [UInt8] = []
        output.reserveCapacity(input.count * 3 / 4)
        var buffer: UInt32 = 0
        var bits = 0
        for byte in input {
            let value = table[Int(byte)]
            guard value >= 0 else { return nil }
            buffer = (buffer << 6) | UInt32(value)
            bits += 6
            if bits >= 8 {
                bits -= 8
                output.append(UInt8(truncatingIfNeeded: buffer >> UInt32(bits)))
            }
        }
        // Leftover bits must be zero: otherwise two texts would decode to the same bytes.
        guard !canonical || buffer & ((1 << UInt32(bits)) - 1) == 0 else { return nil }
        return output
    }

    @usableFromInline
    static func encode(_ bytes: [UInt8], alphabet: [UInt8], padded: Bool) -> String {
        var output: [UInt8] = []
        output.reserveCapacity((bytes.count + 2) / 3 * 4)
        var buffer: UInt32 = 0
        var bits = 0
        for byte in bytes {
            buffer = (buffer << 8) | UInt32(byte)
            bits += 8
            while bits >= 6 {
                bits -= 6
                output.append(alphabet[Int((buffer >> UInt32(bits)) & 0x3F)])
            }
        }
        if bits > 0 { output.append(alphabet[Int((buffer << UInt32(6 - bits)) & 0x3F)]) }
        if padded { while output.count % 4 != 0 { output.append(UInt8(ascii: "=")) } }
        return String(decoding: output, as: UTF8.self)
    }

    private static func table(_ alphabet: [UInt8]) -> [Int8] {
        var table = [Int8](repeating: -1, count: 256)
        for (index, byte) in alphabet.enumerated() { table[Int(byte)] = Int8(index) }
        return table
    }
}
