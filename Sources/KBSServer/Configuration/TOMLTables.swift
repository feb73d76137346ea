/// A table while its document is read. A class, because a later `[header]` reopens a table made earlier and must
/// change that same table wherever it hangs.
final class TOMLTableNode {
    /// How the table came to be, which decides what may still add to it (TOML 1.0, "Table").
    enum Origin {
        /// Named only as a prefix of a header (`a` in `[a.b]`): a later `[a]` may still define it.
        case implicit
        /// Defined by its own `[header]` or `[[header]]`.
        case header
        /// Made by a dotted key (`a.b = 1` makes `a`): only more dotted keys of the same table add to it.
        case dotted
        /// An inline table `{…}`, closed once written.
        case inline
    }

    var origin: Origin
    /// Tables and arrays above this one, counting the root as 0.
    let depth: Int
    let line: Int
    let column: Int
    private(set) var order: [String] = []
    private(set) var children: [String: TOMLNode] = [:]
    private var positions: [String: (line: Int, column: Int)] = [:]

    init(origin: Origin, depth: Int, line: Int, column: Int) {
        self.origin = origin
        self.depth = depth
        self.line = line
        self.column = column
    }

    /// Adds a key that is not yet present.
    func insert(_ key: String, _ node: TOMLNode, line: Int, column: Int) {
        order.append(key)
        children[key] = node
        positions[key] = (line, column)
    }

    /// Where `key` was first written.
    func line(of key: String) -> Int { positions[key]?.line ?? line }

    /// The finished table.
    func table() -> TOML.Table {
        TOML.Table(
            entries: order.map { key in
                let position = positions[key] ?? (line, column)
                return TOML.Table.Entry(key: key, line: position.line, column: position.column, value: children[key].map(Self.value) ?? value)
            },
            line: line)
    }

    /// This table as a value.
    var value: TOML.Value { TOML.Value(.table(table()), line: line, column: column) }

    private static func value(_ node: TOMLNode) -> TOML.Value {
        switch node {
        case .value(let value): value
        case .table(let table): table.value
        case .tables(let array): TOML.Value(.array(array.tables.map(\.value)), line: array.line, column: array.column)
        }
    }
}

/// An array of tables (`[[header]]`), which each repetition of the header extends.
final class TOMLTableArray {
    var tables: [TOMLTableNode]
    let line: Int
    let column: Int

    init(first: TOMLTableNode) {
        tables = [first]
        line = first.line
        column = first.column
    }
}

/// What a key holds while the document is read.
enum TOMLNode {
    /// A finished value: a scalar, an array written with `[…]`, or an inline table; nothing adds to it.
    case value(TOML.Value)
    case table(TOMLTableNode)
    case tables(TOMLTableArray)
}
