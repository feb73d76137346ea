import COpenSSL
import Crypto
package import Foundation
import KBSClaims
import Synchronization

/// An X.509 certificate parsed by OpenSSL's libcrypto.
///
/// OpenSSL, not swift-certificates: AMD's chain is signed with RSA-PSS, and AMD leaves carry serial number 0. The
/// object is immutable once parsed, so it is shared freely.
package final class Certificate: @unchecked Sendable, CustomStringConvertible {
    let handle: OpaquePointer
    /// The certificate's DER encoding, exactly as received.
    package let der: [UInt8]
    /// The SHA-256 of ``der``: what the verified-chain cache keys on.
    package let fingerprint: [UInt8]
    /// What has been read out of the certificate so far. Each is a pure function of ``der``, and a parsed certificate
    /// is shared through ``ParsedCertificateCache``, so a known device's names and key are read once, not per call.
    private let memo = Mutex(Memo())

    private struct Memo {
        var subject: String?
        var issuer: String?
        var commonName: String?
        var isCA: Int32?
        var subjectPublicKeyInfo: [UInt8]?
        var p256Key: P256.Signing.PublicKey?
        var p384Key: P384.Signing.PublicKey?
    }

    /// Parses one DER certificate; `malformed` unless the bytes are exactly one certificate.
    package init(der: [UInt8]) throws(EvidenceError) {
        guard !der.isEmpty, der.count < 1 << 20,
            let handle = der.withUnsafeBufferPointer({ kbs_x509_from_der($0.baseAddress, $0.count) })
        else { throw EvidenceError(.malformed, "not a DER X.509 certificate") }
        self.handle = handle
        self.der = der
        self.fingerprint = Array(SHA256.hash(data: der))
    }

    deinit { X509_free(handle) }

    /// Every certificate in `bytes`: PEM text with one or more CERTIFICATE blocks, or a single DER certificate.
    /// Bytes seen before are not parsed again (``ParsedCertificateCache``): anchors and endorsements repeat per call.
    package static func parseAll(_ bytes: [UInt8]) throws(EvidenceError) -> [Certificate] {
        try ParsedCertificateCache.shared.certificates(in: bytes, parse: parseAllUncached)
    }

    static func parseAllUncached(_ bytes: [UInt8]) throws(EvidenceError) -> [Certificate] {
        if PEM.looksLikePEM(bytes) {
            guard let blocks = PEM.blocks(bytes) else { throw EvidenceError(.malformed, "PEM text does not parse") }
            var certificates: [Certificate] = []
            for block in blocks where block.label == "CERTIFICATE" { certificates.append(try Certificate(der: block.der)) }
            guard !certificates.isEmpty else { throw EvidenceError(.malformed, "no CERTIFICATE block in PEM text") }
            return certificates
        }
        return [try Certificate(der: bytes)]
    }

    /// The subject name, RFC 2253 form.
    package var subject: String {
        remembered(\.subject) { Self.nameLine(X509_get_subject_name(handle)) }
    }
    /// The issuer name, RFC 2253 form.
    package var issuer: String {
        remembered(\.issuer) { Self.nameLine(X509_get_issuer_name(handle)) }
    }

    /// The subject's common name, or the whole subject when there is none.
    package var commonName: String {
        remembered(\.commonName) {
            let subject = subject
            for part in subject.split(separator: ",") where part.hasPrefix("CN=") { return String(part.dropFirst(3)) }
            return subject
        }
    }

    /// The start of the validity window.
    package var notBefore: Date {
        var ok: Int32 = 0
        let seconds = kbs_x509_not_before(handle, &ok)
        return ok == 1 ? Date(timeIntervalSince1970: TimeInterval(seconds)) : .distantFuture
    }

    /// The end of the validity window.
    package var notAfter: Date {
        var ok: Int32 = 0
        let seconds = kbs_x509_not_after(handle, &ok)
        return ok == 1 ? Date(timeIntervalSince1970: TimeInterval(seconds)) : .distantPast
    }

    /// Whether `time` is inside the validity window.
    package func isValid(at time: Date) -> Bool { notBefore <= time && time <= notAfter }

    /// The serial number's big-endian magnitude bytes (`[0]` for AMD's serial-0 leaves).
    package var serial: [UInt8] {
        var buffer = [UInt8](repeating: 0, count: 64)
        let length = kbs_x509_serial(handle, &buffer, Int32(buffer.count))
        return length < 0 ? [] : Array(buffer.prefix(Int(length)))
    }

    /// `true` when basicConstraints says CA, `false` when it says not, `nil` without basicConstraints.
    package var isCA: Bool? {
        switch remembered(\.isCA, { kbs_x509_is_ca(handle) }) {
        case 1: true
        case 0: false
        default: nil
        }
    }

    /// The DER SubjectPublicKeyInfo.
    package var subjectPublicKeyInfo: [UInt8] {
        // OpenSSL 3 re-encodes the key through its encoder framework each time: costly enough to read once.
        remembered(\.subjectPublicKeyInfo) { readSubjectPublicKeyInfo() }
    }

    /// The public key as an ECDSA P-256 key; nil when it is not one.
    var p256PublicKey: P256.Signing.PublicKey? {
        if let known = memo.withLock({ $0.p256Key }) { return known }
        guard let key = ECDSA.p256Key(subjectPublicKeyInfo) else { return nil }
        memo.withLock { $0.p256Key = key }
        return key
    }

    /// The public key as an ECDSA P-384 key; nil when it is not one.
    var p384PublicKey: P384.Signing.PublicKey? {
        if let known = memo.withLock({ $0.p384Key }) { return known }
        guard let key = ECDSA.p384Key(subjectPublicKeyInfo) else { return nil }
        memo.withLock { $0.p384Key = key }
        return key
    }

    /// The value at `path` of the memo, computed by `read` the first time.
    private func remembered<Value: Sendable>(_ path: WritableKeyPath<Memo, Value?>, _ read: () -> Value) -> Value {
        if let known = memo.withLock({ $0[keyPath: path] }) { return known }
        let value = read()
        memo.withLock { $0[keyPath: path] = value }
        return value
    }

    private func readSubjectPublicKeyInfo() -> [UInt8] {
        var pointer: UnsafeMutablePointer<UInt8>?
        let length = kbs_x509_spki_der(handle, &pointer)
        guard length > 0, let pointer else { return [] }
        defer { kbs_openssl_free(pointer) }
        return Array(UnsafeBufferPointer(start: pointer, count: Int(length)))
    }

    /// The DER content of the extension with dotted `oid` (the extnValue octets), nil when absent.
    /// `malformed` when the extension appears twice.
    package func extensionValue(_ oid: String) throws(EvidenceError) -> [UInt8]? {
        var data: UnsafePointer<UInt8>?
        var critical: Int32 = 0
        let length = kbs_x509_extension(handle, oid, &data, &critical)
        switch length {
        case -1: return nil
        case -2: throw EvidenceError(.malformed, "certificate \(commonName) has extension \(oid) twice")
        case ..<0: throw EvidenceError(.malformed, "bad extension OID \(oid)")
        default:
            guard let data else { return [] }
            return Array(UnsafeBufferPointer(start: data, count: Int(length)))
        }
    }

    /// Whether this certificate's signature verifies with `issuer`'s public key (RSA, RSA-PSS, ECDSA).
    package func isSigned(by issuer: Certificate) -> Bool { kbs_x509_signed_by(handle, issuer.handle) == 1 }

    package var description: String { subject }

    private static func nameLine(_ name: OpaquePointer?) -> String {
        guard let name else { return "" }
        var buffer = [CChar](repeating: 0, count: 1024)
        let length = kbs_x509_name_line(name, &buffer, Int32(buffer.count))
        guard length >= 0 else { return "" }
        return String(decoding: buffer.prefix(Int(length)).map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }
}
