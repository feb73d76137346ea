import Crypto
import Foundation
import KBSClaims
import Testing

@testable import KBSBroker

/// The EAR token's `ear.status` and trustworthiness vector follow what was verified (AR4SI), not constants.
@Suite struct AttestationResultTests {
    /// The `submods.cpu0` of a token signed for an appraisal of `claims` (with `devices`) at `tier`.
    static func submod(kind: String, claims: [String: Any], devices: [[String: Any]] = [], tier: Int) async throws -> [String: Any] {
        var object = claims
        object["kind"] = kind
        let jwk = try ProtocolTests.node(ProtocolTests.jwk(P256.KeyAgreement.PrivateKey()))
        let appraisal = Appraisal(
            id: "test", kind: kind, claims: try Self.record(object), deviceClaims: try devices.map(Self.record), tier: tier,
            teePublicKeyJSON: try JCS.canonicalize(jwk), teePublicKey: try TEEPublicKey(jwk: jwk), attestedAt: Date())
        let token = try await AttestationTokenSigner.ephemeral().sign(appraisal)
        let payload = try #require(Base64URL.decode(String(token.split(separator: ".")[1])))
        let claimsSet = try #require(try JSONSerialization.jsonObject(with: Data(payload)) as? [String: Any])
        return try #require((claimsSet["submods"] as? [String: Any])?["cpu0"] as? [String: Any])
    }

    /// `object` as the claims a token carries back.
    static func record(_ object: [String: Any]) throws -> ClaimRecord {
        let node = try JSONNode.parse(Array(try JSONSerialization.data(withJSONObject: object)))
        guard case .record(let record)? = ClaimValue(json: node) else { throw CocoaError(.coderInvalidValue) }
        return record
    }

    static func hardware(_ submod: [String: Any]) -> Int? {
        (submod["ear.trustworthiness-vector"] as? [String: Any])?["hardware"] as? Int
    }

    static var tpmUnpinned: [String: Any] { ["debug": false, "tcb_svn": 0, "tpm": ["ak_pinned": false]] }
    static var tpmPinned: [String: Any] { ["debug": false, "tcb_svn": 0, "tpm": ["ak_pinned": true]] }
    static var snp: [String: Any] { ["debug": false, "tcb_svn": 9] }
    static var snpDebug: [String: Any] { ["debug": true, "tcb_svn": 9] }
    static var hopper: [String: Any] { ["kind": "nvidia", "debug": true, "nvidia": ["arch": "HOPPER"]] }

    /// The finding: a TPM quote under a self-made AK, which earlier tier rules put at tier 2, was signed "affirming"
    /// with hardware 2. Whatever tier a rule set computes, an unpinned AK is no genuine hardware.
    @Test("an unpinned TPM AK never gets hardware 2 or `affirming`, even at tier 2")
    func unpinnedTPMIsNotAffirming() async throws {
        for tier in [1, 2] {
            let submod = try await Self.submod(kind: "tpm", claims: Self.tpmUnpinned, tier: tier)
            #expect(Self.hardware(submod) != 2, "tier \(tier)")
            #expect(submod["ear.status"] as? String != "affirming", "tier \(tier)")
        }
    }

    @Test("a pinned TPM at tier 2 and a CPU TEE at tier 2 or 3 are `affirming` with hardware 2")
    func verifiedHardwareIsAffirming() async throws {
        let tpm = try await Self.submod(kind: "tpm", claims: Self.tpmPinned, tier: 2)
        #expect(Self.hardware(tpm) == 2)
        #expect(tpm["ear.status"] as? String == "affirming")
        let snp = try await Self.submod(kind: "snp", claims: Self.snp, tier: 2)
        #expect(Self.hardware(snp) == 2)
        #expect((snp["ear.trustworthiness-vector"] as? [String: Any])?["runtime-opaque"] as? Int == 2)
        #expect(snp["ear.status"] as? String == "affirming")
        let gpu = try await Self.submod(kind: "snp", claims: Self.snp, devices: [Self.hopper], tier: 3)
        #expect(gpu["ear.status"] as? String == "affirming")
    }

    @Test("software-only and simulated evidence is a `warning` without a hardware claim")
    func softwareIsAWarning() async throws {
        let sim = try await Self.submod(kind: "sim", claims: Self.snp, tier: 1)
        #expect(Self.hardware(sim) == 0)
        #expect(sim["ear.status"] as? String == "warning")
        // A CPU TEE the tier rules left below 2 is not vouched for either.
        let low = try await Self.submod(kind: "snp", claims: Self.snp, tier: 1)
        #expect(Self.hardware(low) != 2)
        #expect(low["ear.status"] as? String == "warning")
        // Tier 3 without any GPU behind it was not verified as tier 3.
        let noGPU = try await Self.submod(kind: "snp", claims: Self.snp, tier: 3)
        #expect(noGPU["ear.status"] as? String == "warning")
    }

    @Test("a debuggable CPU TEE is `contraindicated`: its memory is visible to the host")
    func debugIsContraindicated() async throws {
        let submod = try await Self.submod(kind: "snp", claims: Self.snpDebug, tier: 1)
        let vector = try #require(submod["ear.trustworthiness-vector"] as? [String: Any])
        #expect(vector["runtime-opaque"] as? Int == 96)
        #expect(Self.hardware(submod) != 2)
        #expect(submod["ear.status"] as? String == "contraindicated")
    }

    @Test("a TCB status other than UpToDate is genuine hardware with known vulnerabilities: a `warning`")
    func outOfDateTCBIsAWarning() async throws {
        var claims = Self.snp
        claims["tcb_status"] = "OutOfDate"
        let submod = try await Self.submod(kind: "tdx", claims: claims, tier: 2)
        #expect(Self.hardware(submod) == 32)
        #expect(submod["ear.status"] as? String == "warning")
        claims["tcb_status"] = "UpToDate"
        #expect(try await Self.submod(kind: "tdx", claims: claims, tier: 2)["ear.status"] as? String == "affirming")
    }
}
