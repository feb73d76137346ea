import Crypto
import Foundation
import KBSClaims
import KBSEvidence
import KBSKeys
import KBSPolicy
import Testing

@testable import KBSBroker

/// The release input carries `tee_mode`, so rules that only make sense on real hardware (the default policy's
/// `revocation_unchecked`) can tell the modes apart.
struct TEEModeInputTests {
    /// A release policy that permits only when the input says the server runs in `mode`.
    static func policy(permittingIn mode: String) throws -> PolicySet {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("kbs-tee-mode-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let text = """
            input {
              action: string
              tee_mode?: string
            }

            permit release_in_mode when {
              action == "release"
              has tee_mode
              tee_mode == "\(mode)"
            }

            """
        try Data(text.utf8).write(to: URL(fileURLWithPath: directory + "/release.policy"))
        return try PolicySet.load(directory: directory, registry: BrokerSchemas.registry).get()
    }

    @Test(arguments: [("simulator", true), ("hardware", false)])
    func theReleaseInputNamesTheMode(_ mode: String, _ released: Bool) async throws {
        let fixture = try InMemoryReleaseTests.Fixture()
        let release = try Self.policy(permittingIn: mode)
        let tiers = try PolicySet.load(directory: InMemoryReleaseTests.root + "/Policies/default/tiers", registry: BrokerSchemas.registry).get()
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("kbs-tee-mode-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let (master, _) = try LocalMasterKeyProvider.create(at: directory + "/master.sealed", threshold: 2, shareCount: 2)
        let clock = fixture.clock
        let broker = Broker(
            configuration: BrokerConfiguration(teeMode: .simulator, simulatorCA: fixture.ca), ports: fixture.memory.ports(clock: { clock.now }),
            keys: KeySource(KeyHierarchy(master: master, store: InMemoryKeyRecordStore())), releasePolicy: { release },
            tierRules: TierRules(policy: tiers))
        _ = try await broker.vault.putResource(
            path: "mem/mode/key", value: SecretBytes(copying: [9]), requiredTier: 0, labels: [:], actor: "test")
        let key = P256.KeyAgreement.PrivateKey()
        let challenge = try await broker.auth(AuthRequest(version: "0.4.0", tee: "snp"))
        _ = try await broker.attest(sessionID: challenge.sessionID, request: try fixture.request(key, nonce: challenge.nonce))
        let code = await InMemoryReleaseTests.code { _ = try await broker.release(path: "mem/mode/key", sessionID: challenge.sessionID, bearer: nil) }
        #expect(code == (released ? nil : "policy_deny"), "\(mode)")
    }
}
