import Foundation
import KBSClaims

/// The AMD certificate chain behind a VCEK or VLEK: VEK ← ASK (VCEK) or ASVK (VLEK) ← ARK.
///
/// Trust comes only from the trust-anchor files (AMD's `{milan,genoa,turin}_ask_ark_asvk.pem` bundles): the ARK must
/// be one of them and self-signed. The intermediate is picked by name from the trust anchors, else from the
/// endorsements (a KDS `cert_chain` PEM); either way the pinned ARK must have signed it. All links are RSA-PSS,
/// which OpenSSL verifies.
enum SNPChain {
    /// The pieces of a verified chain.
    struct Verified {
        var intermediate: Certificate
        var ark: Certificate
        /// Whether a CRL issued by the ARK (AMD KDS `…/crl`) was applied to the ASK or ASVK.
        var revocationChecked: Bool
    }

    /// Verifies `vek` for `signingKey` and `product` at `context.time`, then any CRLs among the endorsements.
    static func verify(
        vek: Certificate, signingKey: SNPReport.SigningKey, product: SNPProduct, context: VerificationContext
    ) throws(EvidenceError) -> Verified {
        let anchors = CertificateChain.anchors(from: context.trustAnchors)
        guard !anchors.isEmpty else { throw EvidenceError(.chain, "SNP: no AMD trust anchor (ARK/ASK bundle) configured") }
        let endorsed = context.endorsements.flatMap { (try? Certificate.parseAll($0.bytes)) ?? [] }.filter { $0.isCA == true }
        guard let intermediate = (anchors + endorsed).first(where: { $0.subject == vek.issuer && $0.subject != $0.issuer }) else {
            throw EvidenceError(.chain, "SNP: the \(signingKey.rawValue.uppercased()) issuer \(vek.issuer) is not among the trust anchors")
        }
        // An ASVK signs only VLEKs and an ASK only VCEKs: a VCEK under an ASVK (or the reverse) is the wrong key role.
        let isASVK = intermediate.commonName.hasPrefix("SEV-VLEK-")
        guard isASVK == (signingKey == .vlek) else {
            throw EvidenceError(
                .chain,
                "SNP: report is signed by a \(signingKey.rawValue.uppercased()) but its certificate is issued by \(intermediate.commonName)")
        }
        guard let ark = anchors.first(where: { $0.subject == intermediate.issuer && $0.subject == $0.issuer }) else {
            throw EvidenceError(.chain, "SNP: no self-issued ARK \(intermediate.issuer) among the trust anchors")
        }
        // A fact about the ARK's bytes alone, so checked once per ARK.
        let selfSigned = VerifiedChainCache.Key("self-signed", [ark.fingerprint])
        if !VerifiedChainCache.shared.contains(selfSigned, at: .distantPast) {
            guard ark.isSigned(by: ark) else { throw EvidenceError(.chain, "SNP: ARK \(ark.commonName) is not self-signed") }
            VerifiedChainCache.shared.insert(selfSigned, validFrom: .distantPast, validUntil: .distantFuture)
        }
        guard ark.commonName == product.arkName else {
            throw EvidenceError(.chain, "SNP: report is from a \(product.rawValue) but its chain ends at \(ark.commonName)")
        }
        try CertificateChain.verify(
            [vek, intermediate, ark], anchors: [ark], at: context.time, what: "SNP \(signingKey.rawValue.uppercased()) chain")
        let checked = try checkRevocation(vek: vek, intermediate: intermediate, ark: ark, context: context)
        return Verified(intermediate: intermediate, ark: ark, revocationChecked: checked)
    }

    /// Applies every CRL among the endorsements issued by the ARK (it lists ASKs/ASVKs) or by the intermediate.
    /// CRLs from other issuers are for other evidence and are left alone. Returns whether an ARK-issued CRL was applied:
    /// AMD's KDS CRL lists revoked ASKs and ASVKs (VEKs are not revoked by CRL), so that is the link revocation covers.
    static func checkRevocation(
        vek: Certificate, intermediate: Certificate, ark: Certificate, context: VerificationContext
    ) throws(EvidenceError) -> Bool {
        var checked = false
        for file in context.endorsements {
            guard let crl = try? RevocationList(file.bytes) else { continue }
            if crl.issuer == ark.subject {
                try crl.check(intermediate, issuer: ark, at: context.time, what: "SNP \(file.name)")
                checked = true
            } else if crl.issuer == intermediate.subject {
                try crl.check(vek, issuer: intermediate, at: context.time, what: "SNP \(file.name)")
            }
        }
        return checked
    }

    /// Applies the product's ARK-signed CRL from `source` (AMD KDS `{vcek|vlek}/v1/{product}/crl`) to the intermediate,
    /// when the endorsements held none. A CRL that cannot be had, is not the ARK's, or does not verify leaves revocation
    /// unchecked — the policy decides on `revocation_checked` — and one that lists the ASK or ASVK is `revoked`.
    static func checkRevocation(
        _ chain: Verified, product: SNPProduct, signingKey: SNPReport.SigningKey, source: any CollateralSource,
        context: VerificationContext
    ) async throws(EvidenceError) -> Bool {
        let request = CollateralRequest.amdRevocationList(product: product, signingKey: signingKey)
        guard let answer = try? await source.collateral(request, at: context.time) else { return false }
        guard let crl = try? RevocationList(answer.body), crl.issuer == chain.ark.subject else {
            await source.discard(request)
            return false
        }
        do {
            try crl.check(chain.intermediate, issuer: chain.ark, at: context.time, what: "SNP \(request)")
        } catch {
            if error.reason == .revoked { throw error }
            // A CRL that is merely not current at a pinned time is not a bad answer; one with a bad signature is.
            if error.reason != .expired { await source.discard(request) }
            return false
        }
        return true
    }

    /// The one product whose ARK is among the trust anchors, for a version-2 report with no VEK at hand.
    static func onlyProduct(in anchors: [EvidenceFile]) -> SNPProduct? {
        let names = Set(CertificateChain.anchors(from: anchors).filter { $0.subject == $0.issuer }.map(\.commonName))
        let products = SNPProduct.allCases.filter { names.contains($0.arkName) }
        return products.count == 1 ? products[0] : nil
    }
}
