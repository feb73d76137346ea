package import Foundation
import KBSClaims
import KBSXMLSecurity

/// An NVIDIA Reference Integrity Manifest (a SWID tag with an enveloped XML-DSig) whose signature and signing chain
/// have been verified: the golden measurements of one driver or VBIOS version.
package struct NVIDIARIM: Sendable {
    /// One `<Resource type="Measurement">`: RIM index `index` is SPDM measurement block `index + 1`.
    package struct Measurement: Sendable, Equatable {
        package var index: Int
        package var active: Bool
        /// The size in bytes every alternative (and the reported value) must have.
        package var size: Int
        /// `Hash0 … Hash(alternatives-1)`: any of them is a good value.
        package var alternatives: [[UInt8]]
        package var name: String
    }

    /// The `SoftwareIdentity` name (the chip, `GH100`).
    package let product: String
    /// `Meta/@colloquialVersion`: the driver version (`550.144.03`) or VBIOS version (`96.00.5E.00.01`) it describes.
    package let version: String
    /// The `SoftwareIdentity` tag id.
    package let tagID: String
    /// Every measurement resource, in document order.
    package let measurements: [Measurement]
    /// The common name of the certificate that signed it.
    package let signer: String

    /// The measurements a verifier compares.
    package var activeMeasurements: [Measurement] { measurements.filter(\.active) }

    /// The largest RIM accepted (the real ones are about 21 KB).
    static let maximumSize = 4 << 20

    /// Parses `xml` and verifies it: the enveloped signature (C14N 1.1, ECDSA-SHA384, SHA-384 digest) with the
    /// first `X509Certificate` of its `KeyInfo`, and that certificate's chain (the `X509Certificate` elements in
    /// order, leaf first) to one of `anchors` at `time`.
    ///
    /// Errors: `malformed` (not a signed SWID tag), `expired` (a signing certificate outside its validity), `chain`,
    /// `signature` (the reference digest or the signature value does not verify, or an algorithm outside the allowed
    /// set).
    ///
    /// A document whose signature verified is remembered by the SHA-256 of its bytes (``signedDocuments``): the XML
    /// signature is a function of those bytes alone. Its signing chain is checked against `anchors` at `time` on every
    /// call (``CertificateChain/verify(_:anchors:at:what:cache:)``, itself cached within the certificates' windows), so
    /// an expired chain or a removed anchor is refused whether or not the document was seen before.
    package static func verify(xml: [UInt8], anchors: [Certificate], at time: Date, what: String = "RIM") throws(EvidenceError) -> NVIDIARIM {
        guard xml.count <= maximumSize else { throw EvidenceError(.malformed, "\(what) is larger than \(maximumSize) bytes") }
        let signed = try signedDocuments.value(of: xml, domain: "RIM") { () throws(EvidenceError) in
            try verifyDocument(xml: xml, anchors: anchors, at: time, what: what)
        }
        try CertificateChain.verify(signed.certificates, anchors: anchors, at: time, what: "\(what) signing chain")
        return signed.rim
    }

    /// A RIM whose XML signature verified, with the certificates its `KeyInfo` carries (leaf first).
    struct SignedDocument: Sendable {
        var rim: NVIDIARIM
        var certificates: [Certificate]
    }

    /// Documents whose signature verified, by the SHA-256 of their bytes; a document that failed is not here.
    static let signedDocuments = ParsedCache<SignedDocument>(capacity: 64)

    /// The full check: parse, chain, XML signature, measurements.
    private static func verifyDocument(
        xml: [UInt8], anchors: [Certificate], at time: Date, what: String
    ) throws(EvidenceError) -> SignedDocument {
        let unavailable = { (error: XMLSecurityError) in EvidenceError(.configuration, error.message) }
        return try XMLSecurity.withLock(unavailable: unavailable) { () throws(EvidenceError) -> SignedDocument in
            guard let document = XMLDocument(xml), let root = document.root else {
                throw EvidenceError(.malformed, "\(what) is not well-formed XML")
            }
            guard !document.hasDTD else { throw EvidenceError(.malformed, "\(what) declares a DTD") }
            guard root.localName == "SoftwareIdentity" else {
                throw EvidenceError(.malformed, "\(what) is not a SWID tag (root element <\(root.localName)>)")
            }
            // The signature must envelop the whole document: one Signature, a child of the root, one reference to "".
            let signatures = root.descendants.filter { $0.is("Signature", in: Names.dsig) }
            guard signatures.count == 1, let signature = signatures.first,
                root.elements.contains(signature)
            else {
                throw EvidenceError(.malformed, "\(what) needs exactly one ds:Signature as a child of <SoftwareIdentity>")
            }
            let references = signature.descendants.filter { $0.is("Reference", in: Names.dsig) }
            guard references.count == 1, references.first?.attribute(anyNamespace: "URI") == "" else {
                throw EvidenceError(.malformed, "\(what): the signature must have exactly one reference, to the whole document")
            }
            let certificates = try signingCertificates(signature, what: what)
            guard let leaf = certificates.first else { throw EvidenceError(.malformed, "\(what) has no X509Certificate") }
            try CertificateChain.verify(certificates, anchors: anchors, at: time, what: "\(what) signing chain")
            switch XMLSecurity.verifyEnvelopedDocument(signature, certificatePEM: pem(leaf.der)) {
            case .valid: break
            case .invalid:
                throw EvidenceError(.signature, "\(what): XML signature (reference digest or signature value) does not verify")
            case .refused:
                throw EvidenceError(.signature, "\(what): XML signature uses a transform or algorithm outside the allowed set, or is malformed")
            case .badKey:
                throw EvidenceError(.signature, "\(what): the signing certificate's key is unusable")
            }
            let meta = root.elements.first { $0.localName == "Meta" }
            let payload = root.elements.first { $0.localName == "Payload" }
            guard let payload else { throw EvidenceError(.malformed, "\(what) has no <Payload>") }
            let rim = NVIDIARIM(
                product: root.attribute(anyNamespace: "name") ?? "", version: meta?.attribute(anyNamespace: "colloquialVersion") ?? "",
                tagID: root.attribute(anyNamespace: "tagId") ?? "", measurements: try measurements(payload, what: what),
                signer: leaf.commonName)
            return SignedDocument(rim: rim, certificates: certificates)
        }
    }

    private enum Names {
        static let dsig = "http://www.w3.org/2000/09/xmldsig#"
    }

    private static func signingCertificates(_ signature: XMLElement, what: String) throws(EvidenceError) -> [Certificate] {
        let elements = signature.descendants.filter { $0.is("X509Certificate", in: Names.dsig) }
        guard elements.count <= 8 else { throw EvidenceError(.malformed, "\(what) carries \(elements.count) certificates") }
        var result: [Certificate] = []
        for element in elements {
            let text = element.text.filter { !$0.isWhitespace }
            guard let der = Data(base64Encoded: text) else {
                throw EvidenceError(.malformed, "\(what): an X509Certificate is not base64")
            }
            result.append(try Certificate(der: Array(der)))
        }
        return result
    }

    private static func pem(_ der: [UInt8]) -> [UInt8] {
        let body = Data(der).base64EncodedString(options: [.lineLength64Characters, .endLineWithLineFeed])
        return Array("-----BEGIN CERTIFICATE-----\n\(body)\n-----END CERTIFICATE-----\n".utf8)
    }

    private static func measurements(_ payload: XMLElement, what: String) throws(EvidenceError) -> [Measurement] {
        var result: [Measurement] = []
        var seen = Set<Int>()
        for resource in payload.elements where resource.localName == "Resource" && resource.attribute(anyNamespace: "type") == "Measurement" {
            guard result.count < 1024 else { throw EvidenceError(.malformed, "\(what) has too many measurements") }
            guard let index = resource.attribute(anyNamespace: "index").flatMap({ Int($0) }), (0...254).contains(index),
                let size = resource.attribute(anyNamespace: "size").flatMap({ Int($0) }), (1...1024).contains(size),
                let count = resource.attribute(anyNamespace: "alternatives").flatMap({ Int($0) }), (1...64).contains(count)
            else { throw EvidenceError(.malformed, "\(what): a measurement resource lacks a valid index, size or alternatives") }
            guard seen.insert(index).inserted else { throw EvidenceError(.malformed, "\(what) lists index \(index) twice") }
            let active: Bool
            switch resource.attribute(anyNamespace: "active")?.lowercased() {
            case "true": active = true
            case "false": active = false
            default: throw EvidenceError(.malformed, "\(what): measurement \(index) has no active=\"True|False\"")
            }
            var alternatives: [[UInt8]] = []
            for number in 0..<count {
                guard let text = resource.attribute(anyNamespace: "Hash\(number)"), let value = Hex.decode(text, prefix: .allowed) else {
                    throw EvidenceError(.malformed, "\(what): measurement \(index) lacks Hash\(number)")
                }
                alternatives.append(value)
            }
            result.append(
                Measurement(
                    index: index, active: active, size: size, alternatives: alternatives, name: resource.attribute(anyNamespace: "name") ?? ""))
        }
        return result
    }
}
