import CXMLSec
import Synchronization

/// libxml2 and xmlsec for RIM verification, initialised once and used under one lock.
///
/// The SAML verifier in `KBSIdentity` keeps its own lock over the same libraries; this module cannot reach it, so
/// initialisation goes through `kbs_xmlsec_init_shared`, which leaves xmlsec's global registries alone when they are
/// already set up. Each verification has its own document and DSig context, so the two locks only ever guard
/// independent work.
enum RIMXMLSecurity {
    private static let lock = Mutex<Int32?>(nil)

    /// Runs `body` with the libraries initialised; a `configuration` error when they cannot be.
    static func withLock<T>(_ body: () throws(EvidenceError) -> T) throws(EvidenceError) -> T {
        let result: Result<T, EvidenceError> = lock.withLock { state in
            if state == nil { state = kbs_xmlsec_init_shared() }
            guard let status = state, status == 0 else {
                return .failure(EvidenceError(.configuration, "xmlsec could not be initialised (\(state ?? -99))"))
            }
            kbs_xml_silence_thread()
            do throws(EvidenceError) { return .success(try body()) } catch { return .failure(error) }
        }
        return try result.get()
    }

    /// What xmlsec said of one signature.
    enum Verdict: Equatable {
        case valid
        /// Processed, and the reference digest or the signature value does not match.
        case invalid
        /// Not processed: an algorithm or transform outside the allowed set, or a bad structure.
        case refused
        case badKey
    }

    /// Verifies the enveloped `ds:Signature` element with the certificate `pem` (call inside ``withLock(_:)``).
    static func verify(signature: RIMXMLElement, certificatePEM pem: [UInt8]) -> Verdict {
        let status = pem.withUnsafeBufferPointer { buffer in
            kbs_xmlsec_verify_rim(signature.pointer, buffer.baseAddress, buffer.count)
        }
        switch status {
        case KBS_XMLSEC_VALID: return .valid
        case KBS_XMLSEC_INVALID: return .invalid
        case KBS_XMLSEC_NO_KEY: return .badKey
        default: return .refused
        }
    }
}

/// A document parsed by libxml2 with no DTD loading, no entities and no network; freed with the last reference.
///
/// Not `Sendable`: used only inside ``RIMXMLSecurity/withLock(_:)``.
final class RIMXMLDocument {
    let pointer: xmlDocPtr

    /// Parses `bytes`; nil when they are not well-formed XML.
    init?(_ bytes: [UInt8]) {
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

    /// Whether the document declares a DTD (internal or external subset).
    var hasDTD: Bool { pointer.pointee.intSubset != nil || pointer.pointee.extSubset != nil }

    var root: RIMXMLElement? { xmlDocGetRootElement(pointer).map { RIMXMLElement(pointer: $0, document: self) } }
}

/// One element of a ``RIMXMLDocument``; holds the document alive.
struct RIMXMLElement {
    let pointer: xmlNodePtr
    let document: RIMXMLDocument

    var localName: String { String(cString: pointer.pointee.name) }

    /// The namespace URI, or nil when the element has none.
    var namespace: String? { pointer.pointee.ns.flatMap { $0.pointee.href }.map { String(cString: $0) } }

    func `is`(_ name: String, in namespace: String) -> Bool { localName == name && self.namespace == namespace }

    /// The child elements, in order.
    var elements: [RIMXMLElement] {
        var result: [RIMXMLElement] = []
        var child = pointer.pointee.children
        while let node = child {
            if node.pointee.type == XML_ELEMENT_NODE { result.append(RIMXMLElement(pointer: node, document: document)) }
            child = node.pointee.next
        }
        return result
    }

    /// Every element below this one, depth first (this one excluded).
    var descendants: [RIMXMLElement] {
        var result: [RIMXMLElement] = []
        var stack = elements.reversed() as [RIMXMLElement]
        while let next = stack.popLast() {
            result.append(next)
            stack.append(contentsOf: next.elements.reversed())
        }
        return result
    }

    /// Every attribute as (local name, value), whatever its namespace: RIM hashes sit in a namespace named after
    /// the digest algorithm (`ns2:Hash0`).
    var attributes: [(name: String, value: String)] {
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

    /// The value of the attribute with local name `name` (any namespace); nil when absent.
    func attribute(_ name: String) -> String? { attributes.first { $0.name == name }?.value }

    /// All text below the element, concatenated.
    var text: String {
        guard let content = xmlNodeGetContent(pointer) else { return "" }
        defer { kbs_xml_free(content) }
        return String(cString: content)
    }
}
