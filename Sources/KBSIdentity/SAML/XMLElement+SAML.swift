import KBSClaims
import KBSXMLSecurity

extension XMLElement {
    /// The only child element called `name`; nil when there is none, a `wrapping` error when there are several (a
    /// second `<Signature>` or `<Issuer>` is how a wrapped document smuggles in content).
    func element(_ name: String, in namespace: String) throws(IdentityError) -> XMLElement? {
        let found = elements(name, in: namespace)
        guard found.count <= 1 else { throw IdentityError(.wrapping, "<\(localName)> holds \(found.count) <\(name)> elements") }
        return found.first
    }
}
