import Foundation
import KBSClaims

/// The PCK chain's CRLs from a collateral source: the PCK CA's CRL (Intel PCS `pckcrl?ca=processor|platform`) for the
/// PCK, the Intel SGX Root CA's CRL for the PCK CA.
enum DCAPRevocation {
    /// Fetches the CRL of each link of `path` (leaf first, root last) not in `covered` and applies it; returns the
    /// links it covered. A CRL that cannot be had, comes from another issuer, or does not verify leaves its link
    /// uncovered — the policy decides on `revocation_checked` — while one that lists the certificate is `revoked`.
    static func fetchMissing(
        path: [Certificate], covered: Set<Int>, source: any CollateralSource, context: VerificationContext
    ) async throws(EvidenceError) -> Set<Int> {
        var checked = Set<Int>()
        for index in 0..<path.count - 1 where !covered.contains(index) {
            let (certificate, issuer) = (path[index], path[index + 1])
            let request: CollateralRequest
            if index + 1 == path.count - 1 {
                request = .intelRootRevocationList
            } else if let pckIssuer = CollateralRequest.PCKIssuer(commonName: issuer.commonName) {
                request = .pckRevocationList(pckIssuer)
            } else {
                continue
            }
            guard let answer = try? await source.collateral(request, at: context.time) else { continue }
            guard let crl = try? RevocationList(answer.body), crl.issuer == issuer.subject else {
                await source.discard(request)
                continue
            }
            do {
                try crl.check(certificate, issuer: issuer, at: context.time, what: "CRL \(request)")
                checked.insert(index)
            } catch {
                if error.reason == .revoked { throw error }
                // Not current at a pinned time is no reason to drop it; a bad signature is.
                if error.reason != .expired { await source.discard(request) }
            }
        }
        return checked
    }
}
