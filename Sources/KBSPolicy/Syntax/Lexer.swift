/// Turns a policy file's bytes into tokens, reporting every lexical error and recovering from each.
struct Lexer {
    /// Files larger than this are refused before lexing: policies are written by people.
    static let maximumFileSize = 1 << 20

    private let file: SourceFile
    private let bytes: [UInt8]
    private var offset = 0
    private(set) var diagnostics: [Diagnostic] = []

    init(file: SourceFile) {
        self.file = file
        self.bytes = file.bytes
    }

    /// All tokens, ending with `.endOfFile`.
    mutating func tokenize() -> [Token] {
        var tokens: [Token] = []
        if bytes.count > Self.maximumFileSize {
            diagnostics.append(
                Diagnostic(.fileTooLarge, "file is \(bytes.count) bytes; the limit is \(Self.maximumFileSize)", at: nil, path: file.path))
            tokens.append(Token(kind: .endOfFile, span: span(0, 0), startsLine: true))
            return tokens
        }
        var pendingComments: [String] = []
        var sawNewline = true
        // Line breaks since the last comment or token: two or more mean a blank line the formatter keeps.
        var newlines = 0
        while true {
            // Skip blanks and collect comments, noting line breaks.
            while offset < bytes.count {
                let byte = bytes[offset]
                if byte == UInt8(ascii: "\n") {
                    sawNewline = true
                    newlines += 1
                    offset += 1
                } else if byte == UInt8(ascii: " ") || byte == UInt8(ascii: "\t") || byte == UInt8(ascii: "\r") {
                    offset += 1
                } else if byte == UInt8(ascii: "/"), peek(1) == UInt8(ascii: "/") {
                    let start = offset
                    while offset < bytes.count, bytes[offset] != UInt8(ascii: "\n") { offset += 1 }
                    let comment = String(decoding: bytes[start..<offset], as: UTF8.self)
                    if !sawNewline, !tokens.isEmpty, tokens[tokens.count - 1].trailingComment == nil {
                        tokens[tokens.count - 1].trailingComment = trimmedTrailingSpace(comment)
                    } else {
                        if newlines >= 2, !pendingComments.isEmpty { pendingComments.append("") }
                        pendingComments.append(trimmedTrailingSpace(comment))
                    }
                    newlines = 0
                } else {
                    break
                }
            }
            guard offset < bytes.count else {
                var end = Token(kind: .endOfFile, span: span(bytes.count, bytes.count), startsLine: true)
                end.leadingComments = pendingComments
                tokens.append(end)
                return tokens
            }
            if newlines >= 2, !pendingComments.isEmpty { pendingComments.append("") }
            newlines = 0
            var token = next()
            token.startsLine = sawNewline
            token.leadingComments = pendingComments
            pendingComments = []
            sawNewline = false
            tokens.append(token)
        }
    }

    private func trimmedTrailingSpace(_ text: String) -> String {
        var text = Substring(text)
        while let last = text.last, last == " " || last == "\t" || last == "\r" { text = text.dropLast() }
        return String(text)
    }

    private func peek(_ ahead: Int) -> UInt8? {
        offset + ahead < bytes.count ? bytes[offset + ahead] : nil
    }

    private func span(_ start: Int, _ end: Int) -> SourceSpan {
        SourceSpan(file: file, start: start, end: end)
    }

    private static func isIdentifierStart(_ byte: UInt8) -> Bool {
        (byte >= UInt8(ascii: "a") && byte <= UInt8(ascii: "z")) || (byte >= UInt8(ascii: "A") && byte <= UInt8(ascii: "Z"))
            || byte == UInt8(ascii: "_")
    }

    private static func isDigit(_ byte: UInt8) -> Bool { byte >= UInt8(ascii: "0") && byte <= UInt8(ascii: "9") }

    private mutating func next() -> Token {
        let start = offset
        let byte = bytes[offset]
        if Self.isIdentifierStart(byte) {
            while offset < bytes.count, Self.isIdentifierStart(bytes[offset]) || Self.isDigit(bytes[offset]) { offset += 1 }
            let word = String(decoding: bytes[start..<offset], as: UTF8.self)
            if offset < bytes.count, bytes[offset] == UInt8(ascii: "\""), ["hex", "v", "time", "tier"].contains(word) {
                let value = lexString()
                return Token(kind: value.map { .typedString(prefix: word, value: $0) } ?? .invalid, span: span(start, offset), startsLine: false)
            }
            if let keyword = Keyword(rawValue: word) {
                return Token(kind: .keyword(keyword), span: span(start, offset), startsLine: false)
            }
            return Token(kind: .identifier(word), span: span(start, offset), startsLine: false)
        }
        if Self.isDigit(byte) { return lexNumber() }
        if byte == UInt8(ascii: "\"") {
            let value = lexString()
            return Token(kind: value.map { .string($0) } ?? .invalid, span: span(start, offset), startsLine: false)
        }
        // Two-byte operators first.
        if let second = peek(1) {
            let pair = String(decoding: [byte, second], as: UTF8.self)
            if let symbol = Symbol(rawValue: pair) {
                offset += 2
                return Token(kind: .symbol(symbol), span: span(start, offset), startsLine: false)
            }
        }
        if byte < 0x80, let symbol = Symbol(rawValue: String(UnicodeScalar(byte))) {
            offset += 1
            return Token(kind: .symbol(symbol), span: span(start, offset), startsLine: false)
        }
        // Skip one whole UTF-8 character so the message shows it intact.
        offset += 1
        while offset < bytes.count, bytes[offset] & 0xC0 == 0x80 { offset += 1 }
        let text = String(decoding: bytes[start..<offset], as: UTF8.self)
        diagnostics.append(Diagnostic(.invalidCharacter, "unexpected character `\(text)`", at: span(start, offset)))
        return Token(kind: .invalid, span: span(start, offset), startsLine: false)
    }

    private static let durationUnits: [String: Int64] = [
        "ns": 1, "us": 1_000, "ms": 1_000_000, "s": 1_000_000_000, "m": 60_000_000_000, "h": 3_600_000_000_000,
        "d": 86_400_000_000_000,
    ]

    private mutating func lexNumber() -> Token {
        let start = offset
        var total: Int64 = 0
        var isDuration = false
        var overflow = false
        while true {
            let digitsStart = offset
            while offset < bytes.count, Self.isDigit(bytes[offset]) { offset += 1 }
            let digits = String(decoding: bytes[digitsStart..<offset], as: UTF8.self)
            let unitStart = offset
            while offset < bytes.count, Self.isIdentifierStart(bytes[offset]) { offset += 1 }
            let unit = String(decoding: bytes[unitStart..<offset], as: UTF8.self)
            guard let value = Int64(digits) else {
                overflow = true
                break
            }
            if unit.isEmpty {
                if isDuration {
                    diagnostics.append(Diagnostic(.invalidLiteral, "duration part `\(digits)` needs a unit", at: span(digitsStart, offset)))
                    return Token(kind: .invalid, span: span(start, offset), startsLine: false)
                }
                return Token(kind: .integer(value), span: span(start, offset), startsLine: false)
            }
            guard let scale = Self.durationUnits[unit] else {
                diagnostics.append(
                    Diagnostic(
                        .invalidLiteral, "unknown duration unit `\(unit)`", at: span(unitStart, offset),
                        notes: ["help: units are ns, us, ms, s, m, h and d"]))
                return Token(kind: .invalid, span: span(start, offset), startsLine: false)
            }
            let (scaled, o1) = value.multipliedReportingOverflow(by: scale)
            let (sum, o2) = total.addingReportingOverflow(scaled)
            if o1 || o2 { overflow = true }
            total = sum
            isDuration = true
            guard offset < bytes.count, Self.isDigit(bytes[offset]) else { break }
        }
        if overflow {
            diagnostics.append(Diagnostic(.invalidLiteral, "number is too large", at: span(start, offset)))
            return Token(kind: .invalid, span: span(start, offset), startsLine: false)
        }
        let text = String(decoding: bytes[start..<offset], as: UTF8.self)
        return Token(kind: .duration(total, text), span: span(start, offset), startsLine: false)
    }

    /// Reads a double-quoted string starting at the quote; nil after reporting an error.
    private mutating func lexString() -> String? {
        let start = offset
        offset += 1
        var scalars = String.UnicodeScalarView()
        var chunkStart = offset
        var result = ""
        while offset < bytes.count {
            let byte = bytes[offset]
            if byte == UInt8(ascii: "\"") {
                result += String(decoding: bytes[chunkStart..<offset], as: UTF8.self)
                offset += 1
                return result + String(scalars)
            }
            if byte == UInt8(ascii: "\n") { break }
            if byte == UInt8(ascii: "\\") {
                result += String(decoding: bytes[chunkStart..<offset], as: UTF8.self)
                let escapeStart = offset
                offset += 1
                guard offset < bytes.count else { break }
                let escaped = bytes[offset]
                offset += 1
                switch escaped {
                case UInt8(ascii: "\""): result += "\""
                case UInt8(ascii: "\\"): result += "\\"
                case UInt8(ascii: "n"): result += "\n"
                case UInt8(ascii: "t"): result += "\t"
                case UInt8(ascii: "r"): result += "\r"
                case UInt8(ascii: "u"):
                    var valid = false
                    if offset < bytes.count, bytes[offset] == UInt8(ascii: "{") {
                        let hexStart = offset + 1
                        var end = hexStart
                        while end < bytes.count, end - hexStart < 7, bytes[end] != UInt8(ascii: "}") { end += 1 }
                        if end < bytes.count, bytes[end] == UInt8(ascii: "}"),
                            let code = UInt32(String(decoding: bytes[hexStart..<end], as: UTF8.self), radix: 16),
                            let scalar = UnicodeScalar(code)
                        {
                            result.unicodeScalars.append(scalar)
                            offset = end + 1
                            valid = true
                        }
                    }
                    if !valid {
                        diagnostics.append(
                            Diagnostic(.invalidLiteral, "invalid unicode escape; write `\\u{1F600}`", at: span(escapeStart, offset)))
                    }
                default:
                    diagnostics.append(
                        Diagnostic(
                            .invalidLiteral, "unknown escape `\\\(String(UnicodeScalar(escaped)))`", at: span(escapeStart, offset),
                            notes: ["help: escapes are \\\", \\\\, \\n, \\t, \\r and \\u{…}"]))
                }
                chunkStart = offset
                continue
            }
            offset += 1
        }
        diagnostics.append(Diagnostic(.unterminatedString, "unterminated string", at: span(start, offset)))
        _ = scalars.popLast()
        return nil
    }
}
