import KBSClaims

/// How to decode JSON into values of one type, built once per compiled policy from the schema.
///
/// Records decode only the attributes some rule reads; the others are skipped (still checked to be JSON).
indirect enum DecodePlan: Sendable {
    case bool, int, string, hex, time, duration, version, tier
    case list(DecodePlan)
    case set(DecodePlan)
    case map(DecodePlan)
    case record(RecordPlan)
    /// An entity id given as a string.
    case entityID
}

/// The decoding plan of one record type.
final class RecordPlan: @unchecked Sendable {
    let names: [[UInt8]]
    let displayNames: [String]
    /// Each name's length and first eight bytes, compared before the full bytes.
    private let keys: UnsafeMutableBufferPointer<(count: Int, prefix: UInt64)>
    private let nameBytes: UnsafeMutableBufferPointer<UnsafeMutableBufferPointer<UInt8>>
    let plans: [DecodePlan]
    /// Whether a rule reads the field; unread fields are skipped.
    let used: [Bool]
    let required: [Bool]

    init(names: [String], plans: [DecodePlan], used: [Bool], required: [Bool]) {
        self.names = names.map { Array($0.utf8) }
        self.displayNames = names
        self.plans = plans
        self.used = used
        self.required = required
        keys = .allocate(capacity: names.count)
        nameBytes = .allocate(capacity: names.count)
        for (index, name) in self.names.enumerated() {
            let copy = UnsafeMutableBufferPointer<UInt8>.allocate(capacity: max(1, name.count))
            _ = copy.initialize(from: name)
            nameBytes[index] = copy
            keys[index] = (name.count, Self.prefix(UnsafeBufferPointer(copy), count: name.count))
        }
    }

    deinit {
        for buffer in nameBytes { buffer.deallocate() }
        nameBytes.deallocate()
        keys.deallocate()
    }

    @inline(__always)
    private static func prefix(_ bytes: UnsafeBufferPointer<UInt8>, count: Int) -> UInt64 {
        var value: UInt64 = 0
        for index in 0..<min(8, count) { value |= UInt64(bytes[index]) << UInt64(index * 8) }
        return value
    }

    @inline(__always)
    func index(of key: UnsafeBufferPointer<UInt8>) -> Int? {
        let count = key.count
        let wanted = Self.prefix(key, count: count)
        for index in 0..<keys.count where keys[index].count == count && keys[index].prefix == wanted {
            if count <= 8 || memcmp(nameBytes[index].baseAddress!, key.baseAddress!, count) == 0 { return index }
        }
        return nil
    }
}

@_silgen_name("memcmp")
private func memcmp(_ a: UnsafeRawPointer, _ b: UnsafeRawPointer, _ count: Int) -> Int32

/// A value that does not fit the schema, with where it was found.
struct DecodeError: Error, Sendable {
    var message: String
    var offset: Int
    /// Dotted path from the root, e.g. `evidence.tcb_svn`.
    var path: [String]

    var pathText: String { path.isEmpty ? "input" : path.joined(separator: ".") }
}

/// Decodes JSON bytes straight into typed values: no intermediate tree, no Foundation.
enum TypedDecoder {
    /// Inputs larger than this are refused before decoding.
    static let maximumSize = 4 << 20

    static func decode(_ bytes: UnsafeBufferPointer<UInt8>, as plan: DecodePlan) throws(DecodeError) -> Value {
        var value = Value.absent
        try decode(bytes, as: plan, into: &value)
        return value
    }

    /// Decodes into `value`, reusing the storage of what it holds (records, lists, byte strings) where nothing else
    /// holds that storage: a pooled frame decodes each input over the previous one, allocating nothing in the steady
    /// state. On an error `value` is left partly decoded.
    static func decode(_ bytes: UnsafeBufferPointer<UInt8>, as plan: DecodePlan, into value: inout Value) throws(DecodeError) {
        try scanning(bytes) { (scanner) throws(any Error) in try decodeValue(&scanner, plan, into: &value) }
    }

    /// Decodes a record input into `record`'s slots in place (see ``decode(_:as:into:)``).
    static func decode(_ bytes: UnsafeBufferPointer<UInt8>, record plan: RecordPlan, into record: inout Record) throws(DecodeError) {
        try scanning(bytes) { (scanner) throws(any Error) in try decodeRecord(&scanner, plan, into: &record.slots) }
    }

    /// Runs `body` over a scanner of the whole of `bytes`, which must then be at its end; any error becomes a
    /// ``DecodeError``.
    @inline(__always)
    private static func scanning(
        _ bytes: UnsafeBufferPointer<UInt8>, _ body: (inout JSONScanner) throws(any Error) -> Void
    ) throws(DecodeError) {
        guard bytes.count <= maximumSize else {
            throw DecodeError(message: "input is \(bytes.count) bytes; the limit is \(maximumSize)", offset: 0, path: [])
        }
        var scanner = JSONScanner(bytes)
        do {
            try body(&scanner)
            try scanner.expectEnd()
        } catch let error as JSONError {
            throw DecodeError(message: error.message, offset: error.offset, path: [])
        } catch let error as DecodeError {
            throw error
        } catch {
            throw DecodeError(message: "\(error)", offset: scanner.offset, path: [])
        }
    }

    static func decode(_ bytes: [UInt8], as plan: DecodePlan) throws(DecodeError) -> Value {
        try bytes.withUnsafeBufferPointer { (buffer) throws(DecodeError) -> Value in try decode(buffer, as: plan) }
    }

    private static func mismatch(_ scanner: inout JSONScanner, _ expected: String) -> DecodeError {
        let found: String
        switch scanner.peek() {
        case UInt8(ascii: "{"): found = "an object"
        case UInt8(ascii: "["): found = "an array"
        case UInt8(ascii: "\""): found = "a string"
        case UInt8(ascii: "t"), UInt8(ascii: "f"): found = "a boolean"
        case UInt8(ascii: "n"): found = "null"
        case 0: found = "end of input"
        default: found = "a number"
        }
        return DecodeError(message: "expected \(expected), found \(found)", offset: scanner.offset, path: [])
    }

    private static func decodeValue(_ scanner: inout JSONScanner, _ plan: DecodePlan) throws(any Error) -> Value {
        var value = Value.absent
        try decodeValue(&scanner, plan, into: &value)
        return value
    }

    /// One value into `slot`, reusing the storage of the record, list or byte string it held.
    private static func decodeValue(_ scanner: inout JSONScanner, _ plan: DecodePlan, into slot: inout Value) throws(any Error) {
        switch plan {
        case .bool:
            let byte = scanner.peek()
            guard byte == UInt8(ascii: "t") || byte == UInt8(ascii: "f"), let value = try scanner.readLiteral() else {
                throw mismatch(&scanner, "a boolean")
            }
            slot = .bool(value)
        case .int:
            slot = .int(try readInteger(&scanner))
        case .string, .entityID:
            guard scanner.peek() == UInt8(ascii: "\"") else { throw mismatch(&scanner, "a string") }
            if let simple = try scanner.readSimpleString() {
                slot = .string(try utf8String(simple, &scanner))
                return
            }
            slot = .string(try scanner.readString())
        case .hex:
            guard scanner.peek() == UInt8(ascii: "\"") else { throw mismatch(&scanner, "a hex string") }
            let start = scanner.offset
            if let simple = try scanner.readSimpleString() {
                // The previous byte string's storage takes the new bytes when nothing else holds it.
                if case .bytes(var bytes) = slot {
                    slot = .absent
                    if decodeHex(simple, into: &bytes) {
                        slot = .bytes(bytes)
                        return
                    }
                    throw DecodeError(message: "expected a hex string", offset: start, path: [])
                }
                guard let bytes = Hex.decode(utf8: simple) else { throw DecodeError(message: "expected a hex string", offset: start, path: []) }
                slot = .bytes(bytes)
                return
            }
            guard let bytes = Hex.decode(try scanner.readString()) else {
                throw DecodeError(message: "expected a hex string", offset: start, path: [])
            }
            slot = .bytes(bytes)
        case .time:
            let start = scanner.offset
            guard scanner.peek() == UInt8(ascii: "\""), let nanos = Timestamp.parse(try scanner.readString()) else {
                throw DecodeError(message: "expected an RFC 3339 time", offset: start, path: [])
            }
            slot = .time(nanos)
        case .duration:
            if scanner.peek() == UInt8(ascii: "\"") {
                let start = scanner.offset
                guard let nanos = DurationParser.parse(try scanner.readString()) else {
                    throw DecodeError(message: "expected a duration such as \"90s\"", offset: start, path: [])
                }
                slot = .duration(nanos)
                return
            }
            let seconds = try readInteger(&scanner)
            let (nanos, overflow) = seconds.multipliedReportingOverflow(by: 1_000_000_000)
            guard !overflow else { throw scanner.error("duration is out of range") }
            slot = .duration(nanos)
        case .version:
            let start = scanner.offset
            guard scanner.peek() == UInt8(ascii: "\""), let version = Version(try scanner.readString()) else {
                throw DecodeError(message: "expected a version string such as \"1.2.3\"", offset: start, path: [])
            }
            slot = .version(version)
        case .tier:
            let start = scanner.offset
            if scanner.peek() == UInt8(ascii: "\"") {
                guard let tier = PrivacyTier(text: try scanner.readString()) else {
                    throw DecodeError(message: "expected a privacy tier (0–4 or a tier name)", offset: start, path: [])
                }
                slot = .tier(tier.rawValue)
                return
            }
            let number = try readInteger(&scanner)
            guard (0...4).contains(number) else {
                throw DecodeError(message: "privacy tier \(number) is out of range 0–4", offset: start, path: [])
            }
            slot = .tier(Int(number))
        case .list(let element):
            guard scanner.peek() == UInt8(ascii: "[") else { throw mismatch(&scanner, "an array") }
            var values: [Value]
            if case .list(let old) = slot {
                values = old
                slot = .absent
            } else {
                values = []
            }
            var count = 0
            if try scanner.open(UInt8(ascii: "["), close: UInt8(ascii: "]")) {
                repeat {
                    do {
                        // Elements decode over the previous list's elements, in place.
                        if count < values.count {
                            try decodeValue(&scanner, element, into: &values[count])
                        } else {
                            var value = Value.absent
                            try decodeValue(&scanner, element, into: &value)
                            values.append(value)
                        }
                        count += 1
                    } catch var error as DecodeError {
                        error.path.insert("[\(count)]", at: 0)
                        throw error
                    }
                } while try scanner.nextElement(close: UInt8(ascii: "]"))
            }
            if values.count > count { values.removeSubrange(count...) }
            slot = .list(values)
        case .set(let element):
            guard case .list(let values) = try decodeValue(&scanner, .list(element)) else {
                slot = .set([])
                return
            }
            slot = .set(Set(values))
        case .map(let element):
            guard scanner.peek() == UInt8(ascii: "{") else { throw mismatch(&scanner, "an object") }
            var map: [String: Value] = [:]
            guard try scanner.open(UInt8(ascii: "{"), close: UInt8(ascii: "}")) else {
                slot = .map(map)
                return
            }
            repeat {
                let keyOffset = scanner.offset
                let key = try scanner.readString()
                try scanner.expect(UInt8(ascii: ":"))
                do {
                    let value = try decodeValue(&scanner, element)
                    guard map.updateValue(value, forKey: key) == nil else {
                        throw DecodeError(message: "duplicate member `\(key)`", offset: keyOffset, path: [])
                    }
                } catch var error as DecodeError {
                    error.path.insert(key, at: 0)
                    throw error
                }
            } while try scanner.nextElement(close: UInt8(ascii: "}"))
            slot = .map(map)
        case .record(let record):
            if case .record(var old) = slot, old.slots.count == record.names.count {
                slot = .absent
                try decodeRecord(&scanner, record, into: &old.slots)
                slot = .record(old)
            } else {
                var slots = [Value](repeating: .absent, count: record.names.count)
                try decodeRecord(&scanner, record, into: &slots)
                slot = .record(Record(slots))
            }
        }
    }

    /// Decodes an object into `slots` (one per attribute of the plan), decoding each used attribute over its old value;
    /// attributes the object lacks become absent.
    static func decodeRecord(_ scanner: inout JSONScanner, _ plan: RecordPlan, into slots: inout [Value]) throws(any Error) {
        guard scanner.peek() == UInt8(ascii: "{") else { throw mismatch(&scanner, "an object") }
        var seen: UInt64 = 0
        var overflowSeen = Set<Int>()
        if try scanner.open(UInt8(ascii: "{"), close: UInt8(ascii: "}")) {
            repeat {
                let keyOffset = scanner.offset
                let index: Int?
                if let simple = try scanner.readSimpleString() {
                    index = plan.index(of: simple)
                } else {
                    let key = Array(try scanner.readString().utf8)
                    index = key.withUnsafeBufferPointer { plan.index(of: $0) }
                }
                try scanner.expect(UInt8(ascii: ":"))
                if let index {
                    // Duplicates of declared attributes are refused whether or not a rule reads them.
                    let duplicate: Bool
                    if index < 64 {
                        duplicate = seen & (1 << UInt64(index)) != 0
                        seen |= 1 << UInt64(index)
                    } else {
                        duplicate = !overflowSeen.insert(index).inserted
                    }
                    if duplicate {
                        throw DecodeError(message: "duplicate member `\(plan.displayNames[index])`", offset: keyOffset, path: [])
                    }
                }
                if let index, plan.used[index] {
                    do {
                        try decodeValue(&scanner, plan.plans[index], into: &slots[index])
                    } catch var error as DecodeError {
                        error.path.insert(plan.displayNames[index], at: 0)
                        throw error
                    }
                } else {
                    try scanner.skipValue()
                }
            } while try scanner.nextElement(close: UInt8(ascii: "}"))
        }
        for index in slots.indices {
            let present = index < 64 ? seen & (1 << UInt64(index)) != 0 : overflowSeen.contains(index)
            guard !present || !plan.used[index] else { continue }
            if plan.used[index] && plan.required[index] {
                throw DecodeError(message: "missing required attribute `\(plan.displayNames[index])`", offset: scanner.offset, path: [])
            }
            if case .absent = slots[index] {} else { slots[index] = .absent }
        }
    }

    /// Hex digits into `bytes`, over its storage when it is the right size and held by nothing else; false when the
    /// text is not hex (the same rule as `Hex.decode` without a prefix).
    @inline(__always)
    private static func decodeHex(_ text: UnsafeBufferPointer<UInt8>, into bytes: inout [UInt8]) -> Bool {
        guard text.count % 2 == 0 else { return false }
        let count = text.count / 2
        if bytes.count != count { bytes = [UInt8](repeating: 0, count: count) }
        return bytes.withUnsafeMutableBufferPointer { out in
            for index in 0..<count {
                guard let high = nibble(text[2 * index]), let low = nibble(text[2 * index + 1]) else { return false }
                out[index] = high << 4 | low
            }
            return true
        }
    }

    /// A hex digit's value, either case; nil for anything else. Wrapping subtraction makes each range one comparison.
    @inline(__always)
    private static func nibble(_ digit: UInt8) -> UInt8? {
        let decimal = digit &- UInt8(ascii: "0")
        if decimal < 10 { return decimal }
        let letter = (digit | 0x20) &- UInt8(ascii: "a")
        return letter < 6 ? letter + 10 : nil
    }

    /// A string from raw bytes: ASCII directly, anything else validated as UTF-8.
    @inline(__always)
    private static func utf8String(_ bytes: UnsafeBufferPointer<UInt8>, _ scanner: inout JSONScanner) throws(any Error) -> String {
        var ascii = true
        for byte in bytes where byte >= 0x80 {
            ascii = false
            break
        }
        if ascii { return String(decoding: bytes, as: UTF8.self) }
        guard let text = String(validating: bytes, as: UTF8.self) else { throw scanner.error("string is not valid UTF-8") }
        return text
    }

    @inline(__always)
    private static func readInteger(_ scanner: inout JSONScanner) throws(any Error) -> Int64 {
        let byte = scanner.peek()
        guard byte == UInt8(ascii: "-") || (byte >= 48 && byte <= 57) else { throw mismatch(&scanner, "an integer") }
        // Fast path: a short run of digits ending the number.
        let bytes = scanner.bytes
        var index = scanner.offset
        var negative = false
        if bytes[index] == UInt8(ascii: "-") {
            negative = true
            index += 1
        }
        let start = index
        var value: Int64 = 0
        while index < bytes.count, index - start < 18, bytes[index] >= 48, bytes[index] <= 57 {
            value = value * 10 + Int64(bytes[index] - 48)
            index += 1
        }
        let ended =
            index == bytes.count
            || !(bytes[index] >= 48 && bytes[index] <= 57 || bytes[index] == UInt8(ascii: ".")
                || bytes[index] == UInt8(ascii: "e") || bytes[index] == UInt8(ascii: "E"))
        if index > start, ended, !(bytes[start] == 48 && index - start > 1) {
            scanner.offset = index
            return negative ? -value : value
        }
        let offset = scanner.offset
        let (integer, text) = try scanner.readNumber()
        guard let integer else { throw DecodeError(message: "expected an integer, found `\(text)`", offset: offset, path: []) }
        return integer
    }
}

/// Durations written as strings in JSON: `"90s"`, `"1h30m"`, `"250ms"`.
enum DurationParser {
    static func parse(_ text: String) -> Int64? {
        let units: [String: Int64] = [
            "ns": 1, "us": 1_000, "ms": 1_000_000, "s": 1_000_000_000, "m": 60_000_000_000, "h": 3_600_000_000_000,
            "d": 86_400_000_000_000,
        ]
        var total: Int64 = 0
        var rest = Substring(text)
        var negative = false
        if rest.first == "-" {
            negative = true
            rest = rest.dropFirst()
        }
        guard !rest.isEmpty else { return nil }
        while !rest.isEmpty {
            let digits = rest.prefix { $0.isASCII && $0.isNumber }
            rest = rest.dropFirst(digits.count)
            let unit = rest.prefix { $0.isASCII && $0.isLetter }
            rest = rest.dropFirst(unit.count)
            guard let value = Int64(digits), let scale = units[String(unit)] else { return nil }
            let (scaled, o1) = value.multipliedReportingOverflow(by: scale)
            let (sum, o2) = total.addingReportingOverflow(scaled)
            guard !o1, !o2 else { return nil }
            total = sum
        }
        return negative ? -total : total
    }
}
