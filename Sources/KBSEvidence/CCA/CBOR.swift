import KBSClaims

/// A decoded CBOR data item (RFC 8949), restricted to what attestation tokens use.
///
/// Only definite lengths are accepted: no CCA token needs indefinite-length items, and refusing them keeps every
/// size known before it is read.
indirect enum CBOR: Equatable, Sendable {
    /// Major type 0.
    case unsigned(UInt64)
    /// Major type 1: the value is `-1 - n`.
    case negative(UInt64)
    case bytes([UInt8])
    case text(String)
    case array([CBOR])
    /// Entries in encoded order; keys are unique.
    case map([CBORMapEntry])
    case tagged(UInt64, CBOR)
    case bool(Bool)
    case null
    case undefined
    /// Any other simple value.
    case simple(UInt8)
    /// A half, single or double float, as its raw bits (never interpreted here).
    case float(UInt64)

    /// The value as a signed integer when it is an integer that fits `Int64`.
    var integer: Int64? {
        switch self {
        case .unsigned(let value): value <= UInt64(Int64.max) ? Int64(value) : nil
        case .negative(let value): value <= UInt64(Int64.max) ? -1 - Int64(value) : nil
        default: nil
        }
    }

    /// The entry of a map whose key is the integer `key`.
    subscript(key: Int64) -> CBOR? {
        guard case .map(let entries) = self else { return nil }
        return entries.first { $0.key.integer == key }?.value
    }

    /// A short name for messages.
    var typeName: String {
        switch self {
        case .unsigned, .negative: "an integer"
        case .bytes: "a byte string"
        case .text: "a text string"
        case .array: "an array"
        case .map: "a map"
        case .tagged(let tag, _): "tag \(tag)"
        case .bool: "a boolean"
        case .null: "null"
        case .undefined: "undefined"
        case .simple: "a simple value"
        case .float: "a float"
        }
    }
}

/// One key/value pair of a CBOR map.
struct CBORMapEntry: Equatable, Sendable {
    var key: CBOR
    var value: CBOR
}

/// A bounded CBOR decoder: nesting depth and input size are limited, every read is bounds-checked, and anything
/// outside the accepted subset is `malformed`.
struct CBORDecoder {
    /// The deepest nesting of arrays, maps and tags accepted (a CCA token's payload needs 4).
    static let maximumDepth = 16
    /// The largest input accepted.
    static let maximumSize = 64 * 1024
    /// The most entries one map may have: duplicate checks are quadratic, and token maps hold a dozen.
    static let maximumMapEntries = 128

    private let bytes: [UInt8]
    private var offset = 0
    private let what: String

    private init(_ bytes: [UInt8], what: String) {
        self.bytes = bytes
        self.what = what
    }

    /// Decodes exactly one data item that spans all of `bytes`.
    static func decode(_ bytes: [UInt8], what: String) throws(EvidenceError) -> CBOR {
        guard bytes.count <= maximumSize else {
            throw EvidenceError(.malformed, "\(what) is \(bytes.count) bytes, more than the \(maximumSize) accepted")
        }
        var decoder = CBORDecoder(bytes, what: what)
        let item = try decoder.item(depth: 0)
        guard decoder.offset == bytes.count else {
            throw EvidenceError(.malformed, "\(what) has \(bytes.count - decoder.offset) bytes after its CBOR item")
        }
        return item
    }

    private func fail(_ message: String) -> EvidenceError {
        EvidenceError(.malformed, "\(what): \(message) at byte \(offset)")
    }

    private mutating func byte() throws(EvidenceError) -> UInt8 {
        guard offset < bytes.count else { throw fail("truncated CBOR") }
        defer { offset += 1 }
        return bytes[offset]
    }

    private mutating func take(_ count: UInt64) throws(EvidenceError) -> [UInt8] {
        guard count <= UInt64(bytes.count - offset) else { throw fail("truncated CBOR (needs \(count) bytes)") }
        let length = Int(count)
        defer { offset += length }
        return Array(bytes[offset..<offset + length])
    }

    /// The argument that follows an initial byte with additional information `info`.
    private mutating func argument(_ info: UInt8) throws(EvidenceError) -> UInt64 {
        switch info {
        case 0...23: return UInt64(info)
        case 24...27:
            var value: UInt64 = 0
            for _ in 0..<(1 << (info - 24)) { value = value << 8 | UInt64(try byte()) }
            return value
        case 31: throw fail("indefinite-length CBOR is not accepted")
        default: throw fail("reserved CBOR additional information \(info)")
        }
    }

    private mutating func item(depth: Int) throws(EvidenceError) -> CBOR {
        guard depth < Self.maximumDepth else { throw fail("CBOR nested deeper than \(Self.maximumDepth)") }
        let initial = try byte()
        let major = initial >> 5
        let info = initial & 0x1F
        if major == 7 { return try simple(info) }
        let argument = try argument(info)
        switch major {
        case 0: return .unsigned(argument)
        case 1: return .negative(argument)
        case 2: return .bytes(try take(argument))
        case 3:
            let raw = try take(argument)
            guard let text = String(validating: raw, as: UTF8.self) else { throw fail("text string is not UTF-8") }
            return .text(text)
        case 4:
            // Every element takes at least one byte, so a count beyond what is left is a lie, not an allocation.
            guard argument <= UInt64(bytes.count - offset) else { throw fail("array of \(argument) items overruns the input") }
            var elements: [CBOR] = []
            elements.reserveCapacity(Int(argument))
            for _ in 0..<argument { elements.append(try item(depth: depth + 1)) }
            return .array(elements)
        case 5:
            guard argument <= UInt64(Self.maximumMapEntries) else { throw fail("map of \(argument) entries is too large") }
            var entries: [CBORMapEntry] = []
            entries.reserveCapacity(Int(argument))
            for _ in 0..<argument {
                let keyOffset = offset
                let key = try item(depth: depth + 1)
                // A repeated key lets two readers see different claims in the same signed bytes.
                guard !entries.contains(where: { $0.key == key }) else {
                    throw EvidenceError(.malformed, "\(what): duplicate map key at byte \(keyOffset)")
                }
                entries.append(CBORMapEntry(key: key, value: try item(depth: depth + 1)))
            }
            return .map(entries)
        default:
            return .tagged(argument, try item(depth: depth + 1))
        }
    }

    private mutating func simple(_ info: UInt8) throws(EvidenceError) -> CBOR {
        switch info {
        case 20: return .bool(false)
        case 21: return .bool(true)
        case 22: return .null
        case 23: return .undefined
        case 0...19: return .simple(info)
        case 24:
            let value = try byte()
            guard value >= 32 else { throw fail("simple value \(value) in two bytes") }
            return .simple(value)
        case 25...27:
            var bits: UInt64 = 0
            for _ in 0..<(1 << (info - 24)) { bits = bits << 8 | UInt64(try byte()) }
            return .float(bits)
        case 31: throw fail("unexpected CBOR break")
        default: throw fail("reserved CBOR additional information \(info)")
        }
    }
}

/// Canonical CBOR encoding (shortest heads, definite lengths) of the few shapes COSE signs.
enum CBOREncoder {
    /// The head of an item of `major` type with argument `value`, in its shortest form.
    static func head(_ major: UInt8, _ value: UInt64) -> [UInt8] {
        let type = major << 5
        switch value {
        case 0..<24: return [type | UInt8(value)]
        case 24..<0x100: return [type | 24, UInt8(value)]
        case 0x100..<0x1_0000: return [type | 25] + bigEndian(value, count: 2)
        case 0x1_0000..<0x1_0000_0000: return [type | 26] + bigEndian(value, count: 4)
        default: return [type | 27] + bigEndian(value, count: 8)
        }
    }

    /// A byte string.
    static func bytes(_ value: [UInt8]) -> [UInt8] { head(2, UInt64(value.count)) + value }

    /// A text string.
    static func text(_ value: String) -> [UInt8] {
        let utf8 = Array(value.utf8)
        return head(3, UInt64(utf8.count)) + utf8
    }

    private static func bigEndian(_ value: UInt64, count: Int) -> [UInt8] {
        (0..<count).reversed().map { UInt8(truncatingIfNeeded: value >> (8 * UInt64($0))) }
    }
}
