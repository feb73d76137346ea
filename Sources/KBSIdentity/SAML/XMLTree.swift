import CXMLSec

/// A document parsed by libxml2 with no DTD, no entities and no network; freed when the last reference goes.
///
/// Not `Sendable`: libxml2 trees are used inside ``XMLSecurity/withLock(_:)`` and never leave it.
final class XMLDocument {
    let pointer: xmlDocPtr

    /// Parses `bytes`; nil when they are not well-formed XML.
    init?(_ bytes: [UInt8]) {
        guard bytes.count < Int(Int32.max) else { return nil }
        let parsed = bytes.withUnsafeBufferPointer { buffer in
            buffer.baseAddress.flatMap { base in
                base.withMemoryRebound(to: CChar.self, capacity: buffer.count) { kbs_xml_parse($0, Int32(buffer.count)) }
            }
        }
        guard let parsed else { return nil }
        pointer = parsed
    }

    deinit { xmlFreeDoc(pointer) }

    /// Whether the document declares a DTD (internal or external subset).
    var hasDTD: Bool { pointer.pointee.intSubset != nil || pointer.pointee.extSubset != nil }

    var root: XMLElement? { xmlDocGetRootElement(pointer).map { XMLElement(pointer: $0, document: self) } }
}

/// One element of an ``XMLDocument``; holds the document alive.
struct XMLElement {
    let pointer: xmlNodePtr
    let document: XMLDocument

    var localName: String { String(cString: pointer.pointee.name) }

    /// The namespace URI, or nil when the element has none.
    var namespace: String? { pointer.pointee.ns.flatMap { $0.pointee.href }.map { String(cString: $0) } }

    func `is`(_ name: String, in namespace: String) -> Bool { localName == name && self.namespace == namespace }

    /// The child elements, in order (text, comments and processing instructions skipped).
    var elements: [XMLElement] {
        var result: [XMLElement] = []
        var child = pointer.pointee.children
        while let node = child {
            if node.pointee.type == XML_ELEMENT_NODE { result.append(XMLElement(pointer: node, document: document)) }
            child = node.pointee.next
        }
        return result
    }

    /// The child elements called `name` in `namespace`.
    func elements(_ name: String, in namespace: String) -> [XMLElement] { elements.filter { $0.is(name, in: namespace) } }

    /// The only child element called `name`; nil when there is none, a `wrapping` error when there are several.
    func element(_ name: String, in namespace: String) throws(IdentityError) -> XMLElement? {
        let found = elements(name, in: namespace)
        guard found.count <= 1 else { throw IdentityError(.wrapping, "<\(localName)> holds \(found.count) <\(name)> elements") }
        return found.first
    }

    /// Every element below this one, depth first (this one excluded).
    var descendants: [XMLElement] {
        var result: [XMLElement] = []
        var stack = elements.reversed() as [XMLElement]
        while let next = stack.popLast() {
            result.append(next)
            stack.append(contentsOf: next.elements.reversed())
        }
        return result
    }

    /// The value of the attribute `name` that has no namespace.
    func attribute(_ name: String) -> String? {
        guard let value = xmlGetNoNsProp(pointer, name) else { return nil }
        defer { kbs_xml_free(value) }
        return String(cString: value)
    }

    /// The attribute node `name` (no namespace), for registering IDs.
    func attributeNode(_ name: String) -> xmlAttrPtr? { xmlHasNsProp(pointer, name, nil) }

    /// All text below the element, concatenated; comments are not text, so a comment cannot cut a value short.
    var text: String {
        guard let content = xmlNodeGetContent(pointer) else { return "" }
        defer { kbs_xml_free(content) }
        return String(cString: content)
    }
}
