import CXMLSec

/// What xmlsec said of one signature.
package enum XMLSignatureVerdict<Signed> {
    /// The signature and its reference verify; what the profile hands back of the signed content.
    case valid(Signed)
    /// Processed, and the reference digest or the signature value does not match.
    case invalid
    /// Not processed: a reference, transform or algorithm outside the profile, or a bad structure.
    case refused
    /// The certificate did not load.
    case badKey
}

extension XMLSecurity {
    /// Verifies a `ds:Signature` whose one reference is a same-document `#id` (SAML): exclusive C14N, the enveloped
    /// transform, SHA-256/512 digests, RSA or ECDSA with SHA-256 or stronger, the key of the PEM certificate `pem`.
    /// Valid carries the bytes the reference's digest was computed over: the canonical form of the signed element,
    /// the only bytes identity may be read from. Call inside ``withLock(unavailable:_:)``.
    package static func verifyReferencedElement(_ signature: XMLElement, certificatePEM pem: [UInt8]) -> XMLSignatureVerdict<[UInt8]> {
        var output: UnsafeMutablePointer<UInt8>?
        var length = 0
        let status = pem.withUnsafeBufferPointer { buffer in
            kbs_xmlsec_verify(signature.pointer, buffer.baseAddress, buffer.count, &output, &length)
        }
        defer { free(output) }
        switch status {
        case KBS_XMLSEC_VALID:
            guard let output else { return .refused }
            return .valid(Array(UnsafeBufferPointer(start: output, count: length)))
        case KBS_XMLSEC_INVALID: return .invalid
        case KBS_XMLSEC_NO_KEY: return .badKey
        default: return .refused
        }
    }

    /// Verifies the enveloped `ds:Signature` of a whole document (an NVIDIA RIM): one reference to `""`, the
    /// enveloped transform, inclusive C14N 1.0 or 1.1, SHA-384/256 digests, ECDSA-SHA384, the key of the PEM
    /// certificate `pem`. Call inside ``withLock(unavailable:_:)``.
    package static func verifyEnvelopedDocument(_ signature: XMLElement, certificatePEM pem: [UInt8]) -> XMLSignatureVerdict<Void> {
        let status = pem.withUnsafeBufferPointer { buffer in
            kbs_xmlsec_verify_rim(signature.pointer, buffer.baseAddress, buffer.count)
        }
        switch status {
        case KBS_XMLSEC_VALID: return .valid(())
        case KBS_XMLSEC_INVALID: return .invalid
        case KBS_XMLSEC_NO_KEY: return .badKey
        default: return .refused
        }
    }
}
