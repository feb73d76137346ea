import CXMLSec

/// One element of an ``XMLDocument``; holds the document alive. Two values are equal when they are the same node.
package struct XMLElement: Equatable {
    let pointer: xmlNodePtr
    package let document: XMLDocument

    package static func == (lhs: XMLElement, rhs: XMLElement) -> Bool { lhs.pointer == rhs.pointer }

    package var localName: String { String(cString: pointer.pointee.name) }

    /// The namespace URI, or nil when the element has none.
    package var namespace: String? { pointer.pointee.ns.flatMap { $0.pointee.href }.map { String(cString: $0) } }

    /// Whether the element is `name` in `namespace`.
    package func `is`(_ name: String, in namespace: String) -> Bool { localName == name && self.namespace == namespace }

    /// The child elements, in order (text, comments and processing instructions skipped).
    package var elements: [XMLElement] {
        var result: [XMLElement] = []
        var child = pointer.pointee.children
        while let node = child {
            if node.pointee.type == XML_ELEMENT_NODE { result.append(XMLElement(pointer: node, document: document)) }
            child = node.pointee.next
        }
        return result
    }

    /// The child elements called `name` in `namespace`.
    package func elements(_ name: String, in namespace: String) -> [XMLElement] { elements.filter { $0.is(name, in: namespace) } }

    /// Every element below this one, depth first (this one excluded).
    package var descendants: [XMLElement] {
        var result: [XMLElement] = []
        var stack = elements.reversed() as [XMLElement]
        while let next = stack.popLast() {
            result.append(next)
            stack.append(contentsOf: next.elements.reversed())
        }
        return result
    }

    /// The value of the attribute `name` that has no namespace.
    package func attribute(_ name: String) -> String? {
        guard let value = xmlGetNoNsProp(pointer, name) else { return nil }
        defer { kbs_xml_free(value) }
        return String(cString: value)
    }

    /// Every attribute as (local name, value), whatever its namespace.
    package var attributes: [(name: String, value: String)] {
        var result: [(name: String, value: String)] = []
        var attribute = pointer.pointee.properties
        while let node = attribute {
            let name = String(cString: node.pointee.name)
            var value = ""
            if let text = xmlNodeListGetString(document.pointer, node.pointee.children, 1) {
                value = String(cString: text)
                kbs_xml_free(text)
            }
            result.append((name, value))
            attribute = node.pointee.next
        }
        return result
    }

    /// The value of the first attribute with local name `name` in any namespace or none; for formats that put
    /// plain values in a namespace (an NVIDIA RIM's hashes sit in one named after the digest, `ns2:Hash0`).
    package func attribute(anyNamespace name: String) -> String? { attributes.first { $0.name == name }?.value }

    /// All text below the element, concatenated; comments are not text, so a comment cannot cut a value short.
    package var text: String {
        guard let content = xmlNodeGetContent(pointer) else { return "" }
        defer { kbs_xml_free(content) }
        return String(cString: content)
    }

    /// Enters the no-namespace attribute `name` (an `ID`) in the document's ID table, so that xmlsec resolves a
    /// `#value` reference to this element and to no other; false when the element has no such attribute.
    @discardableResult
    package func registerID(attribute name: String) -> Bool {
        guard let value = attribute(name), let node = xmlHasNsProp(pointer, name, nil) else { return false }
        return xmlAddID(nil, document.pointer, value, node) != nil
    }
}
