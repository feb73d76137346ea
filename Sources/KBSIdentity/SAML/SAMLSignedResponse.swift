import KBSClaims
import KBSXMLSecurity

/// A SAML Response reduced to what its signatures cover: the assertion and response read from the bytes the
/// signatures' digests were computed over, never from the document the attacker sent.
///
/// That is the defence against signature wrapping (XSW): whatever else the document holds, identity is read from
/// a re-parse of the canonical signed bytes, and a document with more than one assertion, duplicate IDs, or a
/// reference to anything but the signature's own parent is refused before that.
struct SAMLSignedResponse {
    /// The Response element: from its signed bytes when the Response is signed, else from the document (its
    /// members then only ever narrow what is accepted).
    var response: XMLElement
    var responseSigned: Bool
    /// The one Assertion, from signed bytes.
    var assertion: XMLElement

    /// Largest response accepted.
    static let maximumBytes = 256 * 1024

    /// Parses and verifies `bytes` against `certificates` (inside `XMLSecurity.withLock`).
    init(_ bytes: [UInt8], certificates: PEMCertificates) throws(IdentityError) {
        typealias Names = SAMLNames
        guard bytes.count <= Self.maximumBytes else { throw IdentityError(.malformed, "the response is over \(Self.maximumBytes) bytes") }
        // DTDs bring entity expansion and external fetches (XXE); a SAML response never needs one.
        guard !Self.contains(bytes, "<!DOCTYPE"), !Self.contains(bytes, "<!ENTITY") else {
            throw IdentityError(.malformed, "the response declares a DTD")
        }
        guard let document = XMLDocument(bytes), !document.hasDTD, let root = document.root else {
            throw IdentityError(.malformed, "the response is not well-formed XML")
        }
        guard root.is("Response", in: Names.protocolNamespace) else {
            throw IdentityError(.malformed, "the document is not a SAML 2.0 <samlp:Response>")
        }

        var assertions: [XMLElement] = []
        var ids: Set<String> = []
        for element in [root] + root.descendants {
            if element.is("EncryptedAssertion", in: Names.assertionNamespace) {
                throw IdentityError(.unsupported, "encrypted assertions are not supported")
            }
            if element.is("Assertion", in: Names.assertionNamespace) { assertions.append(element) }
            if let id = element.attribute("ID") {
                guard ids.insert(id).inserted else { throw IdentityError(.wrapping, "ID `\(id.prefix(64))` is used twice") }
                // xmlsec resolves `#id` through the document's ID table.
                element.registerID(attribute: "ID")
            }
        }
        guard assertions.count <= 1 else {
            throw IdentityError(.wrapping, "the response holds \(assertions.count) assertions; exactly one is accepted")
        }
        guard let assertion = assertions.first else { throw IdentityError(.missingClaim, "the response holds no assertion") }

        let responseSignature = try root.element("Signature", in: Names.signatureNamespace)
        let assertionSignature = try assertion.element("Signature", in: Names.signatureNamespace)
        guard responseSignature != nil || assertionSignature != nil else {
            throw IdentityError(.unsigned, "neither the response nor the assertion is signed")
        }
        // Every signature present must verify: a bad one is an attack, not something to skip.
        let signedResponse = try responseSignature.map { (signature) throws(IdentityError) in
            try Self.verify(signature, of: root, certificates: certificates)
        }
        let signedAssertion = try assertionSignature.map { (signature) throws(IdentityError) in
            try Self.verify(signature, of: assertion, certificates: certificates)
        }
        if let signedAssertion {
            self.assertion = signedAssertion
        } else if let signedResponse {
            let inside = signedResponse.elements("Assertion", in: Names.assertionNamespace)
            guard inside.count == 1, inside[0].attribute("ID") == assertion.attribute("ID") else {
                throw IdentityError(.wrapping, "the signed response does not hold the document's assertion")
            }
            self.assertion = inside[0]
        } else {
            throw IdentityError(.unsigned, "no signature covers the assertion")
        }
        response = signedResponse ?? root
        responseSigned = signedResponse != nil
    }

    /// Checks one signature's shape, then verifies it; returns the signed element re-parsed from its signed bytes.
    private static func verify(_ signature: XMLElement, of parent: XMLElement, certificates: PEMCertificates) throws(IdentityError) -> XMLElement {
        typealias Names = SAMLNames
        let dsig = Names.signatureNamespace
        guard let signedInfo = try signature.element("SignedInfo", in: dsig) else {
            throw IdentityError(.malformed, "<Signature> has no <SignedInfo>")
        }
        guard try signedInfo.element("CanonicalizationMethod", in: dsig)?.attribute("Algorithm") == Names.exclusiveC14N else {
            throw IdentityError(.algorithm, "SignedInfo must be canonicalized with exclusive C14N")
        }
        guard let method = try signedInfo.element("SignatureMethod", in: dsig)?.attribute("Algorithm"),
            Names.signatureMethods.contains(method)
        else { throw IdentityError(.algorithm, "the signature method is not RSA or ECDSA with SHA-256 or stronger") }
        let references = signedInfo.elements("Reference", in: dsig)
        guard references.count == 1, let reference = references.first else {
            throw IdentityError(.wrapping, "the signature has \(references.count) references; exactly one is accepted")
        }
        guard let id = parent.attribute("ID"), !id.isEmpty, reference.attribute("URI") == "#" + id else {
            throw IdentityError(.wrapping, "the signature does not reference the element it sits in")
        }
        for transform in try reference.element("Transforms", in: dsig)?.elements ?? [] {
            guard transform.is("Transform", in: dsig),
                [Names.enveloped, Names.exclusiveC14N].contains(transform.attribute("Algorithm") ?? "")
            else { throw IdentityError(.wrapping, "only the enveloped-signature and exclusive C14N transforms are accepted") }
        }
        guard let digest = try reference.element("DigestMethod", in: dsig)?.attribute("Algorithm"), Names.digestMethods.contains(digest) else {
            throw IdentityError(.algorithm, "the digest method is not SHA-256 or SHA-512")
        }

        // The key is ours, never the message's: an embedded certificate must be one we pinned.
        var candidates = certificates.blocks
        let embedded =
            (try signature.element("KeyInfo", in: dsig)).map { keyInfo in
                keyInfo.descendants.filter { $0.is("X509Certificate", in: dsig) }
            } ?? []
        for certificate in embedded {
            guard let der = Base64URL.decodeStandard(Array(certificate.text.filter { !$0.isWhitespace }.utf8)),
                let pinned = certificates.blocks.first(where: { constantTimeEqual($0.der, der) })
            else { throw IdentityError(.untrustedKey, "the signature carries a certificate that is not the IdP's") }
            candidates = [pinned]
        }

        for candidate in candidates {
            switch XMLSecurity.verifyReferencedElement(signature, certificatePEM: candidate.pem) {
            case .valid(let preDigest):
                guard let signed = XMLDocument(preDigest), let element = signed.root,
                    element.localName == parent.localName, element.namespace == parent.namespace, element.attribute("ID") == id
                else { throw IdentityError(.wrapping, "the signed bytes are not the element the signature sits in") }
                return element
            case .invalid: continue
            case .refused: throw IdentityError(.signature, "the signature could not be processed (a reference or transform outside what is allowed)")
            case .badKey: throw IdentityError(.configuration, "an IdP certificate does not load")
            }
        }
        throw IdentityError(.signature, "the signature does not verify with the IdP's certificate")
    }

    private static func contains(_ bytes: [UInt8], _ needle: String) -> Bool {
        let pattern = Array(needle.utf8)
        guard bytes.count >= pattern.count else { return false }
        for start in 0...(bytes.count - pattern.count) where bytes[start] == pattern[0] {
            if bytes[start..<start + pattern.count].elementsEqual(pattern) { return true }
        }
        return false
    }
}
