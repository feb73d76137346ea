/// A parsed JSON document whose every node keeps its byte range, for case files and configuration.
package struct JSONNode: Sendable {
    package enum Value: Sendable {
        case null
        case bool(Bool)
        case number(Int64?, String)
        case string(String)
        case array([JSONNode])
        case object([(key: String, value: JSONNode)])
    }

    package var value: Value
    package var range: Range<Int>

    /// A node built rather than parsed; its range is empty unless given.
    package init(_ value: Value, range: Range<Int> = 0..<0) {
        self.value = value
        self.range = range
    }

    /// Parses a whole document; duplicate member names are an error.
    package static func parse(_ bytes: [UInt8]) throws(JSONError) -> JSONNode {
        try bytes.withUnsafeBufferPointer { (buffer) throws(JSONError) -> JSONNode in
            var scanner = JSONScanner(buffer)
            let node = try parseValue(&scanner)
            try scanner.expectEnd()
            return node
        }
    }

    private static func parseValue(_ scanner: inout JSONScanner) throws(JSONError) -> JSONNode {
        let byte = scanner.peek()
        let start = scanner.offset
        let value: Value
        switch byte {
        case UInt8(ascii: "{"):
            var members: [(key: String, value: JSONNode)] = []
            members.reserveCapacity(6)
            // Small objects (the usual case) check duplicates by scanning; a set only pays off for large ones.
            var seen: Set<String>?
            if try scanner.open(UInt8(ascii: "{"), close: UInt8(ascii: "}")) {
                repeat {
                    let keyOffset = scanner.offset
                    let key = try scanner.readString()
                    if members.count == 16 { seen = Set(members.map(\.key)) }
                    let duplicate = seen?.contains(key) ?? members.contains { $0.key == key }
                    seen?.insert(key)
                    guard !duplicate else {
                        throw JSONError(message: "duplicate member `\(key)`", offset: keyOffset)
                    }
                    try scanner.expect(UInt8(ascii: ":"))
                    members.append((key, try parseValue(&scanner)))
                } while try scanner.nextElement(close: UInt8(ascii: "}"))
            }
            value = .object(members)
        case UInt8(ascii: "["):
            var elements: [JSONNode] = []
            if try scanner.open(UInt8(ascii: "["), close: UInt8(ascii: "]")) {
                repeat { elements.append(try parseValue(&scanner)) } while try scanner.nextElement(close: UInt8(ascii: "]"))
            }
            value = .array(elements)
        case UInt8(ascii: "\""):
            value = .string(try scanner.readString())
        case UInt8(ascii: "t"), UInt8(ascii: "f"), UInt8(ascii: "n"):
            value = try scanner.readLiteral().map { .bool($0) } ?? .null
        default:
            let (integer, text) = try scanner.readNumber()
            value = .number(integer, String(text))
        }
        return JSONNode(value, range: start..<scanner.offset)
    }

    /// The member called `key`, if this is an object that has one.
    package subscript(key: String) -> JSONNode? {
        guard case .object(let members) = value else { return nil }
        return members.first { $0.key == key }?.value
    }

    package var stringValue: String? {
        if case .string(let text) = value { return text }
        return nil
    }

    /// The value, if this is a number written as an integer that fits 64 bits.
    package var integer: Int64? {
        if case .number(let integer, _) = value { return integer }
        return nil
    }

    /// The kind of value.
    package var kind: JSONKind {
        switch value {
        case .null: .null
        case .bool: .bool
        case .number: .number
        case .string: .string
        case .array: .array
        case .object: .object
        }
    }

    /// A short name for the kind of value, for messages.
    package var kindName: String { kind.name }
}

/// What kind of JSON value a field holds.
package enum JSONKind: Sendable, Equatable {
    case null, bool, number, string, array, object

    /// A short name for messages, such as "an object".
    package var name: String {
        switch self {
        case .null: "null"
        case .bool: "a boolean"
        case .number: "a number"
        case .string: "a string"
        case .array: "an array"
        case .object: "an object"
        }
    }
}
