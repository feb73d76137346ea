import COpenSSL
import Crypto
package import Foundation
import KBSClaims
import Synchronization

/// A certificate revocation list parsed by OpenSSL.
package final class RevocationList: @unchecked Sendable {
    let handle: OpaquePointer
    /// The DER encoding as received.
    package let der: [UInt8]
    /// The SHA-256 of ``der``: the CRL's identity in ``VerifiedChainCache`` keys.
    package let fingerprint: [UInt8]

    /// Parses a DER CRL, or the first X509 CRL block of PEM text.
    package init(_ bytes: [UInt8]) throws(EvidenceError) {
        var der = bytes
        if PEM.looksLikePEM(bytes) {
            guard let block = PEM.blocks(bytes)?.first(where: { $0.label == "X509 CRL" }) else {
                throw EvidenceError(.malformed, "no X509 CRL block in PEM text")
            }
            der = block.der
        }
        guard !der.isEmpty, let handle = der.withUnsafeBufferPointer({ kbs_x509_crl_from_der($0.baseAddress, $0.count) }) else {
            throw EvidenceError(.malformed, "not a DER X.509 CRL")
        }
        self.handle = handle
        self.der = der
        self.fingerprint = Array(SHA256.hash(data: der))
    }

    deinit { X509_CRL_free(handle) }

    /// The issuer name, RFC 2253 form; printed once (a CRL handed in every call is parsed once, through ``ParsedCache``).
    package var issuer: String {
        if let known = issuerName.withLock({ $0 }) { return known }
        let name = readIssuer()
        issuerName.withLock { $0 = name }
        return name
    }

    private let issuerName = Mutex<String?>(nil)

    private func readIssuer() -> String {
        guard let name = X509_CRL_get_issuer(handle) else { return "" }
        var buffer = [CChar](repeating: 0, count: 1024)
        let length = kbs_x509_name_line(name, &buffer, Int32(buffer.count))
        return length < 0 ? "" : String(decoding: buffer.prefix(Int(length)).map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }

    package var thisUpdate: Date {
        var ok: Int32 = 0
        let seconds = kbs_crl_this_update(handle, &ok)
        return ok == 1 ? Date(timeIntervalSince1970: TimeInterval(seconds)) : .distantFuture
    }

    /// The next update; `distantPast` when absent or unreadable (such a CRL is never current).
    package var nextUpdate: Date {
        var ok: Int32 = 0
        let seconds = kbs_crl_next_update(handle, &ok)
        return ok == 1 ? Date(timeIntervalSince1970: TimeInterval(seconds)) : .distantPast
    }

    /// How many serials it lists.
    package var revokedCount: Int { Int(kbs_crl_revoked_count(handle)) }

    /// Whether `issuer` signed it.
    package func isSigned(by issuer: Certificate) -> Bool { kbs_x509_crl_signed_by(handle, issuer.handle) == 1 }

    /// Whether it lists `certificate`'s serial.
    package func lists(_ certificate: Certificate) -> Bool {
        let serial = certificate.serial
        return serial.withUnsafeBufferPointer { kbs_crl_lists(handle, $0.baseAddress, Int32($0.count)) } == 1
    }

    /// Checks that `issuer` signed it and it is current at `time`, then that it does not list `certificate`.
    /// A check that passed is remembered (``VerifiedChainCache``) by this CRL's, the issuer's and the certificate's
    /// fingerprints for thisUpdate…nextUpdate; a listed certificate is never remembered, so it is refused every time.
    package func check(
        _ certificate: Certificate, issuer: Certificate, at time: Date, what: String, cache: VerifiedChainCache = .shared
    ) throws(EvidenceError) {
        let key = VerifiedChainCache.Key("crl", [fingerprint, issuer.fingerprint, certificate.fingerprint])
        if cache.contains(key, at: time) { return }
        try checkUncached(certificate, issuer: issuer, at: time, what: what)
        cache.insert(key, validFrom: thisUpdate, validUntil: nextUpdate)
    }

    private func checkUncached(_ certificate: Certificate, issuer: Certificate, at time: Date, what: String) throws(EvidenceError) {
        guard self.issuer == issuer.subject, isSigned(by: issuer) else {
            throw EvidenceError(.collateral, "\(what): CRL is not signed by \(issuer.commonName)")
        }
        guard thisUpdate <= time, time <= nextUpdate else {
            throw EvidenceError(.expired, "\(what): CRL of \(issuer.commonName) is current \(thisUpdate)…\(nextUpdate), not at \(time)")
        }
        if lists(certificate) {
            throw EvidenceError(.revoked, "\(what): certificate \(certificate.commonName) is revoked by \(issuer.commonName)")
        }
    }
}
