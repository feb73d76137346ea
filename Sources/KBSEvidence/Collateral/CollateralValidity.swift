package import Foundation
import KBSClaims

extension Collateral {
    /// When this answer to `request` is current: a CRL's `thisUpdate…nextUpdate`, TCB info's or QE identity's
    /// `issueDate…nextUpdate`, certificates' `notBefore…notAfter` (the narrowest of them). Throws `collateral` when
    /// the body is not what `request` asks for (an error page, another document, garbage) or the issuer chain is not
    /// certificates, so a bad answer is refused before it is cached.
    ///
    /// Signatures are not checked here: that takes the trust anchors, which only the verifier holds.
    package func validity(for request: CollateralRequest) throws(EvidenceError) -> DateInterval {
        let what = "\(request)"
        if !issuerChain.isEmpty {
            guard let chain = try? Certificate.parseAll(issuerChain), !chain.isEmpty else {
                throw EvidenceError(.collateral, "\(what): the issuer chain sent with it is not PEM certificates")
            }
        }
        let start: Date
        let end: Date
        switch request.item {
        case .certificate:
            guard let certificates = try? Certificate.parseAll(body), !certificates.isEmpty else {
                throw EvidenceError(.collateral, "\(what): the answer is not a certificate")
            }
            start = certificates.map(\.notBefore).max() ?? .distantFuture
            end = certificates.map(\.notAfter).min() ?? .distantPast
        case .revocationList:
            guard let crl = try? RevocationList(body) else { throw EvidenceError(.collateral, "\(what): the answer is not an X.509 CRL") }
            start = crl.thisUpdate
            end = crl.nextUpdate
        case .tcbInfo, .enclaveIdentity:
            let member = request.item == .tcbInfo ? "tcbInfo" : "enclaveIdentity"
            let parsed: SignedCollateral?
            do { parsed = try SignedCollateral.parse(body, member: member, name: what) } catch {
                throw EvidenceError(.collateral, "\(what): the answer is not Intel collateral: \(error.message)")
            }
            guard let parsed else { throw EvidenceError(.collateral, "\(what): the answer holds no `\(member)`") }
            do {
                start = try SignedCollateral.date(parsed.body["issueDate"], "\(what) issueDate")
                end = try SignedCollateral.date(parsed.body["nextUpdate"], "\(what) nextUpdate")
            } catch {
                throw EvidenceError(.collateral, error.message)
            }
        }
        guard start <= end else { throw EvidenceError(.collateral, "\(what): valid from \(start) but only until \(end)") }
        return DateInterval(start: start, end: end)
    }
}
