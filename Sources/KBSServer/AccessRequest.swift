import KBSClaims
import KBSPolicy

/// Where a request's identifying strings sit in its body, as JSON string tokens (quotes included), for the log.
struct RequestTokens {
    var subjectType: Range<Int>
    var subjectID: Range<Int>
    var actionName: Range<Int>
    var resourceType: Range<Int>
    var resourceID: Range<Int>
}

/// One AuthZEN access evaluation request, checked against the 1.0 information model.
struct AccessRequest {
    /// Longest subject or resource `type` and action `name`, counted in bytes of the JSON token between its quotes.
    static let maximumNameBytes = 256
    /// Longest subject or resource `id`, counted the same way. Both go into every decision-log line, so they are
    /// bounded to keep one request from filling the log queue.
    static let maximumIDBytes = 1024

    static func limit(of member: String) -> Int { member == "id" ? maximumIDBytes : maximumNameBytes }

    var subject: JSONNode
    var action: JSONNode
    var resource: JSONNode
    var context: JSONNode?

    /// The identifying strings' tokens (the checks in `init` guarantee they exist).
    var tokens: RequestTokens {
        RequestTokens(
            subjectType: subject["type"]!.range, subjectID: subject["id"]!.range, actionName: action["name"]!.range,
            resourceType: resource["type"]!.range, resourceID: resource["id"]!.range)
    }

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
            if let properties = node["properties"], case .object = properties.value {
            } else if let properties = node["properties"] {
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
            guard value.range.count - 2 <= limit(of: name) else {
                throw .badRequest("invalid_request", "`\(path).\(name)` is longer than \(limit(of: name)) bytes")
            }
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

/// The single-evaluation path: the same checks as ``AccessRequest``, in one pass over the body without a tree.
enum SingleAccessRequest {
    private static let reader = JSONFieldReader(paths: [
        ["subject"], ["subject", "type"], ["subject", "id"], ["subject", "properties"],
        ["action"], ["action", "name"], ["action", "properties"],
        ["resource"], ["resource", "type"], ["resource", "id"], ["resource", "properties"],
        ["context"],
    ])

    /// Checks `body` as an evaluation request and returns where its identifying strings are.
    static func check(_ body: [UInt8]) throws(ServerError) -> RequestTokens {
        let fields: [JSONField?]
        do {
            fields = try reader.read(body)
        } catch {
            if error.message.hasPrefix("expected an object, not ") {
                throw .badRequest("invalid_request", "the body must be a JSON object, not \(error.message.dropFirst(24))")
            }
            throw .badRequest("invalid_json", "the body is not valid JSON: \(error.message) at byte \(error.offset)")
        }
        func object(_ index: Int, _ name: String, required: Bool) throws(ServerError) {
            guard let field = fields[index] else {
                if required { throw .badRequest("invalid_request", "missing required member `\(name)`") }
                return
            }
            guard field.kind == .object else { throw .badRequest("invalid_request", "`\(name)` must be an object, not \(field.kind.name)") }
        }
        func string(_ index: Int, _ name: String) throws(ServerError) -> Range<Int> {
            guard let field = fields[index] else { throw .badRequest("invalid_request", "missing required member `\(name)`") }
            guard field.kind == .string else { throw .badRequest("invalid_request", "`\(name)` must be a string, not \(field.kind.name)") }
            guard field.range.count > 2 else { throw .badRequest("invalid_request", "`\(name)` must not be empty") }
            let limit = AccessRequest.limit(of: name.hasSuffix(".id") ? "id" : "name")
            guard field.range.count - 2 <= limit else { throw .badRequest("invalid_request", "`\(name)` is longer than \(limit) bytes") }
            return field.range
        }
        try object(0, "subject", required: true)
        try object(4, "action", required: true)
        try object(7, "resource", required: true)
        try object(11, "context", required: false)
        let tokens = RequestTokens(
            subjectType: try string(1, "subject.type"), subjectID: try string(2, "subject.id"), actionName: try string(5, "action.name"),
            resourceType: try string(8, "resource.type"), resourceID: try string(9, "resource.id"))
        try object(3, "subject.properties", required: false)
        try object(6, "action.properties", required: false)
        try object(10, "resource.properties", required: false)
        return tokens
    }
}
