import KBSClaims

/// EIP-712 typed structured data: `encodeType`, `hashStruct` and the signing digest.
struct TypedData {
    struct Member {
        var name: String
        var type: String
    }

    var types: [String: [Member]]
    var primaryType: String
    var domain: JSONNode
    var message: JSONNode

    /// Reads `{types, primaryType, domain, message}`.
    init(_ node: JSONNode) throws(IdentityError) {
        guard case .object = node.value, let typesNode = node["types"], case .object(let typeList) = typesNode.value,
            let primary = node["primaryType"]?.stringValue, let domain = node["domain"], case .object = domain.value,
            let message = node["message"], case .object = message.value
        else { throw IdentityError(.malformed, "typed data has `types`, `primaryType`, `domain` and `message`") }
        var types: [String: [Member]] = [:]
        for (name, list) in typeList {
            guard case .array(let items) = list.value else { throw IdentityError(.malformed, "type `\(name)` must list its members") }
            var members: [Member] = []
            for item in items {
                guard let memberName = item["name"]?.stringValue, let memberType = item["type"]?.stringValue else {
                    throw IdentityError(.malformed, "a member of `\(name)` needs `name` and `type`")
                }
                members.append(Member(name: memberName, type: memberType))
            }
            types[name] = members
        }
        guard types[primary] != nil else { throw IdentityError(.malformed, "primary type `\(primary)` is not defined") }
        self.types = types
        primaryType = primary
        self.domain = domain
        self.message = message
    }

    /// `keccak256(0x19 0x01 ‖ hashStruct(domain) ‖ hashStruct(message))`.
    func digest() throws(IdentityError) -> [UInt8] {
        let domainHash = try hashStruct("EIP712Domain", domain)
        let messageHash = try hashStruct(primaryType, message)
        return Keccak256.hash([0x19, 0x01] + domainHash + messageHash)
    }

    func hashStruct(_ type: String, _ value: JSONNode) throws(IdentityError) -> [UInt8] {
        try Keccak256.hash(Keccak256.hash(Array(encodeType(type).utf8)) + encodeData(type, value))
    }

    /// `Name(type name,…)` for the type, then every struct type it references, sorted by name.
    func encodeType(_ type: String) throws(IdentityError) -> String {
        var found: Set<String> = []
        try collect(type, into: &found)
        found.remove(type)
        return try ([type] + found.sorted()).map { (name) throws(IdentityError) -> String in
            guard let members = types[name] else { throw IdentityError(.malformed, "type `\(name)` is not defined") }
            return name + "(" + members.map { "\($0.type) \($0.name)" }.joined(separator: ",") + ")"
        }.joined()
    }

    private func collect(_ type: String, into found: inout Set<String>) throws(IdentityError) {
        let base = TypedData.baseType(type)
        guard let members = types[base], !found.contains(base) else { return }
        found.insert(base)
        for member in members { try collect(member.type, into: &found) }
    }

    private func encodeData(_ type: String, _ value: JSONNode) throws(IdentityError) -> [UInt8] {
        guard let members = types[type] else { throw IdentityError(.malformed, "type `\(type)` is not defined") }
        guard case .object(let given) = value.value else { throw IdentityError(.malformed, "a `\(type)` value must be an object") }
        for (name, _) in given where !members.contains(where: { $0.name == name }) {
            throw IdentityError(.malformed, "`\(type)` has no member `\(name)`")
        }
        var out: [UInt8] = []
        for member in members {
            guard let field = value[member.name] else { throw IdentityError(.malformed, "`\(type).\(member.name)` is missing") }
            out += try encodeValue(member.type, field, at: "\(type).\(member.name)")
        }
        return out
    }

    /// One member as its 32-byte word: atomic values ABI-encoded, dynamic ones and arrays hashed, structs as hashStruct.
    private func encodeValue(_ type: String, _ value: JSONNode, at path: String) throws(IdentityError) -> [UInt8] {
        if type.hasSuffix("]"), let open = type.lastIndex(of: "[") {
            guard case .array(let items) = value.value else { throw IdentityError(.malformed, "`\(path)` must be an array") }
            let length = type[type.index(after: open)..<type.index(before: type.endIndex)]
            if !length.isEmpty { guard Int(length) == items.count else { throw IdentityError(.malformed, "`\(path)` must have \(length) items") } }
            var joined: [UInt8] = []
            for (index, item) in items.enumerated() { joined += try encodeValue(String(type[..<open]), item, at: "\(path)[\(index)]") }
            return Keccak256.hash(joined)
        }
        if types[type] != nil { return try hashStruct(type, value) }
        func text() throws(IdentityError) -> String {
            switch value.value {
            case .string(let string): return string
            case .number(_, let number): return number
            default: throw IdentityError(.malformed, "`\(path)` must be a string or a number")
            }
        }
        switch type {
        case "string":
            guard let string = value.stringValue else { throw IdentityError(.malformed, "`\(path)` must be a string") }
            return Keccak256.hash(Array(string.utf8))
        case "bytes":
            guard let string = value.stringValue, let bytes = Hex.decode(string, prefix: .required) else {
                throw IdentityError(.malformed, "`\(path)` must be 0x-prefixed hex")
            }
            return Keccak256.hash(bytes)
        case "bool":
            guard case .bool(let flag) = value.value else { throw IdentityError(.malformed, "`\(path)` must be a boolean") }
            return [UInt8](repeating: 0, count: 31) + [flag ? 1 : 0]
        case "address":
            let address = try EthereumAddress(try text())
            return [UInt8](repeating: 0, count: 12) + address.bytes
        default:
            break
        }
        if type.hasPrefix("bytes"), let size = Int(type.dropFirst(5)), (1...32).contains(size) {
            guard let string = value.stringValue, let bytes = Hex.decode(string, prefix: .required), bytes.count == size else {
                throw IdentityError(.malformed, "`\(path)` must be \(size) bytes of 0x-prefixed hex")
            }
            return bytes + [UInt8](repeating: 0, count: 32 - size)
        }
        for (prefix, signed) in [("uint", false), ("int", true)] where type.hasPrefix(prefix) {
            let bits = type == prefix ? 256 : Int(type.dropFirst(prefix.count)) ?? 0
            guard bits % 8 == 0, (8...256).contains(bits) else { break }
            guard let word = ABIWord.integer(try text(), bits: bits, signed: signed) else {
                throw IdentityError(.malformed, "`\(path)` is not a \(type)")
            }
            return word
        }
        throw IdentityError(.malformed, "`\(path)` has unknown type `\(type)`")
    }

    static func baseType(_ type: String) -> String {
        guard let open = type.firstIndex(of: "[") else { return type }
        return String(type[..<open])
    }
}
