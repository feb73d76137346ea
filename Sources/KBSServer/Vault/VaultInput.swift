import HTTPTypes
package import KBSBroker
package import KBSClaims

/// A Vault request body: an empty body or one JSON object, its members read as Vault reads them. Vault decodes
/// parameters weakly (a number may come as `"5"`, a boolean as `"true"`, a duration as `"1h"` or seconds), and so does
/// this; any other type is a 400 naming the member. Unknown members are ignored, as Vault ignores them.
package struct VaultInput {
    /// The body as sent.
    package let bytes: [UInt8]
    /// The object, nil for an empty body.
    package let root: JSONNode?

    /// Parses `body`; an empty body has no members.
    package init(_ body: [UInt8]) throws(ServerError) {
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
    package subscript(_ name: String) -> JSONNode? {
        guard let node = root?[name] else { return nil }
        if case .null = node.value { return nil }
        return node
    }

    /// A string member.
    package func string(_ name: String, required: Bool = false) throws(ServerError) -> String? {
        guard let node = self[name] else {
            if required { throw Self.invalid("missing required parameter \(name)") }
            return nil
        }
        guard let text = node.stringValue else { throw Self.invalid("\(name) must be a string, not \(node.kindName)") }
        return text
    }

    /// An integer member (a number or a string of digits).
    package func integer(_ name: String) throws(ServerError) -> Int? {
        guard let node = self[name] else { return nil }
        if let value = node.integer, let small = Int(exactly: value) { return small }
        if let text = node.stringValue, let value = Int(text) { return value }
        throw Self.invalid("\(name) must be an integer")
    }

    /// A boolean member (`true`, `"true"`, `1`, …).
    package func bool(_ name: String) throws(ServerError) -> Bool? {
        guard let node = self[name] else { return nil }
        if case .bool(let value) = node.value { return value }
        switch node.stringValue ?? node.integer.map(String.init) {
        case "true", "1", "t", "T", "TRUE", "True": return true
        case "false", "0", "f", "F", "FALSE", "False": return false
        default: throw Self.invalid("\(name) must be a boolean")
        }
    }

    /// A duration member in seconds (`"1h"`, `"90s"`, `3600`).
    package func duration(_ name: String) throws(ServerError) -> Int64? {
        guard let node = self[name] else { return nil }
        if let value = node.integer, value >= 0 { return value }
        if let text = node.stringValue, let seconds = DurationText.seconds(text) { return seconds }
        throw Self.invalid("\(name) must be a duration such as 1h, 30m or 45s")
    }

    /// A base64 member's bytes.
    package func base64(_ name: String, from node: JSONNode? = nil) throws(ServerError) -> [UInt8]? {
        guard let node = node ?? self[name] else { return nil }
        guard let text = node.stringValue else { throw Self.invalid("\(name) must be a base64 string") }
        guard let bytes = Base64URL.decodeStandard(Array(text.utf8)) else { throw Self.invalid("\(name) is not valid base64") }
        return bytes
    }

    /// A list of strings (or one comma-separated string, as Vault takes policies).
    package func strings(_ name: String) throws(ServerError) -> [String]? {
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
    package func integers(_ name: String) throws(ServerError) -> [Int]? {
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
    package func stringMap(_ name: String) throws(ServerError) -> [String: String]? {
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
    package func rawObject(_ name: String) throws(ServerError) -> [UInt8]? {
        guard let node = self[name] else { return nil }
        guard case .object = node.value else { throw Self.invalid("\(name) must be a JSON object") }
        return Array(bytes[node.range])
    }

    /// `options.cas`, when given.
    package func cas() throws(ServerError) -> Int? {
        guard let options = self["options"] else { return nil }
        guard case .object = options.value else { throw Self.invalid("options must be an object") }
        guard let node = options["cas"] else { return nil }
        guard let value = node.integer ?? node.stringValue.flatMap({ Int64($0) }), value >= 0 else {
            throw Self.invalid("cas must be a whole number")
        }
        return Int(value)
    }

    /// A Transit request's items: its `batch_input` (at most 1,000), or the request itself as one; and whether it was
    /// a batch. `member` is `plaintext` (encrypt) or `ciphertext` (decrypt, rewrap).
    package func transitItems(_ member: String) throws(ServerError) -> ([TransitItem], Bool) {
        if self["nonce"] != nil { throw Self.invalid("nonce is not taken: convergent keys derive theirs") }
        guard let batch = self["batch_input"] else {
            var item = TransitItem(context: try base64("context"))
            if member == "plaintext" {
                guard let plaintext = try base64("plaintext") else { throw Self.invalid("missing plaintext to encrypt") }
                item.plaintext = plaintext
            } else {
                guard let ciphertext = try string("ciphertext") else { throw Self.invalid("missing ciphertext to decrypt") }
                item.ciphertext = ciphertext
            }
            return ([item], false)
        }
        guard case .array(let nodes) = batch.value, !nodes.isEmpty, nodes.count <= 1000 else {
            throw Self.invalid("batch_input must be a list of 1 to 1000 objects")
        }
        var items: [TransitItem] = []
        for (index, node) in nodes.enumerated() {
            guard case .object = node.value else { throw Self.invalid("batch_input[\(index)] must be an object") }
            var item = TransitItem(context: try base64("batch_input[\(index)].context", from: node["context"]))
            if member == "plaintext" {
                item.plaintext = try base64("batch_input[\(index)].plaintext", from: node["plaintext"])
            } else if let text = node["ciphertext"] {
                guard let ciphertext = text.stringValue else { throw Self.invalid("batch_input[\(index)].ciphertext must be a string") }
                item.ciphertext = ciphertext
            }
            items.append(item)
        }
        return (items, true)
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
