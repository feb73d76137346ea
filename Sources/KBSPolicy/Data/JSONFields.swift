package import KBSClaims

/// A field found at a path: its kind and the bytes of its value (a string's range includes its quotes).
package struct JSONField: Sendable, Equatable {
    package var kind: JSONKind
    package var range: Range<Int>
}

/// Finds the fields at fixed object paths in one pass over a document, without building a tree.
///
/// For request envelopes on hot paths: the whole document is checked (syntax, nesting depth, UTF-8 of the
/// strings found), a path met twice is a duplicate-member error, and no value is copied out.
package struct JSONFieldReader: Sendable {
    /// The paths as a trie: each node's children by member name, and which path (if any) ends at it.
    private struct Node: Sendable {
        var children: [(name: [UInt8], node: Int)] = []
        var target: Int?
    }

    private var nodes = [Node()]
    private let count: Int

    /// Creates a reader for `paths`, each a list of member names from the root object.
    package init(paths: [[String]]) {
        count = paths.count
        for (index, path) in paths.enumerated() {
            var node = 0
            for name in path {
                let bytes = Array(name.utf8)
                if let next = nodes[node].children.first(where: { $0.name == bytes })?.node {
                    node = next
                } else {
                    nodes.append(Node())
                    nodes[node].children.append((bytes, nodes.count - 1))
                    node = nodes.count - 1
                }
            }
            nodes[node].target = index
        }
    }

    /// The field at each path, in the order the paths were given; nil where absent. The root must be an object.
    package func read(_ bytes: [UInt8]) throws(JSONError) -> [JSONField?] {
        try bytes.withUnsafeBufferPointer { (buffer) throws(JSONError) -> [JSONField?] in
            var scanner = JSONScanner(buffer)
            var found = [JSONField?](repeating: nil, count: count)
            guard scanner.peek() == UInt8(ascii: "{") else {
                let start = scanner.offset
                let kind = try Self.skip(&scanner)
                throw JSONError(message: "expected an object, not \(kind.name)", offset: start)
            }
            try walk(&scanner, node: 0, found: &found)
            try scanner.expectEnd()
            return found
        }
    }

    private func walk(_ scanner: inout JSONScanner, node: Int, found: inout [JSONField?]) throws(JSONError) {
        guard try scanner.open(UInt8(ascii: "{"), close: UInt8(ascii: "}")) else { return }
        repeat {
            let keyOffset = scanner.offset
            let child: Int?
            if let simple = try scanner.readSimpleString() {
                if simple.contains(where: { $0 >= 0x80 }), String(validating: simple, as: UTF8.self) == nil {
                    throw JSONError(message: "string is not valid UTF-8", offset: keyOffset)
                }
                child = nodes[node].children.first { $0.name.elementsEqual(simple) }?.node
            } else {
                let key = try scanner.readString()
                child = nodes[node].children.first { $0.name.elementsEqual(key.utf8) }?.node
            }
            try scanner.expect(UInt8(ascii: ":"))
            _ = scanner.peek()
            let start = scanner.offset
            let kind: JSONKind
            if let child, !nodes[child].children.isEmpty, scanner.peek() == UInt8(ascii: "{") {
                kind = .object
                try walk(&scanner, node: child, found: &found)
            } else if let child, nodes[child].target != nil, scanner.peek() == UInt8(ascii: "\"") {
                kind = .string
                try Self.readCheckedString(&scanner)
            } else {
                kind = try Self.skip(&scanner)
            }
            if let child, let target = nodes[child].target {
                guard found[target] == nil else {
                    let name = nodes[node].children.first { $0.node == child }.map { String(decoding: $0.name, as: UTF8.self) } ?? ""
                    throw JSONError(message: "duplicate member `\(name)`", offset: keyOffset)
                }
                found[target] = JSONField(kind: kind, range: start..<scanner.offset)
            }
        } while try scanner.nextElement(close: UInt8(ascii: "}"))
    }

    /// Reads a string, checking its UTF-8 (ASCII, the usual case, needs no decoding).
    private static func readCheckedString(_ scanner: inout JSONScanner) throws(JSONError) {
        let start = scanner.offset
        if let simple = try scanner.readSimpleString() {
            if simple.contains(where: { $0 >= 0x80 }), String(validating: simple, as: UTF8.self) == nil {
                throw JSONError(message: "string is not valid UTF-8", offset: start)
            }
        } else {
            _ = try scanner.readString()
        }
    }

    /// Skips one value, checking its syntax and the UTF-8 of every string in it (keys included).
    private static func skip(_ scanner: inout JSONScanner) throws(JSONError) -> JSONKind {
        switch scanner.peek() {
        case UInt8(ascii: "{"):
            if try scanner.open(UInt8(ascii: "{"), close: UInt8(ascii: "}")) {
                repeat {
                    try readCheckedString(&scanner)
                    try scanner.expect(UInt8(ascii: ":"))
                    _ = try skip(&scanner)
                } while try scanner.nextElement(close: UInt8(ascii: "}"))
            }
            return .object
        case UInt8(ascii: "["):
            if try scanner.open(UInt8(ascii: "["), close: UInt8(ascii: "]")) {
                repeat { _ = try skip(&scanner) } while try scanner.nextElement(close: UInt8(ascii: "]"))
            }
            return .array
        case UInt8(ascii: "\""):
            try readCheckedString(&scanner)
            return .string
        case UInt8(ascii: "t"), UInt8(ascii: "f"), UInt8(ascii: "n"):
            return try scanner.readLiteral() == nil ? .null : .bool
        default:
            _ = try scanner.readNumber()
            return .number
        }
    }
}
