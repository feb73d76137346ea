package import KBSClaims

/// Strict JSON for JOSE objects and credentials: duplicate member names are refused (Foundation's two parsers
/// disagree on which duplicate wins, so "reject" is the only safe reading), and so is anything but one object.
package enum JOSEJSON {
    /// Parses `bytes` as one JSON object; `what` names it in the message.
    package static func object(_ bytes: [UInt8], what: String) throws(JOSEError) -> JSONNode {
        let node: JSONNode
        do {
            node = try JSONNode.parse(bytes)
        } catch {
            throw JOSEError(.malformed, "the \(what) is not valid JSON: \(error.message) at byte \(error.offset)")
        }
        guard case .object = node.value else { throw JOSEError(.malformed, "the \(what) must be a JSON object, not \(node.kindName)") }
        return node
    }

    /// A member that must be a string when present.
    package static func string(_ node: JSONNode, _ name: String, in what: String) throws(JOSEError) -> String? {
        guard let member = node[name] else { return nil }
        guard let text = member.stringValue else { throw JOSEError(.malformed, "`\(name)` in the \(what) must be a string") }
        return text
    }
}
