import Crypto
import Foundation
import KBSClaims
import Testing

@testable import KBSEvidence

/// The `revocation_checked` claim: true only when vendor CRLs covered the chain behind the evidence.
struct RevocationCheckedTests {
    // MARK: TDX and SGX (PCK chain: root CA → PCK Platform/Processor CA → PCK)

    static let quote4 = "tdx/trustee-tdx_quote_4.dat"
    static let rootCRL = "tdx/go-tdx-guest-rootcrl.der"
    static let pckCRL = "tdx/go-tdx-guest-pckcrl"

    /// SOURCES.md: the root CRL (Intel SGX Root CA) and the PCK CRL (PCK Platform CA) are both current on 2023-07-01;
    /// with both, each PCK-chain link was checked.
    @Test func tdxWithBothCRLsIsChecked() async throws {
        let context = try DCAP.context(at: "2023-07-01T00:00:00Z", endorsements: [Self.rootCRL, Self.pckCRL, DCAP.pckCRLChain])
        let result = try await DCAP.verify(try EvidenceFixtures.bytes(Self.quote4), kind: .tdx, context)
        #expect(result.claims["revocation_checked"] == .bool(true))
        DCAP.expectMatches(result.claims, EvidenceSchemas.all[0].record)
    }

    /// One CRL covers one link only: the other could list a revoked CA or PCK, so the chain is not checked.
    @Test(arguments: [[], [rootCRL], [pckCRL]])
    func tdxWithoutBothCRLsIsUnchecked(_ crls: [String]) async throws {
        let context = try DCAP.context(at: "2023-07-01T00:00:00Z", endorsements: crls)
        let result = try await DCAP.verify(try EvidenceFixtures.bytes(Self.quote4), kind: .tdx, context)
        #expect(result.claims["revocation_checked"] == .bool(false), "\(crls)")
    }

    @Test func sgxWithoutCRLsIsUnchecked() async throws {
        let context = try DCAP.context(at: "2023-07-01T00:00:00Z")
        let result = try await DCAP.verify(try EvidenceFixtures.bytes("sgx/trustee-occlum_quote.dat"), kind: .sgx, context)
        #expect(result.claims["revocation_checked"] == .bool(false))
    }

    // MARK: SNP (VEK ← ASK/ASVK ← ARK; AMD KDS publishes the ARK's CRL of ASKs and ASVKs)

    /// No AMD CRL is among the fixtures: the real report verifies, unchecked.
    @Test func snpWithoutACRLIsUnchecked() async throws {
        let context = try EvidenceFixtures.context(
            at: "2024-06-01T00:00:00Z", endorsements: ["snp/trustee-test-vcek.der"], anchors: ["snp/trustee-milan_ask_ark_asvk.pem"])
        let result = try await SNPVerifier().verify(try EvidenceFixtures.bytes("snp/trustee-test-report.bin"), context: context)
        #expect(result.claims["revocation_checked"] == .bool(false))
    }

    /// A CRL the ARK signed covers the ASK link: checked when it lists nothing, refused when it lists the ASK. (AMD's
    /// signing key is not at hand, so the chain and CRL are the simulator's.)
    @Test func snpWithTheARKsCRLIsChecked() async throws {
        let now = Date()
        let authorities = try SimulatedSNP.authorities(now: now)
        let simulated = try SimulatedSNP.make(reportData: [7], measurement: nil, debug: false, now: now, authorities: authorities)
        let (ark, ask) = (authorities[0], authorities[1])
        func verify(_ crls: [[UInt8]]) async -> Result<VerifiedEvidence, EvidenceError> {
            let context = VerificationContext(
                time: now, endorsements: simulated.endorsements + crls.map { EvidenceFile(name: "ark.crl", bytes: $0) },
                trustAnchors: simulated.trustAnchors)
            do { return .success(try await SNPVerifier().verify(simulated.evidence, context: context)) } catch { return .failure(error) }
        }
        let unchecked = try await verify([]).get()
        #expect(unchecked.claims["revocation_checked"] == .bool(false))

        let checked = try await verify([try Self.crl(by: ark, revoking: [], now: now)]).get()
        #expect(checked.claims["revocation_checked"] == .bool(true))

        // A CRL of the intermediate lists VEKs; it alone does not cover the ASK.
        let askOnly = try await verify([try Self.crl(by: ask, revoking: [], now: now)]).get()
        #expect(askOnly.claims["revocation_checked"] == .bool(false))

        guard case .failure(let error) = await verify([try Self.crl(by: ark, revoking: [ask.certificate], now: now)]) else {
            Issue.record("a revoked ASK verified")
            return
        }
        #expect(error.reason == .revoked)
    }

    /// The Azure kinds pass the hardware verifier's claim through.
    @Test func azureKindsPassTheClaimThrough() async throws {
        for sample in [AzureVTPMEndToEndTests.snpSamples[0], AzureVTPMEndToEndTests.tdxSamples[0]] {
            let context = try AzureVTPMEndToEndTests.context(sample, reportData: sample.nonce)
            let verified = try await AzureVTPMEndToEndTests.verify(try EvidenceFixtures.bytes(sample.file), sample, context: context)
            #expect(verified.claims["revocation_checked"] == .bool(false), "\(sample.file)")
        }
    }

    /// A v2 CRL (DER) by `issuer`, current from a day before `now` for a week, listing `revoking`.
    static func crl(by issuer: TestChain.Issued, revoking: [Certificate], now: Date) throws -> [UInt8] {
        try TestChain.revocationList(by: issuer, revoking: revoking, thisUpdate: now - 86400, nextUpdate: now + 7 * 86400)
    }
}
