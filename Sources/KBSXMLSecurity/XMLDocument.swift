import CXMLSec

/// A document parsed by libxml2 with no DTD loading, no entity substitution and no network; freed when the last
/// reference goes.
///
/// Not `Sendable`: parsed, walked and verified inside ``XMLSecurity/withLock(unavailable:_:)``, never outside it.
package final class XMLDocument {
    let pointer: xmlDocPtr

    /// Parses `bytes`; nil when they are empty or not well-formed XML.
    package init?(_ bytes: [UInt8]) {
        guard !bytes.isEmpty, bytes.count < Int(Int32.max) else { return nil }
        let parsed = bytes.withUnsafeBufferPointer { buffer in
            buffer.baseAddress.flatMap { base in
                base.withMemoryRebound(to: CChar.self, capacity: buffer.count) { kbs_xml_parse($0, Int32(buffer.count)) }
            }
        }
        guard let parsed else { return nil }
        pointer = parsed
    }

    deinit { xmlFreeDoc(pointer) }

    /// Whether the document declares a DTD (internal or external subset). The parser neither loads nor expands
    /// one, but a credential that carries one is refused all the same.
    package var hasDTD: Bool { pointer.pointee.intSubset != nil || pointer.pointee.extSubset != nil }

    /// The root element.
    package var root: XMLElement? { xmlDocGetRootElement(pointer).map { XMLElement(pointer: $0, document: self) } }
}
