package import Foundation
import KBSClaims

/// Path checks for vendor certificate chains, link by link.
///
/// Vendor chains are short and fixed in shape, so this checks exactly what matters and nothing that would refuse
/// real vendor certificates for form (serial 0, unknown critical DICE extensions): each certificate is signed by
/// the next, names chain, every issuer says it is a CA (basicConstraints), every certificate is valid at the time, and the
/// chain ends at a pinned anchor (the anchor itself, or a certificate the anchor signed).
package enum CertificateChain {
    /// Verifies `chain` (leaf first) against `anchors` at `time`; returns the anchor it ends at.
    ///
    /// A chain verified before is answered from `cache` — keyed by every certificate's fingerprint, holding the
    /// anchor's — while `time` is inside the validity windows of all its certificates and the anchor, and only if
    /// `anchors` still holds that anchor where a full check would pick it.
    @discardableResult
    package static func verify(
        _ chain: [Certificate], anchors: [Certificate], at time: Date, what: String, cache: VerifiedChainCache = .shared
    ) throws(EvidenceError) -> Certificate {
        guard !chain.isEmpty else { throw EvidenceError(.chain, "\(what): empty certificate chain") }
        guard !anchors.isEmpty else { throw EvidenceError(.chain, "\(what): no trust anchor configured") }
        let key = VerifiedChainCache.Key("chain", chain.map(\.fingerprint))
        if let remembered = cache.value(for: key, at: time), let anchor = pick(anchors, for: chain[chain.count - 1]),
            anchor.fingerprint == remembered
        {
            return anchor
        }
        let anchor = try verifyUncached(chain, anchors: anchors, at: time, what: what, cache: cache)
        let covered = chain.last?.der == anchor.der ? chain : chain + [anchor]
        cache.insert(
            key, value: anchor.fingerprint, validFrom: covered.map(\.notBefore).max() ?? .distantFuture,
            validUntil: covered.map(\.notAfter).min() ?? .distantPast)
        return anchor
    }

    /// The anchor a full check of a chain ending at `top` tries: the pinned copy of `top`, else the first anchor named
    /// as its issuer.
    static func pick(_ anchors: [Certificate], for top: Certificate) -> Certificate? {
        if let pinned = anchors.first(where: { $0.fingerprint == top.fingerprint }) { return pinned }
        let issuer = top.issuer
        return anchors.first { $0.subject == issuer }
    }

    private static func verifyUncached(
        _ chain: [Certificate], anchors: [Certificate], at time: Date, what: String, cache: VerifiedChainCache
    ) throws(EvidenceError) -> Certificate {
        for certificate in chain where !certificate.isValid(at: time) {
            throw EvidenceError(
                .expired,
                "\(what): certificate \(certificate.commonName) is valid \(certificate.notBefore)…\(certificate.notAfter), not at \(time)")
        }
        for index in 0..<chain.count - 1 {
            try link(chain[index], issuedBy: chain[index + 1], what: what, cache: cache)
        }
        let top = chain[chain.count - 1]
        // A pinned certificate ends the chain whether it is a root or a pinned intermediate.
        if let anchor = anchors.first(where: { $0.der == top.der }) { return anchor }
        for anchor in anchors where anchor.subject == top.issuer {
            guard anchor.isValid(at: time) else {
                throw EvidenceError(.expired, "\(what): trust anchor \(anchor.commonName) is not valid at \(time)")
            }
            try link(top, issuedBy: anchor, what: what, cache: cache)
            return anchor
        }
        throw EvidenceError(.chain, "\(what): chain ends at \(top.commonName), which is not a configured trust anchor")
    }

    /// Checks that `certificate` names and is signed by `issuer`, and that `issuer` may issue.
    /// What it checks depends on the two certificates alone, never on the time, so a pass is remembered in `cache` for
    /// good (validity is the caller's check, made every time).
    package static func link(
        _ certificate: Certificate, issuedBy issuer: Certificate, what: String, cache: VerifiedChainCache = .shared
    ) throws(EvidenceError) {
        let key = VerifiedChainCache.Key("link", [certificate.fingerprint, issuer.fingerprint])
        if cache.contains(key, at: Date.distantPast) { return }
        try linkUncached(certificate, issuedBy: issuer, what: what)
        cache.insert(key, validFrom: .distantPast, validUntil: .distantFuture)
    }

    private static func linkUncached(_ certificate: Certificate, issuedBy issuer: Certificate, what: String) throws(EvidenceError) {
        guard certificate.issuer == issuer.subject else {
            throw EvidenceError(.chain, "\(what): \(certificate.commonName) names issuer \(certificate.issuer), next is \(issuer.subject)")
        }
        // basicConstraints `cA TRUE` or no issuing: a certificate silent on it is an end entity (RFC 5280 §4.2.1.9).
        guard issuer.isCA == true else {
            throw EvidenceError(.chain, "\(what): \(issuer.commonName) is not marked a CA (basicConstraints) but issued \(certificate.commonName)")
        }
        guard certificate.isSigned(by: issuer) else {
            throw EvidenceError(.chain, "\(what): signature of \(certificate.commonName) does not verify with \(issuer.commonName)")
        }
    }

    /// Certificates from every trust-anchor file that holds certificates (others are skipped: a verifier may also be
    /// handed, e.g., a CCA trust-anchor store).
    package static func anchors(from files: [EvidenceFile]) -> [Certificate] {
        files.flatMap { (try? Certificate.parseAll($0.bytes)) ?? [] }
    }
}
