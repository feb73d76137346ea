import Crypto
import Foundation
import KBSClaims
import KBSEvidence
import KBSKeys
import KBSPolicy
import Synchronization
import Testing

@testable import KBSBroker

/// A whole key release — auth, attest with simulator SNP evidence, resource — on the in-memory ports: no SQLite, no
/// HTTP. What the HTTP end-to-end test shows through `kbs serve`, this shows of the broker alone.
@Suite struct InMemoryReleaseTests {
    /// The repository root, from this file's path.
    static let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent().path

    /// A broker in simulator mode over `memory`, with the default release policy and tier rules.
    struct Fixture {
        let memory = InMemoryPorts()
        let broker: Broker
        let ca: SimulatorCA
        let clock = TestClock()
        var now: Date { clock.now }
        let measurement = (0..<48).map { _ in UInt8.random(in: 0...255) }

        init() throws {
            let directory = FileManager.default.temporaryDirectory.appendingPathComponent("kbs-memory-\(UUID().uuidString)").path
            try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
            ca = try SimulatorCA.openOrCreate(directory: directory + "/simulator-ca")
            let (master, _) = try LocalMasterKeyProvider.create(at: directory + "/master.sealed", threshold: 2, shareCount: 2)
            let registry = BrokerSchemas.registry
            let release = try PolicySet.load(directory: InMemoryReleaseTests.root + "/Policies/default", registry: registry).get()
            let tiers = try PolicySet.load(directory: InMemoryReleaseTests.root + "/Policies/default/tiers", registry: registry).get()
            let clock = self.clock
            broker = Broker(
                configuration: BrokerConfiguration(teeMode: .simulator, simulatorCA: ca), ports: memory.ports(clock: { clock.now }),
                keys: KeySource(KeyHierarchy(master: master, store: InMemoryKeyRecordStore())), releasePolicy: { release },
                tierRules: TierRules(policy: tiers))
        }

        /// Auth and attest with SNP evidence bound to `key`; the session id.
        func attest(_ key: P256.KeyAgreement.PrivateKey, measurement: [UInt8]? = nil) async throws -> String {
            let challenge = try await broker.auth(AuthRequest(version: "0.4.0", tee: "snp"))
            _ = try await broker.attest(sessionID: challenge.sessionID, request: try request(key, nonce: challenge.nonce, measurement: measurement))
            return challenge.sessionID
        }

        /// An attestation request with SNP evidence bound to `key` and `nonce`.
        func request(_ key: P256.KeyAgreement.PrivateKey, nonce: String, measurement: [UInt8]? = nil) throws -> AttestRequest {
            let jwk = try ProtocolTests.node(ProtocolTests.jwk(key))
            let digest = try Broker.runtimeDigest(teePublicKey: jwk, nonce: nonce, additionalEvidence: "")
            let simulated = try TEESimulator.simulate(kind: .snp, reportData: digest, measurement: measurement ?? self.measurement, now: now, ca: ca)
            return AttestRequest(nonce: nonce, teePublicKey: jwk, primaryEvidence: simulated.rcarEvidence)
        }
    }

    /// The code of the broker's refusal, nil when `body` succeeds.
    static func code(_ body: () async throws -> Void) async -> String? {
        do {
            try await body()
            return nil
        } catch { return (error as? BrokerError)?.code ?? "\(error)" }
    }

    @Test func releasesToAnAttestedKeyAndRefusesWhatThePolicyDenies() async throws {
        let fixture = try Fixture()
        let secret = Array("in-memory secret \(UUID())".utf8)
        _ = try await fixture.broker.vault.putResource(
            path: "mem/key/two", value: SecretBytes(copying: secret), requiredTier: 2, labels: [:],
            actor: "test")
        _ = try await fixture.broker.vault.putResource(
            path: "mem/key/three", value: SecretBytes(copying: secret), requiredTier: 3, labels: [:],
            actor: "test")
        let hex = fixture.measurement.map { String(format: "%02x", $0) }.joined()
        #expect(try await fixture.broker.vault.addReferenceValues(kind: "snp", name: "measurement", values: [hex], actor: "test") == 1)

        let key = P256.KeyAgreement.PrivateKey()
        let session = try await fixture.attest(key)
        let jwe = try await fixture.broker.release(path: "mem/key/two", sessionID: session, bearer: nil)
        #expect(try ProtocolTests.decrypt(jwe, with: key) == secret)
        // SNP alone reaches tier 2, not 3; a missing path is not found.
        #expect(await Self.code { _ = try await fixture.broker.release(path: "mem/key/three", sessionID: session, bearer: nil) } == "policy_deny")
        // Missing and denied answer alike to a caller who may not list resources: no existence oracle (issue 15, #7).
        #expect(await Self.code { _ = try await fixture.broker.release(path: "mem/key/none", sessionID: session, bearer: nil) } == "policy_deny")

        // A measurement outside the reference values attests, and is denied.
        let stranger = try await fixture.attest(key, measurement: [UInt8](repeating: 7, count: 48))
        #expect(await Self.code { _ = try await fixture.broker.release(path: "mem/key/two", sessionID: stranger, bearer: nil) } == "policy_deny")

        // Every step reached the in-memory trail: two resources and a reference value, two attestations, four releases.
        let entries = fixture.memory.audit.all
        #expect(entries.filter { $0.action == "attest" && $0.outcome == .success }.count == 2)
        #expect(entries.filter { $0.action == "release" && $0.outcome == .permit }.map(\.resource) == ["mem/key/two"])
        #expect(entries.filter { $0.action == "release" && $0.outcome == .deny }.count == 3)
        #expect(entries.contains { $0.action == "release" && $0.resource == "mem/key/none" && $0.details["reason"] == "not_found" })
        #expect(entries.contains { $0.action == "add_reference_values" })
    }

    @Test func aNonceIsSpentOnceAndAnUnwritableTrailReleasesNothing() async throws {
        let fixture = try Fixture()
        let hex = fixture.measurement.map { String(format: "%02x", $0) }.joined()
        _ = try await fixture.broker.vault.addReferenceValues(kind: "snp", name: "measurement", values: [hex], actor: "test")
        _ = try await fixture.broker.vault.putResource(
            path: "mem/key/two", value: SecretBytes(copying: [1, 2, 3]), requiredTier: 2, labels: [:],
            actor: "test")
        let key = P256.KeyAgreement.PrivateKey()
        let challenge = try await fixture.broker.auth(AuthRequest(version: "0.4.0", tee: "snp"))
        let request = try fixture.request(key, nonce: challenge.nonce)
        _ = try await fixture.broker.attest(sessionID: challenge.sessionID, request: request)
        #expect(await Self.code { _ = try await fixture.broker.attest(sessionID: challenge.sessionID, request: request) } == "nonce_used")
        // The ledger alone also refuses the nonce, as another process sharing the store would see it.
        #expect(try await !fixture.memory.nonces.useOnce(challenge.nonce, namespace: "rcar-nonce", expires: fixture.now + 60, now: fixture.now))

        fixture.memory.audit.failing.store(true, ordering: .relaxed)
        #expect(
            await Self.code { _ = try await fixture.broker.release(path: "mem/key/two", sessionID: challenge.sessionID, bearer: nil) }
                == "audit_unavailable")
        fixture.memory.audit.failing.store(false, ordering: .relaxed)
        let jwe = try await fixture.broker.release(path: "mem/key/two", sessionID: challenge.sessionID, bearer: nil)
        #expect(try ProtocolTests.decrypt(jwe, with: key) == [1, 2, 3])
    }

    /// Issue 15, #5: an expired capability token must not release through the attestation-token path either.
    @Test func anExpiredCapabilityTokenReleasesThroughNoPath() async throws {
        let fixture = try Fixture()
        let hex = Hex.encode(fixture.measurement)
        _ = try await fixture.broker.vault.addReferenceValues(kind: "snp", name: "measurement", values: [hex], actor: "test")
        _ = try await fixture.broker.vault.putResource(
            path: "mem/key/two", value: SecretBytes(copying: [4, 2]), requiredTier: 2, labels: [:],
            actor: "test")
        let issued = try await fixture.broker.capabilities.issue(
            agent: "agent-1", capabilities: ["release:mem/key/*"], lifetime: 30,
            actor: "test")
        let key = P256.KeyAgreement.PrivateKey()
        let challenge = try await fixture.broker.auth(AuthRequest(version: "0.4.0", tee: "snp"))
        let token = try await fixture.broker.attest(
            sessionID: challenge.sessionID, request: try fixture.request(key, nonce: challenge.nonce),
            credential: issued.token)
        _ = try await fixture.broker.release(path: "mem/key/two", sessionID: nil, bearer: token)
        fixture.clock.advance(45)  // the capability (30 s) has expired; the appraisal (60 s) and the token (300 s) have not
        #expect(
            await Self.code { _ = try await fixture.broker.release(path: "mem/key/two", sessionID: challenge.sessionID, bearer: nil) }
                == "token_expired")
        #expect(await Self.code { _ = try await fixture.broker.release(path: "mem/key/two", sessionID: nil, bearer: token) } == "token_expired")
    }

    /// Issue 15, #3: the first attestation attempt spends the session, right or wrong, and refusals before any signature
    /// is checked are counted, not written to the audit log one by one.
    @Test func theFirstAttemptSpendsTheSessionAndCheapRefusalsAreNotAudited() async throws {
        let fixture = try Fixture()
        let key = P256.KeyAgreement.PrivateKey()
        let challenge = try await fixture.broker.auth(AuthRequest(version: "0.4.0", tee: "snp"))
        let wrong = try fixture.request(key, nonce: "not-the-nonce")
        #expect(await Self.code { _ = try await fixture.broker.attest(sessionID: challenge.sessionID, request: wrong) } == "nonce_mismatch")
        let right = try fixture.request(key, nonce: challenge.nonce)
        #expect(await Self.code { _ = try await fixture.broker.attest(sessionID: challenge.sessionID, request: right) } == "nonce_used")
        #expect(!fixture.memory.audit.all.contains { $0.action == "attest" })
        // Evidence that fails its checks is audited: a signature was checked.
        let other = try await fixture.broker.auth(AuthRequest(version: "0.4.0", tee: "snp"))
        var forged = try fixture.request(key, nonce: other.nonce)
        forged.primaryEvidence = Array(forged.primaryEvidence.reversed())
        #expect(await Self.code { _ = try await fixture.broker.attest(sessionID: other.sessionID, request: forged) }?.hasPrefix("evidence_") == true)
        #expect(fixture.memory.audit.all.filter { $0.action == "attest" && $0.outcome == .failure }.count == 1)
    }
}
