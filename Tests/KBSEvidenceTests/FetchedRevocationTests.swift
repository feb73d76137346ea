import Foundation
import KBSClaims
import Testing

@testable import KBSEvidence

/// CRLs and Intel collateral the endorsements left out, asked of the collateral source: `revocation_checked` is true
/// only when the CRLs from the source verified and covered the chain; a source that fails leaves it false; a CRL that
/// lists a certificate is `revoked`; an answer that does not verify is discarded from the source.
struct FetchedRevocationTests {
    /// Serves fixed answers keyed by `service/path`, and records what was asked and what was discarded.
    actor RecordingCollateral: CollateralSource {
        let answers: [String: Collateral]
        var asked: [String] = []
        var discarded: [String] = []

        init(_ answers: [String: Collateral]) { self.answers = answers }

        func collateral(_ request: CollateralRequest, at time: Date) async throws(EvidenceError) -> Collateral {
            asked.append(request.description)
            guard let answer = answers[request.description] else { throw EvidenceError(.collateral, "intel-pcs answered 404 for \(request.path)") }
            return answer
        }

        func discard(_ request: CollateralRequest) async { discarded.append(request.description) }
    }

    static let tcbInfo = "intel-pcs/tdx/certification/v4/tcb?fmspc=50806f000000&update=standard"
    static let qeIdentity = "intel-pcs/tdx/certification/v4/qe/identity?update=standard"
    static let pckCRL = "intel-pcs/sgx/certification/v4/pckcrl?ca=platform&encoding=der"
    static let rootCRL = "intel-root-crl/IntelSGXRootCA.der"

    /// What Intel PCS and the certificates site serve for `trustee-tdx_quote_4.dat` on 2023-07-01, signing chains in
    /// the issuer-chain headers.
    static func intelAnswers() throws -> [String: Collateral] {
        let signing = try EvidenceFixtures.bytes(DCAP.signingChain)
        return [
            tcbInfo: Collateral(body: try EvidenceFixtures.bytes(DCAP.tcbInfo2023), issuerChain: signing),
            qeIdentity: Collateral(body: try EvidenceFixtures.bytes(DCAP.qeIdentity2023), issuerChain: signing),
            pckCRL: Collateral(
                body: try EvidenceFixtures.bytes("tdx/go-tdx-guest-pckcrl"), issuerChain: try EvidenceFixtures.bytes(DCAP.pckCRLChain)),
            rootCRL: Collateral(body: try EvidenceFixtures.bytes("tdx/go-tdx-guest-rootcrl.der")),
        ]
    }

    static func verifyQuote4(_ source: RecordingCollateral) async throws(EvidenceError) -> VerifiedEvidence {
        // Only the Intel root: no TCB Signing certificate, no collateral, no CRL among the endorsements.
        var context = try! DCAP.context(at: "2023-07-01T00:00:00Z")
        context.collateral = source
        return try await DCAP.verify(try! EvidenceFixtures.bytes(RevocationCheckedTests.quote4), kind: .tdx, context)
    }

    @Test func tdxCollateralAndCRLsAllFromTheSource() async throws {
        let source = RecordingCollateral(try Self.intelAnswers())
        let result = try await Self.verifyQuote4(source)
        #expect(result.tcbStatus == "UpToDate")
        #expect(result.claims["revocation_checked"] == .bool(true))
        #expect(await source.asked == [Self.tcbInfo, Self.qeIdentity, Self.pckCRL, Self.rootCRL])
        #expect(await source.discarded.isEmpty)
    }

    /// Without the CRLs (the service fails for them) the quote still verifies, unchecked: the policy decides.
    @Test(arguments: [[pckCRL], [rootCRL], [pckCRL, rootCRL]])
    func tdxWithoutTheSourcesCRLsIsUnchecked(_ missing: [String]) async throws {
        let source = RecordingCollateral(try Self.intelAnswers().filter { !missing.contains($0.key) })
        let result = try await Self.verifyQuote4(source)
        #expect(result.tcbStatus == "UpToDate")
        #expect(result.claims["revocation_checked"] == .bool(false))
    }

    /// A CRL from another issuer than the link's, or TCB info whose signature does not verify, is a bad answer: not
    /// used, and discarded so that it is fetched anew.
    @Test func answersThatDoNotVerifyAreDiscarded() async throws {
        var answers = try Self.intelAnswers()
        answers[Self.pckCRL] = answers[Self.rootCRL]
        let wrongCRL = RecordingCollateral(answers)
        #expect(try await Self.verifyQuote4(wrongCRL).claims["revocation_checked"] == .bool(false))
        #expect(await wrongCRL.discarded == [Self.pckCRL])

        answers = try Self.intelAnswers()
        let original = try #require(answers[Self.tcbInfo])
        answers[Self.tcbInfo] = Collateral(body: try Self.flippingSignature(original.body), issuerChain: original.issuerChain)
        let tampered = RecordingCollateral(answers)
        let error = await evidenceError { () async throws(EvidenceError) -> VerifiedEvidence in try await Self.verifyQuote4(tampered) }
        #expect(error?.reason == .signature)
        #expect(await tampered.discarded == [Self.tcbInfo])
    }

    /// `body` with the first hex digit of its `signature` changed; the signed bytes stay as they are.
    static func flippingSignature(_ body: [UInt8]) throws -> [UInt8] {
        let marker = Array(#""signature":""#.utf8)
        let start = try #require((0...(body.count - marker.count)).first { Array(body[$0..<$0 + marker.count]) == marker })
        var copy = body
        let digit = start + marker.count
        copy[digit] = copy[digit] == UInt8(ascii: "0") ? UInt8(ascii: "1") : UInt8(ascii: "0")
        return copy
    }

    /// The simulator's TDX chain (PCK ← PCK Platform CA ← root), whose keys are at hand: a CRL listing the PCK is
    /// `revoked`; one past its `nextUpdate` covers nothing and is kept (the time may be pinned).
    @Test func tdxRevokedPCKAndStaleCRLs() async throws {
        let now = Date()
        let authorities = try SimulatedTDX.authorities(now: now)
        let simulated = try SimulatedTDX.make(reportData: [1], measurement: nil, debug: false, now: now, authorities: authorities)
        let pck = try #require(try Certificate.parseAll(try DCAPQuote(simulated.evidence).pckChainPEM).first)
        let path = [pck, authorities[1].certificate, authorities[0].certificate]
        let context = VerificationContext(time: now)
        func crl(_ issuer: TestChain.Issued, revoking: [Certificate] = [], days: Double = 7) throws -> Collateral {
            Collateral(body: try TestChain.revocationList(by: issuer, revoking: revoking, thisUpdate: now - 86400, nextUpdate: now + days * 86400))
        }
        let good = RecordingCollateral([Self.pckCRL: try crl(authorities[1]), Self.rootCRL: try crl(authorities[0])])
        #expect(try await DCAPRevocation.fetchMissing(path: path, covered: [], source: good, context: context) == [0, 1])

        let revoked = RecordingCollateral([Self.pckCRL: try crl(authorities[1], revoking: [pck]), Self.rootCRL: try crl(authorities[0])])
        do {
            _ = try await DCAPRevocation.fetchMissing(path: path, covered: [], source: revoked, context: context)
            Issue.record("a revoked PCK passed")
        } catch {
            #expect(error.reason == .revoked)
        }

        let stale = RecordingCollateral([Self.pckCRL: try crl(authorities[1], days: -0.5), Self.rootCRL: try crl(authorities[0])])
        #expect(try await DCAPRevocation.fetchMissing(path: path, covered: [], source: stale, context: context) == [1])
        #expect(await stale.discarded.isEmpty)
        // A link the endorsements covered is not asked for again.
        #expect(try await DCAPRevocation.fetchMissing(path: path, covered: [1], source: good, context: context) == [0])
        #expect(await good.asked.filter { $0 == Self.rootCRL }.count == 1)
    }

    // MARK: SNP (the ARK's KDS CRL lists ASKs and ASVKs)

    static let milanCRL = "amd-kds/vcek/v1/Milan/crl"

    @Test func snpARKCRLFromTheSource() async throws {
        let now = Date()
        let authorities = try SimulatedSNP.authorities(now: now)
        let simulated = try SimulatedSNP.make(reportData: [7], measurement: nil, debug: false, now: now, authorities: authorities)
        let (ark, ask) = (authorities[0], authorities[1])
        func verify(_ answers: [String: Collateral]) async -> (Result<VerifiedEvidence, EvidenceError>, RecordingCollateral) {
            let source = RecordingCollateral(answers)
            var context = VerificationContext(time: now, endorsements: simulated.endorsements, trustAnchors: simulated.trustAnchors)
            context.collateral = source
            do { return (.success(try await SNPVerifier().verify(simulated.evidence, context: context)), source) } catch {
                return (.failure(error), source)
            }
        }
        func crl(_ issuer: TestChain.Issued, revoking: [Certificate] = []) throws -> Collateral {
            Collateral(body: try TestChain.revocationList(by: issuer, revoking: revoking, thisUpdate: now - 86400, nextUpdate: now + 7 * 86400))
        }

        let (checked, asked) = await verify([Self.milanCRL: try crl(ark)])
        #expect(try checked.get().claims["revocation_checked"] == .bool(true))
        #expect(await asked.asked == [Self.milanCRL])

        let (unavailable, _) = await verify([:])
        #expect(try unavailable.get().claims["revocation_checked"] == .bool(false))

        guard case .failure(let error) = await verify([Self.milanCRL: try crl(ark, revoking: [ask.certificate])]).0 else {
            Issue.record("a revoked ASK verified")
            return
        }
        #expect(error.reason == .revoked)

        // A CRL under the ARK's name but another key: not used, discarded.
        let impostor = try SimulatedSNP.authorities(now: now)[0]
        let (forged, forgedSource) = await verify([Self.milanCRL: try crl(impostor)])
        #expect(try forged.get().claims["revocation_checked"] == .bool(false))
        #expect(await forgedSource.discarded == [Self.milanCRL])
    }

    /// A VLEK-signed report asks for the VLEK CRL (the ARK's list of ASVKs).
    @Test func snpVLEKAsksForTheVLEKCRL() async throws {
        let source = RecordingCollateral([:])
        var context = try EvidenceFixtures.context(
            at: "2025-06-01T00:00:00Z", endorsements: ["snp/trustee-test-vlek.der"], anchors: [SNPVerifierTests.milan])
        context.collateral = source
        let result = try await SNPVerifier().verify(try EvidenceFixtures.bytes("snp/trustee-test-vlek-report.bin"), context: context)
        #expect(result.claims["revocation_checked"] == .bool(false))
        #expect(await source.asked == ["amd-kds/vlek/v1/Milan/crl"])
    }
}
