import KBSClaims
import KBSJOSE

/// Strict JSON for credentials: `KBSJOSE`'s reader (duplicate member names refused, one object only) with this
/// target's error, plus the JWT NumericDate.
enum CredentialJSON {
    static func object(_ bytes: [UInt8], what: String) throws(IdentityError) -> JSONNode {
        do throws(JOSEError) { return try JOSEJSON.object(bytes, what: what) } catch { throw IdentityError(error) }
    }

    /// A member that must be a string when present.
    static func string(_ node: JSONNode, _ name: String, in what: String) throws(IdentityError) -> String? {
        do throws(JOSEError) { return try JOSEJSON.string(node, name, in: what) } catch { throw IdentityError(error) }
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
}
