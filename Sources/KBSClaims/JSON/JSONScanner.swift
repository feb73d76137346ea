/// A JSON problem with the byte offset where it was found.
package struct JSONError: Error, Sendable {
    package var message: String
    package var offset: Int

    @inlinable
    package init(message: String, offset: Int) {
        self.message = message
        self.offset = offset
    }
}

/// Reads JSON tokens from UTF-8 bytes (RFC 8259), strictly: no comments, no trailing commas, no NaN.
///
/// Shared by the generic tree parser and the schema-driven decoder, so both accept exactly the same syntax.
/// Package API (KBSPolicy decodes policy input with it, KBSIdentity reads tokens with it), inlinable because it is
/// the hot path of every decision.
@frozen
package struct JSONScanner: ~Copyable {
    /// Nesting deeper than this is refused rather than recursed into.
    package static let maximumDepth = 64

    package let bytes: UnsafeBufferPointer<UInt8>
    package var offset = 0
    package var depth = 0

    @inlinable
    package init(_ bytes: UnsafeBufferPointer<UInt8>) { self.bytes = bytes }

    @inlinable
    @inline(__always)
    package mutating func skipWhitespace() {
        while offset < bytes.count {
            let byte = bytes[offset]
            guard byte == 0x20 || byte == 0x0A || byte == 0x0D || byte == 0x09 else { return }
            offset += 1
        }
    }

    /// The next significant byte, without consuming it; 0 at the end.
    @inlinable
    @inline(__always)
    package mutating func peek() -> UInt8 {
        skipWhitespace()
        return offset < bytes.count ? bytes[offset] : 0
    }

    @inlinable
    @inline(__always)
    package mutating func expect(_ byte: UInt8) throws(JSONError) {
        guard peek() == byte else { throw error("expected `\(Character(UnicodeScalar(byte)))`") }
        offset += 1
    }

    @inlinable
    package func error(_ message: String) -> JSONError {
        if offset >= bytes.count { return JSONError(message: message + ", found end of input", offset: offset) }
        return JSONError(message: message, offset: offset)
    }

    @inlinable
    package mutating func enter() throws(JSONError) {
        depth += 1
        if depth > Self.maximumDepth { throw error("nesting is deeper than \(Self.maximumDepth) levels") }
    }

    /// After a value inside an object or array: consumes `,` and returns true, or sees `close` and returns false.
    @inlinable
    @inline(__always)
    package mutating func nextElement(close: UInt8) throws(JSONError) -> Bool {
        let byte = peek()
        if byte == UInt8(ascii: ",") {
            offset += 1
            return true
        }
        if byte == close {
            offset += 1
            depth -= 1
            return false
        }
        throw error("expected `,` or `\(Character(UnicodeScalar(close)))`")
    }

    /// Opens an object or array; returns false (and consumes the close) when it is empty.
    @inlinable
    @inline(__always)
    package mutating func open(_ opening: UInt8, close: UInt8) throws(JSONError) -> Bool {
        try expect(opening)
        try enter()
        if peek() == close {
            offset += 1
            depth -= 1
            return false
        }
        return true
    }

    /// The raw bytes of a string without escapes, or nil when it has escapes (then use `readString`).
    /// Leaves the offset after the closing quote when it returns bytes.
    @inlinable
    @inline(__always)
    package mutating func readSimpleString() throws(JSONError) -> UnsafeBufferPointer<UInt8>? {
        guard peek() == UInt8(ascii: "\"") else { throw error("expected a string") }
        let start = offset + 1
        var index = start
        while index < bytes.count {
            let byte = bytes[index]
            if byte == UInt8(ascii: "\"") {
                offset = index + 1
                return UnsafeBufferPointer(rebasing: bytes[start..<index])
            }
            if byte == UInt8(ascii: "\\") || byte < 0x20 { return nil }
            index += 1
        }
        offset = index
        throw error("unterminated string")
    }

    /// Reads a whole string, decoding escapes and checking UTF-8.
    @inlinable
    package mutating func readString() throws(JSONError) -> String {
        if let simple = try readSimpleString() {
            guard let text = String(validating: simple, as: UTF8.self) else { throw error("string is not valid UTF-8") }
            return text
        }
        offset += 1
        var out: [UInt8] = []
        while offset < bytes.count {
            let byte = bytes[offset]
            switch byte {
            case UInt8(ascii: "\""):
                offset += 1
                guard let text = String(validating: out, as: UTF8.self) else { throw error("string is not valid UTF-8") }
                return text
            case UInt8(ascii: "\\"):
                offset += 1
                guard offset < bytes.count else { throw error("unterminated escape") }
                let escaped = bytes[offset]
                offset += 1
                switch escaped {
                case UInt8(ascii: "\""), UInt8(ascii: "\\"), UInt8(ascii: "/"): out.append(escaped)
                case UInt8(ascii: "b"): out.append(0x08)
                case UInt8(ascii: "f"): out.append(0x0C)
                case UInt8(ascii: "n"): out.append(0x0A)
                case UInt8(ascii: "r"): out.append(0x0D)
                case UInt8(ascii: "t"): out.append(0x09)
                case UInt8(ascii: "u"):
                    var scalar = try readHex4()
                    if (0xD800..<0xDC00).contains(scalar) {
                        guard offset + 1 < bytes.count, bytes[offset] == UInt8(ascii: "\\"), bytes[offset + 1] == UInt8(ascii: "u")
                        else { throw error("unpaired surrogate") }
                        offset += 2
                        let low = try readHex4()
                        guard (0xDC00..<0xE000).contains(low) else { throw error("unpaired surrogate") }
                        scalar = 0x10000 + ((scalar - 0xD800) << 10) + (low - 0xDC00)
                    } else if (0xDC00..<0xE000).contains(scalar) {
                        throw error("unpaired surrogate")
                    }
                    guard let unicode = UnicodeScalar(scalar) else { throw error("invalid escape") }
                    out.append(contentsOf: String(Character(unicode)).utf8)
                default:
                    offset -= 1
                    throw error("invalid escape")
                }
            default:
                guard byte >= 0x20 else { throw error("control character in string") }
                out.append(byte)
                offset += 1
            }
        }
        throw error("unterminated string")
    }

    @usableFromInline
    mutating func readHex4() throws(JSONError) -> UInt32 {
        guard offset + 4 <= bytes.count else { throw error("short unicode escape") }
        var value: UInt32 = 0
        for _ in 0..<4 {
            let byte = bytes[offset]
            let nibble: UInt32
            switch byte {
            case 48...57: nibble = UInt32(byte - 48)
            case 97...102: nibble = UInt32(byte - 87)
            case 65...70: nibble = UInt32(byte - 55)
            default: throw error("invalid unicode escape")
            }
            value = value << 4 | nibble
            offset += 1
        }
        return value
    }

    /// Reads a number; integers come back exact, others as nil integer with the text kept.
    @inlinable
    package mutating func readNumber() throws(JSONError) -> (integer: Int64?, text: Substring) {
        _ = peek()
        let start = offset
        var negative = false
        if offset < bytes.count, bytes[offset] == UInt8(ascii: "-") {
            negative = true
            offset += 1
        }
        let digitsStart = offset
        var value: Int64 = 0
        var overflow = false
        while offset < bytes.count, bytes[offset] >= 48, bytes[offset] <= 57 {
            let (m, o1) = value.multipliedReportingOverflow(by: 10)
            let (s, o2) = m.subtractingReportingOverflow(Int64(bytes[offset] - 48))
            value = s
            overflow = overflow || o1 || o2
            offset += 1
        }
        guard offset > digitsStart else { throw error("expected a value") }
        if bytes[digitsStart] == UInt8(ascii: "0"), offset - digitsStart > 1 { throw error("leading zero in number") }
        var isInteger = true
        if offset < bytes.count, bytes[offset] == UInt8(ascii: ".") {
            isInteger = false
            offset += 1
            let fraction = offset
            while offset < bytes.count, bytes[offset] >= 48, bytes[offset] <= 57 { offset += 1 }
            guard offset > fraction else { throw error("expected digits after `.`") }
        }
        if offset < bytes.count, bytes[offset] == UInt8(ascii: "e") || bytes[offset] == UInt8(ascii: "E") {
            isInteger = false
            offset += 1
            if offset < bytes.count, bytes[offset] == UInt8(ascii: "+") || bytes[offset] == UInt8(ascii: "-") { offset += 1 }
            let exponent = offset
            while offset < bytes.count, bytes[offset] >= 48, bytes[offset] <= 57 { offset += 1 }
            guard offset > exponent else { throw error("expected digits in the exponent") }
        }
        let text = Substring(String(decoding: UnsafeBufferPointer(rebasing: bytes[start..<offset]), as: UTF8.self))
        if !isInteger || overflow { return (nil, text) }
        if negative { return (value, text) }
        guard value != .min else { return (nil, text) }
        return (-value, text)
    }

    /// Reads one of `true`, `false`, `null`.
    @inlinable
    package mutating func readLiteral() throws(JSONError) -> Bool? {
        _ = peek()
        func matches(_ word: StaticString) -> Bool {
            let count = word.utf8CodeUnitCount
            guard offset + count <= bytes.count else { return false }
            for i in 0..<count where bytes[offset + i] != word.utf8Start[i] { return false }
            return true
        }
        if matches("true") {
            offset += 4
            return true
        }
        if matches("false") {
            offset += 5
            return false
        }
        if matches("null") {
            offset += 4
            return nil
        }
        throw error("expected a value")
    }

    /// Skips one value of any kind, checking its syntax.
    @inlinable
    package mutating func skipValue() throws(JSONError) {
        switch peek() {
        case UInt8(ascii: "{"):
            guard try open(UInt8(ascii: "{"), close: UInt8(ascii: "}")) else { return }
            repeat {
                if try readSimpleString() == nil { _ = try readString() }
                try expect(UInt8(ascii: ":"))
                try skipValue()
            } while try nextElement(close: UInt8(ascii: "}"))
        case UInt8(ascii: "["):
            guard try open(UInt8(ascii: "["), close: UInt8(ascii: "]")) else { return }
            repeat { try skipValue() } while try nextElement(close: UInt8(ascii: "]"))
        case UInt8(ascii: "\""):
            if try readSimpleString() == nil { _ = try readString() }
        case UInt8(ascii: "t"), UInt8(ascii: "f"), UInt8(ascii: "n"):
            _ = try readLiteral()
        default:
            _ = try readNumber()
        }
    }

    /// Fails unless only whitespace remains.
    @inlinable
    package mutating func expectEnd() throws(JSONError) {
        skipWhitespace()
        guard offset == bytes.count else { throw error("unexpected data after the value") }
    }
}
