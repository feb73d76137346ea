import Foundation
import KBSClaims
import KBSEvidence
import KBSPolicy
import Testing

/// The SNP claims through the policy language: SOURCES.md's policy-level verdicts (VMPL 1, DEBUG) are decided by a
/// policy over verified claims, not by the verifier.
struct SNPPolicyTests {
    static let policy = """
        input {
          evidence: Attestation
        }

        permit snp_production when {
          has evidence.snp
          evidence.debug == false
          evidence.snp.vmpl == 0
          evidence.snp.debug_allowed == false
          evidence.snp.reported_tcb.snp >= 5
          evidence.snp.signing_key in ["vcek", "vlek"]
        }
        """

    func decide(_ evidence: String, endorsements: [String], at time: String) async throws -> Decision.Effect {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("snp-policy-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        try Data(Self.policy.utf8).write(to: directory.appendingPathComponent("snp.policy"))
        let set = try PolicySet.load(directory: directory.path, registry: EvidenceSchemas.register(into: .standard)).get()
        let context = try EvidenceFixtures.context(
            at: time, endorsements: endorsements,
            anchors: ["snp/trustee-milan_ask_ark_asvk.pem", "snp/trustee-genoa_ask_ark_asvk.pem"])
        let verified = try await SNPVerifier().verify(try EvidenceFixtures.bytes(evidence), context: context)
        return set.decide(json: Array("{\"evidence\":\(verified.json)}".utf8)).effect
    }

    @Test func productionPolicyVerdicts() async throws {
        #expect(try await decide("snp/trustee-test-report.bin", endorsements: ["snp/trustee-test-vcek.der"], at: "2024-06-01T00:00:00Z") == .permit)
        #expect(try await decide("snp/trustee-as-e2e-evidence.json", endorsements: [], at: "2026-01-01T00:00:00Z") == .permit)
        // VMPL 1: the VLEK sample must be rejected by a VMPL-0 policy.
        #expect(
            try await decide("snp/trustee-test-vlek-report.bin", endorsements: ["snp/trustee-test-vlek.der"], at: "2025-06-01T00:00:00Z") == .deny)
        // DEBUG allowed (policy bit 19).
        #expect(
            try await decide("snp/go-sev-guest-attestation.bin", endorsements: ["snp/go-sev-guest-vcek.der"], at: "2024-06-01T00:00:00Z") == .deny)
    }
}
