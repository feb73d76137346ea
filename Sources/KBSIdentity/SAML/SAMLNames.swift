import Foundation
import KBSClaims

/// The namespaces and algorithm URIs a SAML response is read with.
enum SAMLNames {
    static let protocolNamespace = "urn:oasis:names:tc:SAML:2.0:protocol"
    static let assertionNamespace = "urn:oasis:names:tc:SAML:2.0:assertion"
    static let signatureNamespace = "http://www.w3.org/2000/09/xmldsig#"
    static let success = "urn:oasis:names:tc:SAML:2.0:status:Success"
    static let bearer = "urn:oasis:names:tc:SAML:2.0:cm:bearer"

    static let exclusiveC14N = "http://www.w3.org/2001/10/xml-exc-c14n#"
    static let enveloped = "http://www.w3.org/2000/09/xmldsig#enveloped-signature"
    /// Signature methods: RSA PKCS#1 v1.5 and ECDSA with SHA-256 or stronger. SHA-1 is refused (SHAttered).
    static let signatureMethods: Set<String> = [
        "http://www.w3.org/2001/04/xmldsig-more#rsa-sha256", "http://www.w3.org/2001/04/xmldsig-more#rsa-sha512",
        "http://www.w3.org/2001/04/xmldsig-more#ecdsa-sha256", "http://www.w3.org/2001/04/xmldsig-more#ecdsa-sha384",
    ]
    static let digestMethods: Set<String> = ["http://www.w3.org/2001/04/xmlenc#sha256", "http://www.w3.org/2001/04/xmlenc#sha512"]
}

/// PEM certificates: the DER of each `CERTIFICATE` block, and each block's text for xmlsec.
struct PEMCertificates {
    var blocks: [(pem: [UInt8], der: [UInt8])]

    /// Reads every `-----BEGIN CERTIFICATE-----` block; a `configuration` error when there is none or one is bad.
    init(_ bytes: [UInt8]) throws(IdentityError) {
        let text = String(decoding: bytes, as: UTF8.self)
        let begin = "-----BEGIN CERTIFICATE-----"
        let end = "-----END CERTIFICATE-----"
        var blocks: [(pem: [UInt8], der: [UInt8])] = []
        var rest = text[...]
        while let start = rest.range(of: begin) {
            guard let stop = rest.range(of: end, range: start.upperBound..<rest.endIndex) else {
                throw IdentityError(.configuration, "the IdP certificate file has a BEGIN line without its END")
            }
            let body = rest[start.upperBound..<stop.lowerBound].filter { !$0.isWhitespace }
            guard let der = Base64URL.decodeStandard(Array(body.utf8)), !der.isEmpty else {
                throw IdentityError(.configuration, "an IdP certificate is not valid base64")
            }
            blocks.append((Array((String(rest[start.lowerBound..<stop.upperBound]) + "\n").utf8), der))
            rest = rest[stop.upperBound...]
        }
        guard !blocks.isEmpty else { throw IdentityError(.configuration, "the IdP certificate file holds no PEM certificate") }
        self.blocks = blocks
    }
}
