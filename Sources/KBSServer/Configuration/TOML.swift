/// TOML 1.0 documents, as far as configuration files use them: every construct but dates and times.
///
/// The parser keeps where each key and value was written, so the configuration reader can point at the line of a
/// mistake. It imports nothing, which lets Tools/fuzz compile it on its own.
package enum TOML {
    /// How deep tables and arrays may nest. Real files stay under five; the bound keeps recursion (parsing,
    /// converting, comparing, freeing) far from the stack's end whatever the input.
    package static let maximumDepth = 64

    /// Parses a whole document: its root table, or the first mistake in it.
    package static func parse(_ text: String) throws(Diagnostic) -> Table {
        try parse(Array(text.utf8))
    }

    /// Parses a whole document from its UTF-8 bytes: its root table, or the first mistake in it.
    package static func parse(_ bytes: [UInt8]) throws(Diagnostic) -> Table {
        var parser = TOMLParser(bytes)
        return try parser.parseDocument()
    }

    /// A mistake in a document, with its 1-based line and column (columns count characters).
    package struct Diagnostic: Error, Sendable, Equatable, CustomStringConvertible {
        package var line: Int
        package var column: Int
        package var message: String

        /// Creates a diagnostic.
        package init(line: Int, column: Int, message: String) {
            self.line = line
            self.column = column
            self.message = message
        }

        /// `line:column: message`.
        package var description: String { "\(line):\(column): \(message)" }
    }

    /// A value and where it starts.
    package struct Value: Sendable, Equatable {
        /// What was written.
        package enum Kind: Sendable, Equatable {
            case string(String)
            case integer(Int64)
            case float(Double)
            case boolean(Bool)
            case array([Value])
            case table(Table)
        }

        package var kind: Kind
        package var line: Int
        package var column: Int

        /// Creates a value.
        package init(_ kind: Kind, line: Int, column: Int) {
            self.kind = kind
            self.line = line
            self.column = column
        }

        /// The TOML name of the value's type, for messages such as "expected a string, found an integer".
        package var typeName: String {
            switch kind {
            case .string: "a string"
            case .integer: "an integer"
            case .float: "a float"
            case .boolean: "a boolean"
            case .array: "an array"
            case .table: "a table"
            }
        }
    }

    /// A table: its keys in the order written, each with where the key itself was written.
    package struct Table: Sendable, Equatable {
        /// One `key = value` (or sub-table) of a table.
        package struct Entry: Sendable, Equatable {
            package var key: String
            /// Where the key was written; for a table made by a `[header]`, the header.
            package var line: Int
            package var column: Int
            package var value: Value

            /// Creates an entry.
            package init(key: String, line: Int, column: Int, value: Value) {
                self.key = key
                self.line = line
                self.column = column
                self.value = value
            }
        }

        package var entries: [Entry]
        /// Where the table starts: its header, its `{`, or the first key that made it.
        package var line: Int

        /// Creates a table.
        package init(entries: [Entry] = [], line: Int = 1) {
            self.entries = entries
            self.line = line
        }

        /// The entry for `key`, if written.
        package func entry(_ key: String) -> Entry? {
            entries.first { $0.key == key }
        }

        /// The value for `key`, if written.
        package subscript(key: String) -> Value? {
            entry(key)?.value
        }
    }
}
