import KBSClaims

/// Strict JSON for credentials: duplicate member names are refused (Foundation's two parsers disagree on which
/// duplicate wins, so "reject" is the only safe reading), and so is anything but one object.
enum CredentialJSON {
    static func object(_ bytes: [UInt8], what: String) throws(IdentityError) -> JSONNode {
        let node: JSONNode
        do {
            node = try JSONNode.parse(bytes)
        } catch {
            throw IdentityError(.malformed, "the \(what) is not valid JSON: \(error.message) at byte \(error.offset)")
        }
        guard case .object = node.value else { throw IdentityError(.malformed, "the \(what) must be a JSON object, not \(node.kindName)") }
        return node
    }

    /// A member that must be a string when present.
    static func string(_ node: JSONNode, _ name: String, in what: String) throws(IdentityError) -> String? {
        guard let member = node[name] else { return nil }
        guard let text = member.stringValue else { throw IdentityError(.malformed, "`\(name)` in the \(what) must be a string") }
        return text
    }

    /// A NumericDate member (RFC 7519 §2): seconds since the epoch, fractions dropped.
    static func seconds(_ node: JSONNode, _ name: String, in what: String) throws(IdentityError) -> Int64? {
        guard let member = node[name] else { return nil }
        guard case .number(let integer, let text) = member.value else {
            throw IdentityError(.malformed, "`\(name)` in the \(what) must be a number of seconds")
        }
        if let integer { return integer }
        guard let value = Double(text), value.isFinite, abs(value) < 1e15 else {
            throw IdentityError(.malformed, "`\(name)` in the \(what) is out of range")
        }
        return Int64(value.rounded(.down))
    }

    /// The members of an object, in order.
    static func members(_ node: JSONNode) -> [(key: String, value: JSONNode)] {
        if case .object(let members) = node.value { return members }
        return []
    }
}
