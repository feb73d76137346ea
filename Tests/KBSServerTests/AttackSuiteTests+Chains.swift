import Foundation
import KBSBroker
import KBSClaims
import KBSEvidence
import KBSStore
import Testing

/// Finding 8: chains and revocation in hardware mode. Each vendor's roots anchor only that vendor's evidence, evidence
/// whose chain no CRL covered is refused by the default release policy, and the simulator's roots anchor nothing.
/// (ShippedRootsServerTests holds the rest of the chain side: real SNP and Azure evidence past the shipped roots.)
extension AttackSuiteTests.HardwareMode {
    /// A simulator CA in a folder of its own whose `kind` authorities are those of a `Fixtures/trust` file.
    static func authorities(_ kind: EvidenceKind, from fixture: String) throws -> SimulatorCA {
        let folder = ServerProcess.temporaryDirectory("kbs-attack-ca")
        _ = try SimulatorCA.openOrCreate(directory: folder)
        let path = folder + "/simulator-ca.json"
        var object = try #require(try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: path))) as? [String: Any])
        object[kind.rawValue] = try AttackServers.authorities(fixture)
        try JSONSerialization.data(withJSONObject: object).write(to: URL(fileURLWithPath: path))
        return try SimulatorCA.openOrCreate(directory: folder)
    }

    /// `auth` for `kind`, then `attest` with simulated evidence for the session signed under `ca`.
    static func attest(_ client: AttackClient, _ kind: EvidenceKind, ca: SimulatorCA) async throws -> (AttackClient.Session, AttackClient.Answer) {
        let session = try await client.auth(tee: kind.rawValue)
        let data = try AttackClient.reportData(nonce: session.nonce, additional: "", kind: kind)
        let evidence = try TEESimulator.simulate(kind: kind, reportData: data, now: Date(), ca: ca)
        return (session, try await client.attest(session, primary: String(decoding: evidence.rcarEvidence, as: UTF8.self)))
    }

    /// Checked to fail on f437f05^ (one anchor pool for every kind: the vendor pinning of f437f05 in the verifiers and
    /// of 3d3d77d in the server both reverted): the report attested (200), its chain anchored by the roots under Intel's
    /// name.
    /// The same attack the other way round from the finding's own example (below).
    @Test("finding 8: an ARK and ASK under Intel's name in trust-anchors anchor no SNP report (evidence_chain)")
    func anotherVendorsRootAnchorsNothing() async throws {
        let lab = try AttackLab.require()
        let ca = try Self.authorities(.snp, from: "intel-named-snp-authorities.json")
        let (_, answer) = try await Self.attest(AttackClient(server: lab.server), .snp, ca: ca)
        #expect(answer.status == 401, "\(answer)")
        #expect(answer.code == "evidence_chain", "\(answer)")
    }

    /// The finding's own example, now that a TD quote travels over RCAR in Trustee's `{"quote"}` form (128b981): a
    /// PCK chain ending at a root under AMD's name in `trust-anchors` is refused at the chain. Before 128b981 the
    /// quote was `evidence_malformed`; with one anchor pool (f437f05^) the chain held and the quote stopped later, at
    /// its TCB collateral (`evidence_collateral`). Reasoned from those commits, not run on them.
    @Test("finding 8: a TD quote whose PCK chain ends at a root under AMD's name in trust-anchors is refused (evidence_chain)")
    func anAMDRootAnchorsNoPCKChain() async throws {
        let lab = try AttackLab.require()
        let ca = try Self.authorities(.tdx, from: "amd-named-tdx-authorities.json")
        let (_, answer) = try await Self.attest(AttackClient(server: lab.server), .tdx, ca: ca)
        #expect(answer.status == 401, "\(answer)")
        #expect(answer.code == "evidence_chain", "\(answer)")
    }

    /// Checked to fail on 02a7dac^ (no revocation_unchecked rule): the key was released (200).
    @Test("finding 8: SNP evidence whose chain no CRL covered attests, but the default policy releases nothing to it")
    func revocationUncheckedEvidenceIsRefused() async throws {
        let lab = try AttackLab.require()
        let client = AttackClient(server: lab.server)
        // The operator's own CA for SNP (trust-anchors/amd/), and no AMD CRL among the endorsements.
        let (session, answer) = try await Self.attest(client, .snp, ca: try Self.authorities(.snp, from: "lab-snp-authorities.json"))
        #expect(answer.status == 200, "\(answer)")
        let claims = try AttackClient.claims(try #require(answer.token))
        let annotated = ((claims["submods"] as? [String: Any])?["cpu0"] as? [String: Any])?["ear.veraison.annotated-evidence"] as? [String: Any]
        #expect((annotated?["snp"] as? [String: Any])?["revocation_checked"] as? Bool == false, "\(annotated ?? [:])")
        #expect(try AttackClient.appraisal(try #require(answer.token)).tier == 2)

        let released = try await client.resource("demo/keys/t2", cookie: session.cookie)
        #expect(released.status == 403, "\(released)")
        #expect(released.code == "policy_deny", "\(released)")
        // The audit names the rule that refused it.
        let store = try Store(path: lab.server.dataDirectory + "/kbs.sqlite", readOnly: true)
        let denial = try store.auditRecords(from: 1, limit: 100_000).last { $0.action == "release" && $0.resource == "demo/keys/t2" }
        #expect(denial?.outcome == .deny)
        #expect(denial?.detailsJSON.contains("revocation_unchecked") == true, "\(denial?.detailsJSON ?? "no record")")
    }

    /// The thin form of ShippedRootsServerTests.simulatorEvidenceIsRefused.
    @Test("finding 8: the simulator's own evidence is refused at the chain in hardware mode")
    func simulatorEvidenceIsRefused() async throws {
        let lab = try AttackLab.require()
        let ca = try SimulatorCA.openOrCreate(directory: ServerProcess.temporaryDirectory("kbs-attack-sim-ca"))
        let (_, answer) = try await Self.attest(AttackClient(server: lab.server), .snp, ca: ca)
        #expect(answer.status == 401, "\(answer)")
        #expect(answer.code == "evidence_chain", "\(answer)")
    }
}
