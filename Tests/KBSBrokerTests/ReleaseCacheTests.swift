import Crypto
import Foundation
import KBSClaims
import KBSEvidence
import KBSPolicy
import KBSStore
import Testing

@testable import KBSBroker
@testable import KBSKeys

/// Issue 18: the release path keeps resources, reference values, key records and unwrapped data keys in memory, and a
/// change made by another process on the same store (what `kbs refvals remove`, `kbs keys disable` or
/// `kbs tokens revoke` do beside a running server) still takes effect on the very next request.
@Suite struct ReleaseCacheTests {
    /// A simulator-mode broker on a real SQLite store, and a second store on the same file standing for another process.
    struct Fixture {
        let directory: String
        let store: Store
        let other: Store
        let master: LocalMasterKeyProvider
        let hierarchy: KeyHierarchy
        let broker: Broker
        let ca: SimulatorCA
        let clock = TestClock()
        let measurement = (0..<48).map { _ in UInt8.random(in: 0...255) }

        init() throws {
            directory = FileManager.default.temporaryDirectory.appendingPathComponent("kbs-release-cache-\(UUID().uuidString)").path
            try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
            ca = try SimulatorCA.openOrCreate(directory: directory + "/simulator-ca")
            (master, _) = try LocalMasterKeyProvider.create(at: directory + "/master.sealed", threshold: 2, shareCount: 2)
            store = try Store(directory: directory)
            other = try Store(directory: directory)
            hierarchy = KeyHierarchy(master: master, store: StoreKeyRecordStore(store))
            let registry = BrokerSchemas.registry
            let release = try PolicySet.load(directory: InMemoryReleaseTests.root + "/Policies/default", registry: registry).get()
            let tiers = try PolicySet.load(directory: InMemoryReleaseTests.root + "/Policies/default/tiers", registry: registry).get()
            let clock = self.clock
            broker = Broker(
                configuration: BrokerConfiguration(teeMode: .simulator, simulatorCA: ca), ports: .sqlite(store, clock: { clock.now }),
                keys: KeySource(hierarchy), releasePolicy: { release }, tierRules: TierRules(policy: tiers))
        }

        /// The other process's view: its own ports and key hierarchy on the same file.
        var elsewhere: (vault: ResourceVault, keys: KeyHierarchy, capabilities: CapabilityAuthority) {
            let clock = self.clock
            let keys = KeyHierarchy(master: master, store: StoreKeyRecordStore(other))
            let ports = BrokerPorts.sqlite(other, clock: { clock.now })
            return (ResourceVault(ports: ports, keys: KeySource(keys)), keys, CapabilityAuthority(ports: ports, keys: KeySource(keys)))
        }

        var hex: String { Hex.encode(measurement) }

        /// Auth and attest with SNP evidence bound to `key`, presenting `credential`; the session id and the token.
        func attest(_ key: P256.KeyAgreement.PrivateKey, credential: String? = nil) async throws -> (session: String, token: String) {
            let challenge = try await broker.auth(AuthRequest(version: "0.4.0", tee: "snp"))
            let jwk = try ProtocolTests.node(ProtocolTests.jwk(key))
            let digest = try Broker.runtimeDigest(teePublicKey: jwk, nonce: challenge.nonce, additionalEvidence: "")
            let simulated = try TEESimulator.simulate(kind: .snp, reportData: digest, measurement: measurement, now: clock.now, ca: ca)
            let token = try await broker.attest(
                sessionID: challenge.sessionID,
                request: AttestRequest(nonce: challenge.nonce, teePublicKey: jwk, primaryEvidence: simulated.rcarEvidence), credential: credential)
            return (challenge.sessionID, token)
        }

        /// The released plaintext, or the refusal's code.
        func release(_ path: String, session: String?, bearer: String? = nil, key: P256.KeyAgreement.PrivateKey) async -> Result<[UInt8], Refusal> {
            do {
                let jwe = try await broker.release(path: path, sessionID: session, bearer: bearer)
                return .success(try ProtocolTests.decrypt(jwe, with: key))
            } catch { return .failure(Refusal(code: (error as? BrokerError)?.code ?? "\(error)")) }
        }
    }

    struct Refusal: Error, Equatable {
        var code: String
    }

    @Test("a reference value removed elsewhere denies the next release; added back, the next one releases")
    func referenceValueRemoval() async throws {
        let fixture = try Fixture()
        defer { try? FileManager.default.removeItem(atPath: fixture.directory) }
        _ = try await fixture.broker.vault.putResource(
            path: "c/key/a", value: SecretBytes(copying: [1, 2, 3]), requiredTier: 2, labels: [:], actor: "test")
        _ = try await fixture.broker.vault.addReferenceValues(kind: "snp", name: "measurement", values: [fixture.hex], actor: "test")
        let key = P256.KeyAgreement.PrivateKey()
        let (session, _) = try await fixture.attest(key)
        // Twice, so the second release runs from memory.
        #expect(await fixture.release("c/key/a", session: session, key: key) == .success([1, 2, 3]))
        #expect(await fixture.release("c/key/a", session: session, key: key) == .success([1, 2, 3]))
        let removed = try await fixture.elsewhere.vault.removeReferenceValues(kind: "snp", name: "measurement", values: [fixture.hex], actor: "cli")
        #expect(removed == 1)
        #expect(await fixture.release("c/key/a", session: session, key: key) == .failure(Refusal(code: "policy_deny")))
        _ = try await fixture.elsewhere.vault.addReferenceValues(kind: "snp", name: "measurement", values: [fixture.hex], actor: "cli")
        #expect(await fixture.release("c/key/a", session: session, key: key) == .success([1, 2, 3]))
    }

    @Test("a resource replaced or deleted elsewhere is seen by the next release")
    func resourceChange() async throws {
        let fixture = try Fixture()
        defer { try? FileManager.default.removeItem(atPath: fixture.directory) }
        _ = try await fixture.broker.vault.addReferenceValues(kind: "snp", name: "measurement", values: [fixture.hex], actor: "test")
        _ = try await fixture.broker.vault.putResource(path: "c/key/a", value: SecretBytes(copying: [1]), requiredTier: 2, labels: [:], actor: "test")
        let key = P256.KeyAgreement.PrivateKey()
        let (session, _) = try await fixture.attest(key)
        #expect(await fixture.release("c/key/a", session: session, key: key) == .success([1]))
        _ = try await fixture.elsewhere.vault.putResource(
            path: "c/key/a", value: SecretBytes(copying: [2]), requiredTier: 2, labels: [:], actor: "cli")
        #expect(await fixture.release("c/key/a", session: session, key: key) == .success([2]))
        // Raised above the session's tier elsewhere: denied at once.
        _ = try await fixture.elsewhere.vault.putResource(
            path: "c/key/a", value: SecretBytes(copying: [2]), requiredTier: 3, labels: [:], actor: "cli")
        #expect(await fixture.release("c/key/a", session: session, key: key) == .failure(Refusal(code: "policy_deny")))
        #expect(try await fixture.elsewhere.vault.deleteResource(path: "c/key/a", actor: "cli"))
        #expect(await fixture.release("c/key/a", session: session, key: key) == .failure(Refusal(code: "policy_deny")))
    }

    @Test("a data key or its key-encryption key disabled elsewhere refuses the next release, though its plaintext is cached")
    func disabledKey() async throws {
        let fixture = try Fixture()
        defer { try? FileManager.default.removeItem(atPath: fixture.directory) }
        _ = try await fixture.broker.vault.addReferenceValues(kind: "snp", name: "measurement", values: [fixture.hex], actor: "test")
        _ = try await fixture.broker.vault.putResource(path: "c/key/a", value: SecretBytes(copying: [7]), requiredTier: 2, labels: [:], actor: "test")
        let key = P256.KeyAgreement.PrivateKey()
        let (session, _) = try await fixture.attest(key)
        #expect(await fixture.release("c/key/a", session: session, key: key) == .success([7]))
        #expect(fixture.hierarchy.caches.dataKeys.isLocked)
        #expect(fixture.hierarchy.caches.dataKeys.count == 1)
        for id in [ResourceVault.resourceKeyID, ResourceVault.resourceParentID] {
            _ = try await fixture.elsewhere.keys.disable(id)
            #expect(await fixture.release("c/key/a", session: session, key: key) == .failure(Refusal(code: "key_disabled")))
            _ = try await fixture.elsewhere.keys.enable(id)
            #expect(await fixture.release("c/key/a", session: session, key: key) == .success([7]))
        }
        // Disabled by this process: its cached plaintext is wiped at once, not only made unreachable.
        _ = try await fixture.hierarchy.disable(ResourceVault.resourceKeyID)
        #expect(fixture.hierarchy.caches.dataKeys.count == 0)
        #expect(await fixture.release("c/key/a", session: session, key: key) == .failure(Refusal(code: "key_disabled")))
    }

    @Test("a capability token revoked elsewhere refuses the next release made with its attestation token")
    func revokedToken() async throws {
        let fixture = try Fixture()
        defer { try? FileManager.default.removeItem(atPath: fixture.directory) }
        _ = try await fixture.broker.vault.addReferenceValues(kind: "snp", name: "measurement", values: [fixture.hex], actor: "test")
        _ = try await fixture.broker.vault.putResource(path: "c/key/a", value: SecretBytes(copying: [9]), requiredTier: 2, labels: [:], actor: "test")
        let issued = try await fixture.broker.capabilities.issue(agent: "agent-1", capabilities: ["release:c/key/*"], lifetime: 600, actor: "test")
        let key = P256.KeyAgreement.PrivateKey()
        let (session, token) = try await fixture.attest(key, credential: issued.token)
        #expect(await fixture.release("c/key/a", session: nil, bearer: token, key: key) == .success([9]))
        #expect(await fixture.release("c/key/a", session: session, key: key) == .success([9]))
        #expect(try await fixture.elsewhere.capabilities.revoke(issued.id, actor: "cli"))
        #expect(await fixture.release("c/key/a", session: nil, bearer: token, key: key) == .failure(Refusal(code: "token_revoked")))
        #expect(await fixture.release("c/key/a", session: session, key: key) == .failure(Refusal(code: "token_revoked")))
    }
}
