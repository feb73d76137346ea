import KBSClaims

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

    /// Parses a dictionary (RFC 8941 §4.2.2); nil when it does not follow the grammar (or uses more of it than
    /// signatures need). A name given twice keeps its first place and its last value, as §4.2.2 says; so does a
    /// parameter given twice.
    static func dictionary(_ text: String) -> [Member]? {
        var scanner = Scanner(text: Substring(text))
        var members: [Member] = []
        scanner.skipSpaces()
        while !scanner.atEnd {
            guard let name = scanner.key() else { return nil }
            var start = scanner.rest.startIndex
            var member = Member(name: name, list: nil, item: .bool(true), parameters: [], rawValue: "")
            if scanner.take("=") {
                start = scanner.rest.startIndex
                if scanner.take("(") {
                    guard let list = scanner.innerList() else { return nil }
                    member.list = list
                    member.item = nil
                } else {
                    guard let item = scanner.item() else { return nil }
                    member.item = item
                }
            }
            guard let parameters = scanner.parameters() else { return nil }
            member.parameters = parameters
            member.rawValue = text[start..<scanner.rest.startIndex]
            if let index = members.firstIndex(where: { $0.name == name }) {
                members[index] = member
            } else {
                members.append(member)
            }
            scanner.skipWhitespace()
            if scanner.atEnd { break }
            guard scanner.take(",") else { return nil }
            scanner.skipWhitespace()
            if scanner.atEnd { return nil }
        }
        return members
    }

    private struct Scanner {
        var rest: Substring

        init(text: Substring) { rest = text }

        var atEnd: Bool { rest.isEmpty }

        /// SP only: inside inner lists and before parameters.
        mutating func skipSpaces() { while rest.first == " " { rest.removeFirst() } }

        /// OWS (SP or HTAB): around the commas between dictionary members.
        mutating func skipWhitespace() { while rest.first == " " || rest.first == "\t" { rest.removeFirst() } }

        mutating func take(_ character: Character) -> Bool {
            guard rest.first == character else { return false }
            rest.removeFirst()
            return true
        }

        mutating func key() -> String? {
            guard let first = rest.first, (first.isASCII && first.isLowercase) || first == "*" else { return nil }
            let key = rest.prefix { ($0.isASCII && $0.isLowercase) || ($0.isASCII && $0.isNumber) || "_-.*".contains($0) }
            rest = rest.dropFirst(key.count)
            return String(key)
        }

        /// The strings of an inner list after its `(`, then its `)`; component parameters (`;sf`, `;key`, `;req`)
        /// are not supported, so they are refused rather than signed over differently.
        mutating func innerList() -> [String]? {
            var list: [String] = []
            skipSpaces()
            while !take(")") {
                guard case .string(let component)? = item() else { return nil }
                guard rest.first == " " || rest.first == ")" else { return nil }
                list.append(component)
                skipSpaces()
            }
            return list
        }

        /// `*( ";" *SP key [ "=" bare-item ] )`; a key given twice keeps its first place and its last value.
        mutating func parameters() -> [(name: String, value: Item)]? {
            var parameters: [(name: String, value: Item)] = []
            while take(";") {
                skipSpaces()
                guard let key = key() else { return nil }
                var value = Item.bool(true)
                if take("=") {
                    guard let item = item() else { return nil }
                    value = item
                }
                if let index = parameters.firstIndex(where: { $0.name == key }) {
                    parameters[index].value = value
                } else {
                    parameters.append((key, value))
                }
            }
            return parameters
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
            if first == "-" || (first.isASCII && first.isNumber) {
                let negative = take("-")
                let digits = rest.prefix { ($0.isASCII && $0.isNumber) }
                rest = rest.dropFirst(digits.count)
                // RFC 8941 §4.2.4: one to fifteen digits; a decimal point would make it a decimal, which we refuse.
                guard (1...15).contains(digits.count), rest.first != ".", let value = Int64(digits) else { return nil }
                return .integer(negative ? -value : value)
            }
            if first == "?" {
                rest.removeFirst()
                guard let flag = rest.popFirst(), flag == "0" || flag == "1" else { return nil }
                return .bool(flag == "1")
            }
            if first.isASCII && first.isLetter || first == "*" {
                let token = rest.prefix { $0.isASCII && ($0.isLetter || $0.isNumber) || ":/!#$%&'*+-.^_`|~".contains($0) }
                rest = rest.dropFirst(token.count)
                return .token(String(token))
            }
            return nil
        }
    }
}
