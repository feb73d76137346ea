import KBSClaims

/// A request body read as one JSON object whose members are typed as the route expects, with the refusals every
/// admin route gives: `invalid_json` for a body that is not a JSON object, `invalid_request` for an unknown member or a
/// member of the wrong type.
struct JSONBody {
    let root: JSONNode

    /// Parses `body`; `members` are the names the route accepts, `shape` describes the object for the message.
    init(_ body: [UInt8], members: Set<String>, shape: String) throws(ServerError) {
        guard let root = try? JSONNode.parse(body), case .object(let fields) = root.value else {
            throw .badRequest("invalid_json", "the body must be a JSON object \(shape)")
        }
        for field in fields where !members.contains(field.key) {
            throw .badRequest("invalid_request", "unknown member `\(field.key)`; expected " + members.sorted().joined(separator: ", "))
        }
        self.root = root
    }

    /// Whether the member is present (null counts as present).
    func has(_ name: String) -> Bool { root[name] != nil }

    /// A string member; nil when absent.
    func string(_ name: String) throws(ServerError) -> String? {
        guard let node = root[name] else { return nil }
        guard let text = node.stringValue else { throw .badRequest("invalid_request", "`\(name)` must be a string, not \(node.kindName)") }
        return text
    }

    /// A whole-number member (`7` or `7.0`); nil when absent.
    func wholeNumber(_ name: String) throws(ServerError) -> Int64? {
        guard let node = root[name] else { return nil }
        guard let value = Self.wholeNumber(node) else { throw .badRequest("invalid_request", "`\(name)` must be a whole number") }
        return value
    }

    /// A boolean member; nil when absent.
    func bool(_ name: String) throws(ServerError) -> Bool? {
        guard let node = root[name] else { return nil }
        guard case .bool(let value) = node.value else { throw .badRequest("invalid_request", "`\(name)` must be true or false") }
        return value
    }

    /// A list-of-strings member; nil when absent.
    func strings(_ name: String) throws(ServerError) -> [String]? {
        guard let node = root[name] else { return nil }
        guard case .array(let items) = node.value, let list = Optional(items.compactMap(\.stringValue)), list.count == items.count else {
            throw .badRequest("invalid_request", "`\(name)` must be a list of strings")
        }
        return list
    }

    /// An object-of-strings member; nil when absent.
    func stringMap(_ name: String) throws(ServerError) -> [String: String]? {
        guard let node = root[name] else { return nil }
        guard case .object(let fields) = node.value else { throw .badRequest("invalid_request", "`\(name)` must be an object of strings") }
        var map: [String: String] = [:]
        for field in fields {
            guard let text = field.value.stringValue else { throw .badRequest("invalid_request", "`\(name)` must be an object of strings") }
            map[field.key] = text
        }
        return map
    }

    /// `node` as a whole number, when it is one.
    static func wholeNumber(_ node: JSONNode) -> Int64? {
        guard case .number(let integer, let text) = node.value else { return nil }
        if let integer { return integer }
        guard let value = Double(text), value == value.rounded(), abs(value) < 1e15 else { return nil }
        return Int64(value)
    }
}
