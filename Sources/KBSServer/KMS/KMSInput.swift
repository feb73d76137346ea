import KBSClaims

/// A KMS request body (JSON 1.1: one object, PascalCase members, blobs as standard base64) read as the operation
/// expects, with AWS's refusals: `SerializationException` for a body or member that does not parse or has the wrong
/// type, `ValidationException` for a required member that is missing or a value out of bounds. Unknown members are
/// ignored, as AWS ignores them.
struct KMSInput {
    private let members: [String: JSONNode]

    /// Parses `body`; an empty body is `{}`.
    init(_ body: [UInt8]) throws(ServerError) {
        guard !body.isEmpty else {
            members = [:]
            return
        }
        guard let root = try? JSONNode.parse(body) else { throw KMSError.serialization("the request body is not valid JSON") }
        guard case .object(let fields) = root.value else { throw KMSError.serialization("the request body must be a JSON object") }
        var members: [String: JSONNode] = [:]
        // A null member is an absent one, as AWS's JSON protocol reads it.
        for field in fields {
            if case .null = field.value.value { continue }
            members[field.key] = field.value
        }
        self.members = members
    }

    /// A string member; `required` refuses it absent, `range` bounds its length in bytes.
    func string(_ name: String, required: Bool = false, range: ClosedRange<Int> = 1...2048) throws(ServerError) -> String? {
        guard let node = try present(name, required: required) else { return nil }
        guard let text = node.stringValue else { throw KMSError.serialization("`\(name)` must be a string, not \(node.kindName)") }
        guard range.contains(text.utf8.count) else {
            throw KMSError.validation("`\(name)` must have length from \(range.lowerBound) to \(range.upperBound)")
        }
        return text
    }

    /// A blob member (standard base64 with padding), of `range` bytes.
    func blob(_ name: String, required: Bool = false, range: ClosedRange<Int>) throws(ServerError) -> [UInt8]? {
        guard let node = try present(name, required: required) else { return nil }
        guard let text = node.stringValue else { throw KMSError.serialization("`\(name)` must be a base64 string, not \(node.kindName)") }
        guard let bytes = Base64URL.decodeStandard(text.utf8) else { throw KMSError.serialization("`\(name)` is not valid base64") }
        guard range.contains(bytes.count) else {
            throw KMSError.validation("`\(name)` must be from \(range.lowerBound) to \(range.upperBound) bytes")
        }
        return bytes
    }

    /// An integer member within `range`.
    func integer(_ name: String, required: Bool = false, range: ClosedRange<Int>) throws(ServerError) -> Int? {
        guard let node = try present(name, required: required) else { return nil }
        guard let value = node.integer else { throw KMSError.serialization("`\(name)` must be an integer, not \(node.kindName)") }
        guard value >= Int64(range.lowerBound), value <= Int64(range.upperBound) else {
            throw KMSError.validation("`\(name)` must be from \(range.lowerBound) to \(range.upperBound)")
        }
        return Int(value)
    }

    /// A boolean member.
    func bool(_ name: String) throws(ServerError) -> Bool? {
        guard let node = members[name] else { return nil }
        guard case .bool(let value) = node.value else { throw KMSError.serialization("`\(name)` must be true or false") }
        return value
    }

    /// A string-to-string map member (`EncryptionContext`); absent is empty.
    func stringMap(_ name: String) throws(ServerError) -> [String: String] {
        guard let node = members[name] else { return [:] }
        guard case .object(let fields) = node.value else { throw KMSError.serialization("`\(name)` must be an object of strings") }
        var map: [String: String] = [:]
        for field in fields {
            guard let value = field.value.stringValue else { throw KMSError.serialization("`\(name)` must be an object of strings") }
            map[field.key] = value
        }
        return map
    }

    /// A list-of-strings member.
    func strings(_ name: String, required: Bool = false) throws(ServerError) -> [String]? {
        guard let node = try present(name, required: required) else { return nil }
        guard case .array(let items) = node.value else { throw KMSError.serialization("`\(name)` must be a list of strings") }
        var list: [String] = []
        for item in items {
            guard let text = item.stringValue else { throw KMSError.serialization("`\(name)` must be a list of strings") }
            list.append(text)
        }
        return list
    }

    /// A `Tags` member: `[{"TagKey", "TagValue"}]`; absent is empty.
    func tags(_ name: String, required: Bool = false) throws(ServerError) -> [String: String] {
        guard let node = try present(name, required: required) else { return [:] }
        guard case .array(let items) = node.value else { throw KMSError.serialization("`\(name)` must be a list of {TagKey, TagValue}") }
        var tags: [String: String] = [:]
        for item in items {
            guard let key = item["TagKey"]?.stringValue, let value = item["TagValue"]?.stringValue else {
                throw KMSError.serialization("each of `\(name)` is {\"TagKey\": string, \"TagValue\": string}")
            }
            tags[key] = value
        }
        return tags
    }

    private func present(_ name: String, required: Bool) throws(ServerError) -> JSONNode? {
        guard let node = members[name] else {
            if required {
                throw KMSError.validation(
                    "1 validation error detected: Value null at '\(name)' failed to satisfy constraint: Member must not be null")
            }
            return nil
        }
        return node
    }
}

extension Optional {
    /// The value, or `error` thrown when there is none.
    func orThrow(_ error: ServerError) throws(ServerError) -> Wrapped {
        guard let value = self else { throw error }
        return value
    }
}
