/// The small part of RFC 8941 structured fields that RFC 9421 signatures use: a dictionary whose members are an
/// inner list of strings with parameters (`Signature-Input`) or a byte sequence (`Signature`).
enum StructuredFields {
    enum Item: Equatable {
        case string(String)
        case integer(Int64)
        case bytes([UInt8])
        case token(String)
        case bool(Bool)
    }

    struct Member {
        var name: String
        /// The inner list's strings, or nil when the member is a single item.
        var list: [String]?
        var item: Item?
        var parameters: [(name: String, value: Item)]
        /// The member's value exactly as serialized, which `@signature-params` must repeat byte for byte.
        var rawValue: Substring
    }

    /// Parses a dictionary; nil when it does not follow the grammar (or uses more of it than signatures need).
    static func dictionary(_ text: String) -> [Member]? {
        var scanner = Scanner(text: Substring(text))
        var members: [Member] = []
        scanner.skipSpaces()
        while !scanner.atEnd {
            guard let name = scanner.key(), scanner.take("=") else { return nil }
            let start = scanner.rest.startIndex
            var member = Member(name: name, list: nil, item: nil, parameters: [], rawValue: "")
            if scanner.take("(") {
                var list: [String] = []
                scanner.skipSpaces()
                while !scanner.take(")") {
                    guard case .string(let component)? = scanner.item() else { return nil }
                    // Component parameters (`;sf`, `;key`, `;req`) are not supported: refuse rather than mis-sign.
                    guard scanner.rest.first != ";" else { return nil }
                    list.append(component)
                    guard scanner.rest.first == " " || scanner.rest.first == ")" else { return nil }
                    scanner.skipSpaces()
                }
                member.list = list
            } else {
                guard let item = scanner.item() else { return nil }
                member.item = item
            }
            while scanner.take(";") {
                guard let key = scanner.key() else { return nil }
                let value: Item = scanner.take("=") ? (scanner.item() ?? .bool(false)) : .bool(true)
                if case .bool(false) = value, scanner.rest.first != "?" { return nil }
                member.parameters.append((key, value))
            }
            member.rawValue = text[start..<scanner.rest.startIndex]
            members.append(member)
            scanner.skipSpaces()
            if scanner.atEnd { break }
            guard scanner.take(",") else { return nil }
            scanner.skipSpaces()
            if scanner.atEnd { return nil }
        }
        return members
    }

    private struct Scanner {
        var rest: Substring

        init(text: Substring) { rest = text }

        var atEnd: Bool { rest.isEmpty }

        mutating func skipSpaces() { while rest.first == " " || rest.first == "\t" { rest.removeFirst() } }

        mutating func take(_ character: Character) -> Bool {
            guard rest.first == character else { return false }
            rest.removeFirst()
            return true
        }

        mutating func key() -> String? {
            guard let first = rest.first, first.isLowercase || first == "*" else { return nil }
            let key = rest.prefix { $0.isLowercase || $0.isNumber || "_-.*".contains($0) }
            rest = rest.dropFirst(key.count)
            return String(key)
        }

        mutating func item() -> Item? {
            guard let first = rest.first else { return nil }
            if first == "\"" {
                rest.removeFirst()
                var value = ""
                while let character = rest.popFirst() {
                    if character == "\"" { return .string(value) }
                    if character == "\\" {
                        guard let escaped = rest.popFirst(), escaped == "\"" || escaped == "\\" else { return nil }
                        value.append(escaped)
                    } else {
                        guard character.isASCII, let ascii = character.asciiValue, ascii >= 0x20, ascii < 0x7F else { return nil }
                        value.append(character)
                    }
                }
                return nil
            }
            if first == ":" {
                rest.removeFirst()
                let body = rest.prefix { $0 != ":" }
                rest = rest.dropFirst(body.count)
                guard take(":"), let bytes = Base64URL.decodeStandard(body.utf8) else { return nil }
                return .bytes(bytes)
            }
            if first == "-" || first.isNumber {
                let digits = rest.prefix { $0 == "-" || $0.isNumber }
                rest = rest.dropFirst(digits.count)
                guard digits.count <= 16, let value = Int64(digits) else { return nil }
                return .integer(value)
            }
            if first == "?" {
                rest.removeFirst()
                guard let flag = rest.popFirst(), flag == "0" || flag == "1" else { return nil }
                return .bool(flag == "1")
            }
            if first.isLetter || first == "*" {
                let token = rest.prefix { $0.isLetter || $0.isNumber || ":/!#$%&'*+-.^_`|~".contains($0) }
                rest = rest.dropFirst(token.count)
                return .token(String(token))
            }
            return nil
        }
    }
}
