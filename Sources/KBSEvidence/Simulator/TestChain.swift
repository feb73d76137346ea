import COpenSSL
import Crypto
import Foundation
import KBSClaims

/// Issues the simulator's test certificates through OpenSSL, with keys made by swift-crypto.
///
/// Every name carries `O=Hanzo KBS TEE Simulator`, so nothing issued here can be mistaken for a vendor's.
struct TestChain {
    static let organization = "Hanzo KBS TEE Simulator"

    /// A signing key of the curve a vendor uses at that level.
    enum Key {
        case p256(P256.Signing.PrivateKey)
        case p384(P384.Signing.PrivateKey)

        var der: [UInt8] {
            switch self {
            case .p256(let key): Array(key.derRepresentation)
            case .p384(let key): Array(key.derRepresentation)
            }
        }

        var usesSHA384: Bool {
            if case .p384 = self { return true }
            return false
        }
    }

    /// One issued certificate with its key.
    struct Issued {
        var certificate: Certificate
        var key: Key
    }

    /// An extension to add: dotted OID and the exact extnValue DER.
    struct Extension {
        var oid: String
        var value: [UInt8]
        var critical = false
    }

    /// Issues a certificate for `key`, signed by `issuer` (self-signed when nil).
    static func issue(
        commonName: String, key: Key, issuer: Issued?, serial: [UInt8], isCA: Bool, extensions: [Extension] = [],
        notBefore: Date, notAfter: Date
    ) throws(EvidenceError) -> Issued {
        let subjectKey = try pkey(key)
        defer { EVP_PKEY_free(subjectKey) }
        let signingKey = try pkey(issuer?.key ?? key)
        defer { EVP_PKEY_free(signingKey) }
        guard
            let handle = serial.withUnsafeBufferPointer({
                kbs_certificate_new(
                    subjectKey, $0.baseAddress, Int32($0.count), Int64(notBefore.timeIntervalSince1970),
                    Int64(notAfter.timeIntervalSince1970))
            })
        else { throw failure("certificate for \(commonName)") }
        defer { X509_free(handle) }
        guard kbs_certificate_add_subject(handle, "O", organization) == 1,
            kbs_certificate_add_subject(handle, "CN", commonName) == 1
        else { throw failure("name \(commonName)") }
        let issuerHandle = issuer?.certificate.handle ?? handle
        guard kbs_certificate_set_issuer(handle, issuerHandle) == 1 else { throw failure("issuer of \(commonName)") }
        var all = extensions
        if isCA {
            all.append(Extension(oid: "2.5.29.19", value: DERWriter.sequence([DERWriter.boolean(true)]), critical: true))
            all.append(Extension(oid: "2.5.29.15", value: DERWriter.tlv(0x03, [0x01, 0x06]), critical: true))  // keyCertSign, cRLSign
        }
        for item in all {
            let added = item.value.withUnsafeBufferPointer {
                kbs_certificate_add_extension(handle, item.oid, $0.baseAddress, Int32($0.count), item.critical ? 1 : 0)
            }
            guard added == 1 else { throw failure("extension \(item.oid)") }
        }
        guard kbs_certificate_sign(handle, signingKey, (issuer?.key ?? key).usesSHA384 ? 1 : 0) == 1 else {
            throw failure("signature of \(commonName)")
        }
        var pointer: UnsafeMutablePointer<UInt8>?
        let length = kbs_x509_der(handle, &pointer)
        guard length > 0, let pointer else { throw failure("encoding of \(commonName)") }
        defer { kbs_openssl_free(pointer) }
        let der = Array(UnsafeBufferPointer(start: pointer, count: Int(length)))
        return Issued(certificate: try Certificate(der: der), key: key)
    }

    /// A self-signed root and one CA under it, each with a fresh key from `key`, valid from a day ago for 25 years.
    static func authorityPair(root: String, intermediate: String, key: () -> Key, now: Date) throws(EvidenceError) -> [Issued] {
        let notAfter = now + 25 * 365 * 86400
        let top = try issue(commonName: root, key: key(), issuer: nil, serial: randomSerial(), isCA: true, notBefore: now - 86400, notAfter: notAfter)
        let below = try issue(
            commonName: intermediate, key: key(), issuer: top, serial: randomSerial(), isCA: true, notBefore: now - 86400,
            notAfter: notAfter)
        return [top, below]
    }

    /// PEM text of certificates, in order.
    static func pem(_ certificates: [Certificate]) -> [UInt8] {
        var text = ""
        for certificate in certificates {
            let base64 = Data(certificate.der).base64EncodedString(options: [.lineLength64Characters, .endLineWithLineFeed])
            text += "-----BEGIN CERTIFICATE-----\n\(base64)\n-----END CERTIFICATE-----\n"
        }
        return Array(text.utf8)
    }

    /// A random positive serial number.
    static func randomSerial() -> [UInt8] {
        var bytes = (0..<16).map { _ in UInt8.random(in: 0...255) }
        bytes[0] = bytes[0] & 0x7F | 0x01
        return bytes
    }

    private static func pkey(_ key: Key) throws(EvidenceError) -> OpaquePointer {
        let der = key.der
        guard let pointer = der.withUnsafeBufferPointer({ kbs_private_key_from_der($0.baseAddress, $0.count) }) else {
            throw failure("key import")
        }
        return pointer
    }

    private static func failure(_ what: String) -> EvidenceError {
        ERR_clear_error()
        return EvidenceError(.configuration, "simulator: OpenSSL could not make the \(what)")
    }
}
