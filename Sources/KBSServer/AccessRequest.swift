import KBSPolicy

/// One AuthZEN access evaluation request, checked against the 1.0 information model.
struct AccessRequest {
    var subject: JSONNode
    var action: JSONNode
    var resource: JSONNode
    var context: JSONNode?

    /// The default 4-tuple of an `evaluations` request (each member optional).
    struct Defaults {
        var subject: JSONNode?
        var action: JSONNode?
        var resource: JSONNode?
        var context: JSONNode?
    }

    /// Parses a body that must be one JSON object.
    static func parseObject(_ bytes: [UInt8]) throws(ServerError) -> JSONNode {
        let root: JSONNode
        do {
            root = try JSONNode.parse(bytes)
        } catch {
            throw .badRequest("invalid_json", "the body is not valid JSON: \(error.message) at byte \(error.offset)")
        }
        guard case .object = root.value else {
            throw .badRequest("invalid_request", "the body must be a JSON object, not \(root.kindName)")
        }
        return root
    }

    /// Reads the 4-tuple from `object`, falling back to `defaults` member by member.
    init(_ object: JSONNode, defaults: Defaults = Defaults(), at path: String = "") throws(ServerError) {
        func member(_ name: String, _ fallback: JSONNode?) throws(ServerError) -> JSONNode? {
            guard let node = object[name] ?? fallback else { return nil }
            guard case .object = node.value else {
                throw .badRequest("invalid_request", "`\(path)\(name)` must be an object, not \(node.kindName)")
            }
            return node
        }
        func required(_ name: String, _ fallback: JSONNode?) throws(ServerError) -> JSONNode {
            guard let node = try member(name, fallback) else {
                throw .badRequest("invalid_request", "missing required member `\(path)\(name)`")
            }
            return node
        }
        subject = try required("subject", defaults.subject)
        action = try required("action", defaults.action)
        resource = try required("resource", defaults.resource)
        context = try member("context", defaults.context)
        try AccessRequest.checkStrings(subject, ["type", "id"], at: path + "subject")
        try AccessRequest.checkStrings(action, ["name"], at: path + "action")
        try AccessRequest.checkStrings(resource, ["type", "id"], at: path + "resource")
        for (name, node) in [("subject", subject), ("action", action), ("resource", resource)] {
            if let properties = node["properties"], case .object = properties.value {} else if let properties = node["properties"] {
                throw .badRequest("invalid_request", "`\(path)\(name).properties` must be an object, not \(properties.kindName)")
            }
        }
    }

    private static func checkStrings(_ node: JSONNode, _ names: [String], at path: String) throws(ServerError) {
        for name in names {
            guard let value = node[name] else { throw .badRequest("invalid_request", "missing required member `\(path).\(name)`") }
            guard let text = value.stringValue else {
                throw .badRequest("invalid_request", "`\(path).\(name)` must be a string, not \(value.kindName)")
            }
            guard !text.isEmpty else { throw .badRequest("invalid_request", "`\(path).\(name)` must not be empty") }
        }
    }

    /// The policy input: the 4-tuple as one JSON object, built from the request's own bytes.
    func policyInput(source: [UInt8]) -> [UInt8] {
        var bytes: [UInt8] = []
        bytes.reserveCapacity(subject.range.count + action.range.count + resource.range.count + (context?.range.count ?? 0) + 64)
        bytes += Array("{\"subject\":".utf8) + source[subject.range]
        bytes += Array(",\"action\":".utf8) + source[action.range]
        bytes += Array(",\"resource\":".utf8) + source[resource.range]
        if let context { bytes += Array(",\"context\":".utf8) + source[context.range] }
        bytes.append(UInt8(ascii: "}"))
        return bytes
    }
}
