import HTTPTypes
import KBSBroker
import KBSClaims

/// A Vault request body: an empty body or one JSON object, its members read as Vault reads them. Vault decodes
/// parameters weakly (a number may come as `"5"`, a boolean as `"true"`, a duration as `"1h"` or seconds), and so does
/// this; any other type is a 400 naming the member. Unknown members are ignored, as Vault ignores them.
struct VaultInput {
    let bytes: [UInt8]
    let root: JSONNode?

    /// Parses `body`; an empty body has no members.
    init(_ body: [UInt8]) throws(ServerError) {
        bytes = body
        guard !body.allSatisfy({ $0 == 0x20 || $0 == 0x0A || $0 == 0x0D || $0 == 0x09 }) else {
            root = nil
            return
        }
        guard let node = try? JSONNode.parse(body), case .object = node.value else {
            throw ServerError(.badRequest, "invalid_json", "failed to parse JSON input: the body must be a JSON object")
        }
        root = node
    }

    /// The node of a member; nil when absent or null.
    subscript(_ name: String) -> JSONNode? {
        guard let node = root?[name] else { return nil }
        if case .null = node.value { return nil }
        return node
    }

    /// A string member.
    func string(_ name: String, required: Bool = false) throws(ServerError) -> String? {
        guard let node = self[name] else {
            if required { throw Self.invalid("missing required parameter \(name)") }
            return nil
        }
        guard let text = node.stringValue else { throw Self.invalid("\(name) must be a string, not \(node.kindName)") }
        return text
    }

    /// An integer member (a number or a string of digits).
    func integer(_ name: String) throws(ServerError) -> Int? {
        guard let node = self[name] else { return nil }
        if let value = node.integer, let small = Int(exactly: value) { return small }
        if let text = node.stringValue, let value = Int(text) { return value }
        throw Self.invalid("\(name) must be an integer")
    }

    /// A boolean member (`true`, `"true"`, `1`, …).
    func bool(_ name: String) throws(ServerError) -> Bool? {
        guard let node = self[name] else { return nil }
        if case .bool(let value) = node.value { return value }
        switch node.stringValue ?? node.integer.map(String.init) {
        case "true", "1", "t", "T", "TRUE", "True": return true
        case "false", "0", "f", "F", "FALSE", "False": return false
        default: throw Self.invalid("\(name) must be a boolean")
        }
    }

    /// A duration member in seconds (`"1h"`, `"90s"`, `3600`).
    func duration(_ name: String) throws(ServerError) -> Int64? {
        guard let node = self[name] else { return nil }
        if let value = node.integer, value >= 0 { return value }
        if let text = node.stringValue, let seconds = VaultDuration.seconds(text) { return seconds }
        throw Self.invalid("\(name) must be a duration such as 1h, 30m or 45s")
    }

    /// A base64 member's bytes.
    func base64(_ name: String, from node: JSONNode? = nil) throws(ServerError) -> [UInt8]? {
        guard let node = node ?? self[name] else { return nil }
        guard let text = node.stringValue else { throw Self.invalid("\(name) must be a base64 string") }
        guard let bytes = Base64URL.decodeStandard(Array(text.utf8)) else { throw Self.invalid("\(name) is not valid base64") }
        return bytes
    }

    /// A list of strings (or one comma-separated string, as Vault takes policies).
    func strings(_ name: String) throws(ServerError) -> [String]? {
        guard let node = self[name] else { return nil }
        if let text = node.stringValue { return text.split(separator: ",").map { String($0).trimmingSpaces } }
        guard case .array(let items) = node.value else { throw Self.invalid("\(name) must be a list of strings") }
        var result: [String] = []
        for item in items {
            guard let text = item.stringValue else { throw Self.invalid("\(name) must be a list of strings") }
            result.append(text)
        }
        return result
    }

    /// A list of integers.
    func integers(_ name: String) throws(ServerError) -> [Int]? {
        guard let node = self[name] else { return nil }
        guard case .array(let items) = node.value else { throw Self.invalid("\(name) must be a list of integers") }
        var result: [Int] = []
        for item in items {
            if let value = item.integer, let small = Int(exactly: value) {
                result.append(small)
            } else if let text = item.stringValue, let value = Int(text) {
                result.append(value)
            } else {
                throw Self.invalid("\(name) must be a list of integers")
            }
        }
        return result
    }

    /// A map of strings to strings.
    func stringMap(_ name: String) throws(ServerError) -> [String: String]? {
        guard let node = self[name] else { return nil }
        guard case .object(let members) = node.value else { throw Self.invalid("\(name) must be an object of strings") }
        var result: [String: String] = [:]
        for member in members {
            guard let text = member.value.stringValue else { throw Self.invalid("\(name).\(member.key) must be a string") }
            result[member.key] = text
        }
        return result
    }

    /// The raw JSON of an object member, as sent.
    func rawObject(_ name: String) throws(ServerError) -> [UInt8]? {
        guard let node = self[name] else { return nil }
        guard case .object = node.value else { throw Self.invalid("\(name) must be a JSON object") }
        return Array(bytes[node.range])
    }

    static func invalid(_ message: String) -> ServerError { ServerError(.badRequest, "invalid_request", message) }
}

extension String {
    /// Without leading and trailing spaces.
    fileprivate var trimmingSpaces: String {
        var text = Substring(self)
        while text.first == " " { text = text.dropFirst() }
        while text.last == " " { text = text.dropLast() }
        return String(text)
    }
}
