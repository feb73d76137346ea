import Crypto
import Foundation
import KBSClaims
import Testing

@testable import KBSEvidence

/// Path checks that do not depend on a vendor's chain: an issuer must say it is a CA.
@Suite struct CertificateChainTests {
    static func chain(issuerIsCA: Bool) throws -> (leaf: Certificate, issuer: Certificate) {
        let now = Date()
        let issuer = try TestChain.issue(
            commonName: "issuer", key: .p256(P256.Signing.PrivateKey()), issuer: nil, serial: TestChain.randomSerial(), isCA: issuerIsCA,
            notBefore: now - 3600, notAfter: now + 3600)
        let leaf = try TestChain.issue(
            commonName: "leaf", key: .p256(P256.Signing.PrivateKey()), issuer: issuer, serial: TestChain.randomSerial(), isCA: false,
            notBefore: now - 3600, notAfter: now + 3600)
        return (leaf.certificate, issuer.certificate)
    }

    /// Issue 15, #8: an issuer without basicConstraints was accepted as a CA; it must say `cA TRUE`.
    @Test func anIssuerWithoutBasicConstraintsIsNoCA() throws {
        let refused = try Self.chain(issuerIsCA: false)
        #expect(refused.issuer.isCA == nil)
        #expect(throws: EvidenceError.self) {
            try CertificateChain.verify([refused.leaf], anchors: [refused.issuer], at: Date(), what: "test")
        }
        let accepted = try Self.chain(issuerIsCA: true)
        #expect(throws: Never.self) { try CertificateChain.verify([accepted.leaf], anchors: [accepted.issuer], at: Date(), what: "test") }
    }
}
