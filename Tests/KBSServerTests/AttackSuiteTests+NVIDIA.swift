import Foundation
import KBSClaims
import Testing

@testable import KBSEvidence

/// Finding 2: NVIDIA claims the client chooses. The tier rules read a GPU's architecture and TEE-I/O status; both
/// must come from what the GPU signed (its leaf certificate, its measurement report), never from the JSON around it.
///
/// The third part of the finding, RIM appraisal required for tiers 3 and 4 when RIMs are configured, is not tried
/// here: it needs RIMs signed under NVIDIA's RIM root whose versions and golden measurements fit the device, and the
/// simulator signs neither. TierRulesTests and Policies/default/tiers/tests hold it (`rims_configured` without
/// `rim_checked` stays below tier 3).
extension AttackSuiteTests.SimulatorMode {
    /// Additional evidence for `session` from a simulated GPU: `chip` names its signed leaf certificate (GH100 is a
    /// Hopper, GB100 a Blackwell), `arch` is what the unsigned JSON says, `status` its signed `sys_enable_status`.
    static func gpu(
        _ client: AttackClient, _ session: AttackClient.Session, chip: String, arch: String, status: [UInt8]? = nil
    ) throws -> String {
        let data = try AttackClient.reportData(nonce: session.nonce, additional: nil, kind: .nvidia)
        let evidence = try SimulatedNVIDIA.make(
            reportData: data, measurement: nil, now: Date(), authorities: try client.simulatorCA().authorities[.nvidia], chip: chip, arch: arch,
            sysEnableStatus: status)
        return #"{"nvidia":\#(String(decoding: evidence.rcarEvidence, as: UTF8.self))}"#
    }

    /// Checked to fail on c630e98^ (the verifier took `arch` from the JSON): the Blackwell labelled HOPPER reached
    /// tier 3 and was given the tier-3 key.
    @Test("finding 2: a GPU relabelled in the unsigned JSON is refused (evidence_identity); honestly labelled it keeps its tier")
    func relabelledArchitecture() async throws {
        let lab = try AttackLab.require()
        let client = AttackClient(server: lab.server)
        // Honest: an H100 reaches tier 3; a Blackwell whose TEE-I/O status is not listed counts like no GPU (tier 2).
        for (chip, arch, tier) in [("GH100", "HOPPER", 3), ("GB100", "BLACKWELL", 2)] {
            let honest = try await client.attestSimulated { try Self.gpu(client, $0, chip: chip, arch: arch, status: [0, 0, 0, 0]) }
            #expect(honest.answer.status == 200, "\(chip): \(honest.answer)")
            #expect(try AttackClient.appraisal(try #require(honest.answer.token)).tier == tier, "\(chip)")
        }
        // The attack: the Blackwell claims to be a Hopper (tier 3 asks no more of a Hopper); and the reverse.
        for (chip, arch) in [("GB100", "HOPPER"), ("GH100", "BLACKWELL"), ("GB100", "hopper")] {
            let relabelled = try await client.attestSimulated { try Self.gpu(client, $0, chip: chip, arch: arch, status: [0, 0, 0, 0]) }
            #expect(relabelled.answer.status == 401, "\(chip) as \(arch): \(relabelled.answer)")
            #expect(relabelled.answer.code == "evidence_identity", "\(chip) as \(arch): \(relabelled.answer)")
            let key = try await client.resource("demo/keys/t3", cookie: relabelled.session.cookie)
            #expect(key.status == 401, "\(chip) as \(arch): \(key)")
        }
    }

    /// Checked to fail on c630e98^ (tier 4 asked only that a `sys_enable_status` be present): a Blackwell reporting
    /// any status reached tier 4 and got the tier-4 key.
    @Test("finding 2: tier 4 needs a signed TEE-I/O status the tier rules list, not any status")
    func tierFourNeedsTheListedTEEIOStatus() async throws {
        let lab = try AttackLab.require()
        let client = AttackClient(server: lab.server)
        let unlisted = try await client.attestSimulated { try Self.gpu(client, $0, chip: "GB100", arch: "BLACKWELL", status: [0, 0, 0, 0]) }
        #expect(unlisted.answer.status == 200, "\(unlisted.answer)")
        #expect(try AttackClient.appraisal(try #require(unlisted.answer.token)).tier == 2)
        #expect(try await client.resource("demo/keys/t4", cookie: unlisted.session.cookie).status == 403)

        let listed = try await client.attestSimulated {
            try Self.gpu(client, $0, chip: "GB100", arch: "BLACKWELL", status: AttackLab.teeIOStatus)
        }
        #expect(listed.answer.status == 200, "\(listed.answer)")
        #expect(try AttackClient.appraisal(try #require(listed.answer.token)).tier == 4)
        #expect(try await client.resource("demo/keys/t4", cookie: listed.session.cookie).status == 200)
    }
}
