/// Reads a TOML document byte by byte, building its tables as it goes (recursive descent, no separate lexer: TOML's
/// tokens depend on where they stand, `1979` being a key on the left of `=` and an integer on the right).
struct TOMLParser {
    /// A place in the document.
    struct Mark {
        var line: Int
        var column: Int
    }

    /// One part of a dotted key, with where it was written.
    struct KeyPart {
        var name: String
        var mark: Mark
    }

    private let bytes: [UInt8]
    private var index = 0
    private var line = 1
    private var lineStart = 0
    private let root = TOMLTableNode(origin: .header, depth: 0, line: 1, column: 1)
    /// The table the last header opened, which `key = value` lines add to.
    private var current: TOMLTableNode

    init(_ bytes: [UInt8]) {
        self.bytes = bytes
        current = root
        // A byte-order mark is not part of the document.
        if bytes.starts(with: [0xEF, 0xBB, 0xBF]) {
            index = 3
            lineStart = 3
        }
    }

    /// The root table, or the first mistake.
    mutating func parseDocument() throws(TOML.Diagnostic) -> TOML.Table {
        try validateUTF8()
        while index < bytes.count {
            skipBlanks()
            switch peek {
            case UInt8(ascii: "["): try parseHeader()
            case UInt8(ascii: "#"), UInt8(ascii: "\n"), UInt8(ascii: "\r"), nil: break
            default: try parseKeyValue(into: current)
            }
            try endLine()
        }
        return root.table()
    }

    // MARK: - Lines, headers and keys

    /// After a statement: blanks, an optional comment, then a newline or the end of the file.
    private mutating func endLine() throws(TOML.Diagnostic) {
        skipBlanks()
        if peek == UInt8(ascii: "#") { try skipComment() }
        guard peek != nil else { return }
        guard try consumeNewline() else { throw failure("expected the end of the line, found \(found)") }
    }

    private mutating func skipComment() throws(TOML.Diagnostic) {
        index += 1
        while let byte = peek, byte != UInt8(ascii: "\n") {
            if byte == UInt8(ascii: "\r"), peek(at: 1) == UInt8(ascii: "\n") { return }
            guard !Self.isControl(byte) else { throw failure("\(Self.scalarName(byte)) is not allowed in a comment") }
            index += 1
        }
    }

    private mutating func parseHeader() throws(TOML.Diagnostic) {
        let start = mark
        index += 1
        let isArray = consume(UInt8(ascii: "["))
        let key = try parseKey()
        guard consume(UInt8(ascii: "]")) else { throw failure("expected `]` to end the table header, found \(found)") }
        if isArray, !consume(UInt8(ascii: "]")) { throw failure("expected `]]` to end the array-of-tables header, found \(found)") }
        var table = root
        for part in key.dropLast() { table = try descendForHeader(table, part, start) }
        current = try isArray ? appendTable(to: table, key, start) : defineTable(in: table, key, start)
    }

    /// A dotted key: `a`, `a.b`, `"a b".'c'`.
    private mutating func parseKey() throws(TOML.Diagnostic) -> [KeyPart] {
        var parts: [KeyPart] = []
        repeat {
            skipBlanks()
            let start = mark
            parts.append(KeyPart(name: try parseSimpleKey(), mark: start))
            skipBlanks()
        } while consume(UInt8(ascii: "."))
        return parts
    }

    private mutating func parseSimpleKey() throws(TOML.Diagnostic) -> String {
        switch peek {
        case UInt8(ascii: "\""):
            guard !startsWith("\"\"\"") else { throw failure("a key cannot be a multi-line string") }
            return try parseBasicString()
        case UInt8(ascii: "'"):
            guard !startsWith("'''") else { throw failure("a key cannot be a multi-line string") }
            return try parseLiteralString()
        default:
            let start = index
            while let byte = peek, Self.isBareKey(byte) { index += 1 }
            guard index > start else { throw failure("expected a key, found \(found)") }
            return String(decoding: bytes[start..<index], as: UTF8.self)
        }
    }

    private mutating func parseKeyValue(into table: TOMLTableNode) throws(TOML.Diagnostic) {
        let key = try parseKey()
        guard consume(UInt8(ascii: "=")) else { throw failure("expected `=` after the key `\(Self.dotted(key))`, found \(found)") }
        skipBlanks()
        var target = table
        for part in key.dropLast() { target = try descendForDottedKey(target, part, key) }
        let last = key[key.count - 1]
        if target.children[last.name] != nil {
            throw failure("duplicate key `\(Self.dotted(key))` (first defined on line \(target.line(of: last.name)))", at: last.mark)
        }
        let value = try parseValue(depth: target.depth + 1)
        target.insert(last.name, .value(value), line: last.mark.line, column: last.mark.column)
    }

    // MARK: - Table structure (TOML 1.0: a table is defined once; dotted keys and headers do not mix)

    private func descendForHeader(_ table: TOMLTableNode, _ part: KeyPart, _ header: Mark) throws(TOML.Diagnostic) -> TOMLTableNode {
        switch table.children[part.name] {
        case nil: return try makeTable(in: table, part, origin: .implicit, at: header)
        case .table(let child): return child
        case .tables(let array): return array.tables[array.tables.count - 1]
        case .value:
            throw failure("key `\(part.name)` already has a value (line \(table.line(of: part.name))), so it cannot hold a table", at: part.mark)
        }
    }

    private func defineTable(in table: TOMLTableNode, _ key: [KeyPart], _ header: Mark) throws(TOML.Diagnostic) -> TOMLTableNode {
        let part = key[key.count - 1]
        let name = Self.dotted(key)
        let first = table.line(of: part.name)
        switch table.children[part.name] {
        case nil:
            return try makeTable(in: table, part, origin: .header, at: header)
        case .table(let child):
            switch child.origin {
            case .implicit:
                child.origin = .header
                return child
            case .header: throw failure("table [\(name)] is defined twice (first on line \(first))", at: header)
            case .dotted, .inline: throw failure("table [\(name)] was already defined by dotted keys on line \(first)", at: header)
            }
        case .tables: throw failure("[\(name)] is an array of tables (line \(first)); it cannot also be a table", at: header)
        case .value: throw failure("key `\(name)` already has a value (line \(first)), so it cannot be a table", at: header)
        }
    }

    private func appendTable(to table: TOMLTableNode, _ key: [KeyPart], _ header: Mark) throws(TOML.Diagnostic) -> TOMLTableNode {
        let part = key[key.count - 1]
        let name = Self.dotted(key)
        switch table.children[part.name] {
        case nil:
            let first = try Self.newTable(.header, depth: table.depth + 2, at: header)
            table.insert(part.name, .tables(TOMLTableArray(first: first)), line: header.line, column: header.column)
            return first
        case .tables(let array):
            let next = try Self.newTable(.header, depth: table.depth + 2, at: header)
            array.tables.append(next)
            return next
        case .table, .value:
            throw failure("`\(name)` is already defined on line \(table.line(of: part.name)); it cannot become an array of tables", at: header)
        }
    }

    private func descendForDottedKey(_ table: TOMLTableNode, _ part: KeyPart, _ key: [KeyPart]) throws(TOML.Diagnostic) -> TOMLTableNode {
        let first = table.line(of: part.name)
        switch table.children[part.name] {
        case nil:
            return try makeTable(in: table, part, origin: .dotted, at: part.mark)
        case .table(let child):
            // A dotted key may only extend what dotted keys of this same table made, never a [header]'s table.
            guard child.origin == .dotted else {
                throw failure(
                    "dotted key `\(Self.dotted(key))` cannot add to table `\(part.name)`, defined by a header on line \(first)", at: part.mark)
            }
            return child
        case .tables:
            throw failure("dotted key `\(Self.dotted(key))` cannot add to the array of tables `\(part.name)` (line \(first))", at: part.mark)
        case .value:
            throw failure("key `\(part.name)` already has a value (line \(first)), so `\(Self.dotted(key))` cannot be defined", at: part.mark)
        }
    }

    private func makeTable(in table: TOMLTableNode, _ part: KeyPart, origin: TOMLTableNode.Origin, at mark: Mark) throws(TOML.Diagnostic)
        -> TOMLTableNode
    {
        let child = try Self.newTable(origin, depth: table.depth + 1, at: mark)
        table.insert(part.name, .table(child), line: mark.line, column: mark.column)
        return child
    }

    private static func newTable(_ origin: TOMLTableNode.Origin, depth: Int, at mark: Mark) throws(TOML.Diagnostic) -> TOMLTableNode {
        guard depth <= TOML.maximumDepth else { throw tooDeep(at: mark) }
        return TOMLTableNode(origin: origin, depth: depth, line: mark.line, column: mark.column)
    }

    private static func tooDeep(at mark: Mark) -> TOML.Diagnostic {
        TOML.Diagnostic(line: mark.line, column: mark.column, message: "tables and arrays nest more than \(TOML.maximumDepth) levels deep")
    }

    // MARK: - Values

    private mutating func parseValue(depth: Int) throws(TOML.Diagnostic) -> TOML.Value {
        let start = mark
        guard depth <= TOML.maximumDepth else { throw Self.tooDeep(at: start) }
        let kind: TOML.Value.Kind
        switch peek {
        case UInt8(ascii: "\""): kind = .string(startsWith("\"\"\"") ? try parseMultilineString(quote: UInt8(ascii: "\"")) : try parseBasicString())
        case UInt8(ascii: "'"): kind = .string(startsWith("'''") ? try parseMultilineString(quote: UInt8(ascii: "'")) : try parseLiteralString())
        case UInt8(ascii: "["): return try parseArray(depth: depth)
        case UInt8(ascii: "{"): return try parseInlineTable(depth: depth)
        case UInt8(ascii: "t") where startsWith("true"):
            index += 4
            kind = .boolean(true)
        case UInt8(ascii: "f") where startsWith("false"):
            index += 5
            kind = .boolean(false)
        case let byte? where Self.isNumberStart(byte): kind = try parseNumber()
        default: throw failure("expected a value, found \(found)")
        }
        return TOML.Value(kind, line: start.line, column: start.column)
    }

    private mutating func parseArray(depth: Int) throws(TOML.Diagnostic) -> TOML.Value {
        let start = mark
        index += 1
        var items: [TOML.Value] = []
        while true {
            try skipArraySpace()
            if consume(UInt8(ascii: "]")) { break }
            items.append(try parseValue(depth: depth + 1))
            try skipArraySpace()
            if consume(UInt8(ascii: ",")) { continue }
            if consume(UInt8(ascii: "]")) { break }
            throw failure(peek == nil ? "the array opened on line \(start.line) is not closed" : "expected `,` or `]` in the array, found \(found)")
        }
        return TOML.Value(.array(items), line: start.line, column: start.column)
    }

    /// Blanks, newlines and comments, all of which may stand between an array's elements.
    private mutating func skipArraySpace() throws(TOML.Diagnostic) {
        while true {
            skipBlanks()
            if peek == UInt8(ascii: "#") { try skipComment() }
            guard try consumeNewline() else { return }
        }
    }

    private mutating func parseInlineTable(depth: Int) throws(TOML.Diagnostic) -> TOML.Value {
        let start = mark
        index += 1
        let table = TOMLTableNode(origin: .inline, depth: depth, line: start.line, column: start.column)
        skipBlanks()
        if consume(UInt8(ascii: "}")) { return table.value }
        while true {
            try parseKeyValue(into: table)
            skipBlanks()
            if consume(UInt8(ascii: "}")) { return table.value }
            guard consume(UInt8(ascii: ",")) else {
                let newline = peek == UInt8(ascii: "\n") || peek == UInt8(ascii: "\r")
                throw failure(newline ? "an inline table must be on one line" : "expected `,` or `}` in the inline table, found \(found)")
            }
            skipBlanks()
            if peek == UInt8(ascii: "}") { throw failure("an inline table cannot end with a comma") }
        }
    }

    // MARK: - Strings

    private mutating func parseBasicString() throws(TOML.Diagnostic) -> String {
        let start = mark
        index += 1
        var text: [UInt8] = []
        while true {
            guard let byte = peek else { throw failure("the string opened here is not closed", at: start) }
            switch byte {
            case UInt8(ascii: "\""):
                index += 1
                return String(decoding: text, as: UTF8.self)
            case UInt8(ascii: "\\"): try parseEscape(into: &text)
            case UInt8(ascii: "\n"), UInt8(ascii: "\r"):
                throw failure("the string opened here is not closed on its line (use \"\"\" for a multi-line string)", at: start)
            default:
                try appendStringByte(byte, to: &text)
            }
        }
    }

    private mutating func parseLiteralString() throws(TOML.Diagnostic) -> String {
        let start = mark
        index += 1
        var text: [UInt8] = []
        while true {
            guard let byte = peek, byte != UInt8(ascii: "\n"), byte != UInt8(ascii: "\r") else {
                throw failure("the string opened here is not closed on its line", at: start)
            }
            if byte == UInt8(ascii: "'") {
                index += 1
                return String(decoding: text, as: UTF8.self)
            }
            try appendStringByte(byte, to: &text)
        }
    }

    /// `"""…"""` (escapes, line-ending backslashes) or `'''…'''` (neither); a newline right after the opening
    /// delimiter is not part of the string, and up to two quotes may stand just inside the closing one.
    private mutating func parseMultilineString(quote: UInt8) throws(TOML.Diagnostic) -> String {
        let start = mark
        index += 3
        _ = try consumeNewline()
        var text: [UInt8] = []
        while true {
            guard let byte = peek else { throw failure("the multi-line string opened here is not closed", at: start) }
            switch byte {
            case quote:
                var run = 0
                while peek(at: run) == quote { run += 1 }
                guard run < 3 || run <= 5 else { throw failure("too many quotes at the end of a multi-line string") }
                text.append(contentsOf: repeatElement(quote, count: run < 3 ? run : run - 3))
                index += run
                if run >= 3 { return String(decoding: text, as: UTF8.self) }
            case UInt8(ascii: "\\") where quote == UInt8(ascii: "\""):
                if lineEndingBackslash() {
                    index += 1
                    while true {
                        skipBlanks()
                        guard try consumeNewline() else { break }
                    }
                } else {
                    try parseEscape(into: &text)
                }
            case UInt8(ascii: "\n"), UInt8(ascii: "\r"):
                _ = try consumeNewline()
                text.append(UInt8(ascii: "\n"))
            default:
                try appendStringByte(byte, to: &text)
            }
        }
    }

    /// Whether the backslash at `index` is the last non-blank character on its line.
    private func lineEndingBackslash() -> Bool {
        var offset = 1
        while peek(at: offset) == UInt8(ascii: " ") || peek(at: offset) == UInt8(ascii: "\t") { offset += 1 }
        return peek(at: offset) == UInt8(ascii: "\n") || (peek(at: offset) == UInt8(ascii: "\r") && peek(at: offset + 1) == UInt8(ascii: "\n"))
    }

    private mutating func appendStringByte(_ byte: UInt8, to text: inout [UInt8]) throws(TOML.Diagnostic) {
        guard !Self.isControl(byte) else { throw failure("\(Self.scalarName(byte)) must be escaped in a string") }
        text.append(byte)
        index += 1
    }

    private mutating func parseEscape(into text: inout [UInt8]) throws(TOML.Diagnostic) {
        let start = mark
        index += 1
        guard let letter = peek else { throw failure("the string is not closed", at: start) }
        index += 1
        let simple: [UInt8: UInt8] = [
            UInt8(ascii: "b"): 0x08, UInt8(ascii: "t"): 0x09, UInt8(ascii: "n"): 0x0A, UInt8(ascii: "f"): 0x0C, UInt8(ascii: "r"): 0x0D,
            UInt8(ascii: "\""): UInt8(ascii: "\""), UInt8(ascii: "\\"): UInt8(ascii: "\\"),
        ]
        if let byte = simple[letter] {
            text.append(byte)
            return
        }
        let digits = letter == UInt8(ascii: "u") ? 4 : letter == UInt8(ascii: "U") ? 8 : 0
        guard digits > 0 else { throw failure("unknown escape sequence `\\\(Self.character(letter))`", at: start) }
        var value: UInt32 = 0
        for _ in 0..<digits {
            guard let byte = peek, let digit = Self.hexValue(byte) else {
                throw failure("`\\\(Self.character(letter))` needs \(digits) hexadecimal digits", at: start)
            }
            value = value << 4 | UInt32(digit)
            index += 1
        }
        guard let scalar = Unicode.Scalar(value) else {
            throw failure("`\\\(Self.character(letter))` escape is not a Unicode scalar value", at: start)
        }
        text.append(contentsOf: Array(String(Character(scalar)).utf8))
    }

    // MARK: - Numbers

    private mutating func parseNumber() throws(TOML.Diagnostic) -> TOML.Value.Kind {
        let start = mark
        let first = index
        while let byte = peek, Self.isNumberByte(byte) { index += 1 }
        let token = String(decoding: bytes[first..<index], as: UTF8.self)
        switch TOMLNumber.parse(token) {
        case .number(let kind): return kind
        case .outOfRange: throw failure("integer `\(token)` does not fit in 64 bits", at: start)
        case .invalid where TOMLNumber.looksLikeDateOrTime(token):
            throw failure("dates and times are not supported here; write the value as a string", at: start)
        case .invalid: throw failure("`\(token)` is not a valid number", at: start)
        }
    }

    // MARK: - Bytes

    private var peek: UInt8? { index < bytes.count ? bytes[index] : nil }

    private func peek(at offset: Int) -> UInt8? { index + offset < bytes.count ? bytes[index + offset] : nil }

    private func startsWith(_ text: StaticString) -> Bool {
        guard index + text.utf8CodeUnitCount <= bytes.count else { return false }
        return (0..<text.utf8CodeUnitCount).allSatisfy { bytes[index + $0] == text.utf8Start[$0] }
    }

    private mutating func consume(_ byte: UInt8) -> Bool {
        guard peek == byte else { return false }
        index += 1
        return true
    }

    /// Consumes `\n` or `\r\n`; a lone `\r` is a mistake.
    private mutating func consumeNewline() throws(TOML.Diagnostic) -> Bool {
        if peek == UInt8(ascii: "\r") {
            guard peek(at: 1) == UInt8(ascii: "\n") else { throw failure("a carriage return must be followed by a newline") }
            index += 1
        } else if peek != UInt8(ascii: "\n") {
            return false
        }
        index += 1
        line += 1
        lineStart = index
        return true
    }

    private mutating func skipBlanks() {
        while peek == UInt8(ascii: " ") || peek == UInt8(ascii: "\t") { index += 1 }
    }

    private var mark: Mark {
        // Columns count characters: every byte but UTF-8 continuation bytes starts one.
        Mark(line: line, column: bytes[lineStart..<index].reduce(1) { $0 + ($1 & 0xC0 == 0x80 ? 0 : 1) })
    }

    private func failure(_ message: String, at place: Mark? = nil) -> TOML.Diagnostic {
        let place = place ?? mark
        return TOML.Diagnostic(line: place.line, column: place.column, message: message)
    }

    /// What stands at `index`, for "expected …, found …".
    private var found: String {
        guard let byte = peek else { return "the end of the file" }
        if byte == UInt8(ascii: "\n") || byte == UInt8(ascii: "\r") { return "the end of the line" }
        let end = min(bytes.count, index + 4)
        guard let scalar = String(decoding: bytes[index..<end], as: UTF8.self).unicodeScalars.first else { return "the end of the file" }
        return scalar.properties.generalCategory == .control ? Self.scalarName(scalar) : "`\(Character(scalar))`"
    }

    /// Finds the first byte that is not UTF-8, so every later step can decode without checking.
    private mutating func validateUTF8() throws(TOML.Diagnostic) {
        var iterator = bytes[index...].makeIterator()
        var parser = Unicode.UTF8.ForwardParser()
        var offset = index
        while true {
            switch parser.parseScalar(from: &iterator) {
            case .valid(let scalar): offset += scalar.count
            case .emptyInput: return
            case .error:
                let lines = bytes[..<offset].split(separator: UInt8(ascii: "\n"), omittingEmptySubsequences: false)
                let column = (lines.last ?? []).reduce(1) { $0 + ($1 & 0xC0 == 0x80 ? 0 : 1) }
                throw TOML.Diagnostic(line: lines.count, column: column, message: "the file is not valid UTF-8")
            }
        }
    }

    // MARK: - Character classes

    private static func isBareKey(_ byte: UInt8) -> Bool {
        switch byte {
        case UInt8(ascii: "A")...UInt8(ascii: "Z"), UInt8(ascii: "a")...UInt8(ascii: "z"), UInt8(ascii: "0")...UInt8(ascii: "9"),
            UInt8(ascii: "_"), UInt8(ascii: "-"):
            true
        default: false
        }
    }

    private static func isNumberStart(_ byte: UInt8) -> Bool {
        (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(byte) || byte == UInt8(ascii: "+") || byte == UInt8(ascii: "-")
            || byte == UInt8(ascii: "i") || byte == UInt8(ascii: "n")
    }

    /// Bytes a number (or a date, which is refused) may contain.
    private static func isNumberByte(_ byte: UInt8) -> Bool {
        isBareKey(byte) || byte == UInt8(ascii: "+") || byte == UInt8(ascii: ".") || byte == UInt8(ascii: ":")
    }

    /// Control characters, which TOML allows in strings and comments only escaped (tab excepted).
    private static func isControl(_ byte: UInt8) -> Bool {
        (byte < 0x20 && byte != UInt8(ascii: "\t")) || byte == 0x7F
    }

    private static func hexValue(_ byte: UInt8) -> UInt8? {
        switch byte {
        case UInt8(ascii: "0")...UInt8(ascii: "9"): byte - UInt8(ascii: "0")
        case UInt8(ascii: "a")...UInt8(ascii: "f"): byte - UInt8(ascii: "a") + 10
        case UInt8(ascii: "A")...UInt8(ascii: "F"): byte - UInt8(ascii: "A") + 10
        default: nil
        }
    }

    private static func character(_ byte: UInt8) -> String {
        byte >= 0x20 && byte < 0x7F ? String(UnicodeScalar(byte)) : scalarName(byte)
    }

    private static func scalarName(_ byte: UInt8) -> String { scalarName(Unicode.Scalar(byte)) }

    private static func scalarName(_ scalar: Unicode.Scalar) -> String {
        let hex = String(scalar.value, radix: 16, uppercase: true)
        return "control character U+" + String(repeating: "0", count: max(0, 4 - hex.count)) + hex
    }

    private static func dotted(_ key: [KeyPart]) -> String {
        key.map { part in part.name.allSatisfy { isBareKey($0.asciiValue ?? 0) } && !part.name.isEmpty ? part.name : "\"\(part.name)\"" }
            .joined(separator: ".")
    }
}
