import Foundation
import KBSClaims
import KBSKeys
import KBSPolicy
import Synchronization
import Testing

@testable import KBSBroker

/// The KMS use cases on in-memory ports with `Policies/kms`: no HTTP, no SQLite, the clock in the test's hand. What the
/// boto3 end-to-end tests show through `kbs serve`, this shows of the broker alone, plus what needs time to pass
/// (a deletion date, a rotation period) or a port to fail (the audit log, the decision log).
@Suite struct KeyServiceTests {
    struct Fixture {
        let memory = InMemoryPorts()
        let repository = MemoryKMSRepository()
        let decisions = MemoryDecisionRecorder()
        let clock = TestClock(Date(timeIntervalSince1970: 1_800_000_000))
        let service: KeyService

        init(policy: Bool = true, defaultTier: PrivacyTier = .encrypted) throws {
            let directory = FileManager.default.temporaryDirectory.appendingPathComponent("kbs-kms-\(UUID().uuidString)").path
            try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
            let (master, _) = try LocalMasterKeyProvider.create(at: directory + "/master.sealed", threshold: 2, shareCount: 2)
            let registry = BrokerSchemas.registry
            let release = try PolicySet.load(directory: InMemoryReleaseTests.root + "/Policies/default", registry: registry).get()
            let kms = policy ? try PolicySet.load(directory: InMemoryReleaseTests.root + "/Policies/kms", registry: registry).get() : nil
            let clock = self.clock
            let broker = Broker(
                configuration: BrokerConfiguration(teeMode: .hardware), ports: memory.ports(clock: { clock.now }),
                keys: KeySource(KeyHierarchy(master: master, store: InMemoryKeyRecordStore())), releasePolicy: { release }, tierRules: nil)
            service = KeyService(broker: broker, repository: repository, policy: { kms }, recorder: decisions, defaultTier: defaultTier)
        }

        /// A caller whose API key `id` signed the request, at `tier`.
        static func caller(_ id: String, tier: Int = 1) -> KMSCaller {
            let subject = "apikey:\(id)"
            let claims = ClaimRecord([
                ("id", .string(subject)), ("subject", .string(subject)), ("issuer", .string("api_key")), ("method", .string("apikey")),
                ("verified_at", .time(Date(timeIntervalSince1970: 1_800_000_000))), ("api_key", .record(ClaimRecord([("key_id", .string(id))]))),
            ])
            let identity = CallerIdentity(subject: subject, method: "apikey", issuer: "api_key", claims: claims, expires: nil, capability: nil)
            return KMSCaller(identity: identity, tier: tier, evidence: nil, appraisalID: nil)
        }

        let alice = Fixture.caller("0123456789abcdef")
        let bob = Fixture.caller("fedcba9876543210")

        func key(_ tags: [String: String] = [:], spec: KMSKeySpec = .symmetricDefault) async throws -> String {
            try await service.createKey(alice, description: "test", usage: nil, spec: spec, tags: tags).entry.id
        }
    }

    /// The code of the broker's refusal, nil when `body` succeeds.
    static func code(_ body: () async throws -> Void) async -> String? {
        await InMemoryReleaseTests.code(body)
    }

    let plaintext = Array("key material for a file".utf8)

    @Test func encryptionContextIsBoundExactlyButNotByOrder() async throws {
        let fixture = try Fixture()
        let key = try await fixture.key()
        let sealed = try await fixture.service.encrypt(fixture.alice, key, plaintext: plaintext, context: ["b": "2", "a": "1"])
        let opened = try await fixture.service.decrypt(fixture.alice, ciphertext: sealed.ciphertext, context: ["a": "1", "b": "2"], expectedKey: nil)
        #expect(opened.plaintext == plaintext && opened.keyID == key)
        for changed in [["a": "1"], ["a": "1", "b": "2", "c": "3"], ["A": "1", "b": "2"], ["a": "1", "b": "3"], [:]] {
            #expect(
                await Self.code {
                    _ = try await fixture.service.decrypt(fixture.alice, ciphertext: sealed.ciphertext, context: changed, expectedKey: nil)
                }
                    == "kms_invalid_ciphertext", "\(changed)")
        }
        #expect(EncryptionContext.canonical(["b": "2", "a": "1"]) == EncryptionContext.canonical(["a": "1", "b": "2"]))
        #expect(EncryptionContext.canonical(["ab": "c"]) != EncryptionContext.canonical(["a": "bc"]), "length-prefixed, not concatenated")
        let other = try await fixture.key()
        #expect(
            await Self.code {
                _ = try await fixture.service.decrypt(
                    fixture.alice, ciphertext: sealed.ciphertext, context: ["a": "1", "b": "2"], expectedKey: other)
            } == "kms_incorrect_key")
    }

    @Test func ciphertextsOfOtherKeysInTheHierarchyAreNotKMSCiphertexts() async throws {
        let fixture = try Fixture()
        _ = try await fixture.key()
        // The resource key seals resources and API-key secrets; a ciphertext of it must not open through the KMS API.
        _ = try await fixture.service.broker.vault.putResource(
            path: "a/b/c", value: SecretBytes(copying: plaintext), requiredTier: 0, labels: [:], actor: "admin")
        let keys = try await fixture.service.broker.vault.keys()
        let foreign = try await keys.encrypt(keyID: ResourceVault.resourceKeyID, plaintext: plaintext, aad: EncryptionContext.canonical([:]))
        #expect(
            await Self.code { _ = try await fixture.service.decrypt(fixture.alice, ciphertext: foreign, context: [:], expectedKey: nil) }
                == "kms_invalid_ciphertext")
    }

    @Test func othersAreDeniedAndTheDecisionLogSaysWhy() async throws {
        let fixture = try Fixture()
        let key = try await fixture.key()
        #expect(
            await Self.code { _ = try await fixture.service.encrypt(fixture.bob, key, plaintext: plaintext, context: [:]) } == "kms_access_denied")
        #expect(await Self.code { _ = try await fixture.service.changeState(fixture.bob, "DisableKey", key) } == "kms_access_denied")
        let denial = try #require(fixture.decisions.all.last)
        #expect(!denial.decision.isPermitted && denial.action == "kms:DisableKey" && denial.subjectID == "apikey:fedcba9876543210")
        #expect(!denial.decision.failures.isEmpty, "explained, so the log can say which condition failed")
        #expect(fixture.memory.audit.all.contains { $0.action == "kms:Encrypt" && $0.outcome == .deny })
    }

    @Test func withoutAKMSBundleEverythingIsDenied() async throws {
        let fixture = try Fixture(policy: false)
        #expect(await Self.code { _ = try await fixture.key() } == "kms_access_denied")
        #expect(fixture.decisions.all.last?.decision.errors.first?.message.contains("no `kms` policy bundle") == true)
    }

    @Test func aKeysRequiredTierNeedsACallerThatHigh() async throws {
        let fixture = try Fixture()
        let key = try await fixture.key([KeyService.tierTag: "hsm"])
        #expect(try await fixture.service.describeKey(fixture.alice, key).record.requiredTier == .hsm)
        #expect(
            await Self.code { _ = try await fixture.service.encrypt(fixture.alice, key, plaintext: plaintext, context: [:]) } == "kms_access_denied")
        let attested = Fixture.caller("0123456789abcdef", tier: 2)
        let sealed = try await fixture.service.encrypt(attested, key, plaintext: plaintext, context: [:])
        #expect(try await fixture.service.decrypt(attested, ciphertext: sealed.ciphertext, context: [:], expectedKey: key).plaintext == plaintext)
        #expect(await Self.code { _ = try await fixture.key([KeyService.tierTag: "7"]) } == "kms_tag")
        // Without the tag, the server's default tier.
        let strict = try Fixture(defaultTier: .hsm)
        let defaulted = try await strict.key()
        #expect(
            await Self.code { _ = try await strict.service.encrypt(strict.alice, defaulted, plaintext: plaintext, context: [:]) }
                == "kms_access_denied")
    }

    @Test func aKeyPastItsDeletionDateIsDestroyedAtTheNextRequest() async throws {
        let fixture = try Fixture()
        let key = try await fixture.key()
        try await fixture.service.setAlias(fixture.alice, name: "alias/doomed", target: key, update: false)
        let sealed = try await fixture.service.encrypt(fixture.alice, key, plaintext: plaintext, context: [:])
        _ = try await fixture.service.scheduleDeletion(fixture.alice, key, days: 7)
        #expect(
            await Self.code { _ = try await fixture.service.encrypt(fixture.alice, key, plaintext: plaintext, context: [:]) } == "kms_invalid_state")
        fixture.clock.advance(7 * 86_400 + 1)
        #expect(await Self.code { _ = try await fixture.service.describeKey(fixture.alice, key) } == "kms_not_found")
        #expect(
            await Self.code { _ = try await fixture.service.decrypt(fixture.alice, ciphertext: sealed.ciphertext, context: [:], expectedKey: nil) }
                == "kms_not_found")
        let keys = try await fixture.service.broker.vault.keySource.hierarchy()
        let record = try await keys.record(KeyService.recordPrefix + key)
        #expect(record.state == .destroyed && record.versions.allSatisfy { $0.wrapped.isEmpty }, "the material is gone")
        #expect(!(try await fixture.service.listKeys(fixture.alice, limit: 100, marker: nil).keys.contains(key)))
        #expect(fixture.memory.audit.all.contains { $0.action == "kms:DestroyKey" })
        #expect(try await fixture.repository.alias("alias/doomed") == nil, "its aliases went with it")
    }

    @Test func automaticRotationHappensAtTheFirstEncryptionDue() async throws {
        let fixture = try Fixture()
        let key = try await fixture.key()
        let before = try await fixture.service.encrypt(fixture.alice, key, plaintext: plaintext, context: [:])
        _ = try await fixture.service.setRotation(fixture.alice, key, days: 90)
        fixture.clock.advance(91 * 86_400)
        let after = try await fixture.service.encrypt(fixture.alice, key, plaintext: plaintext, context: [:])
        #expect(try KeyHierarchy.ciphertextKey(before.ciphertext).version == 1)
        #expect(try KeyHierarchy.ciphertextKey(after.ciphertext).version == 2)
        for sealed in [before, after] {
            #expect(
                try await fixture.service.decrypt(fixture.alice, ciphertext: sealed.ciphertext, context: [:], expectedKey: nil).plaintext == plaintext
            )
        }
        let status = try await fixture.service.rotationStatus(fixture.alice, key)
        #expect(status.nextRotation == fixture.clock.now.addingTimeInterval(90 * 86_400))
    }

    @Test func nothingIsReleasedThatCannotBeAuditedOrLogged() async throws {
        let fixture = try Fixture()
        let key = try await fixture.key()
        let sealed = try await fixture.service.encrypt(fixture.alice, key, plaintext: plaintext, context: [:])
        fixture.memory.audit.failing.store(true, ordering: .relaxed)
        #expect(
            await Self.code { _ = try await fixture.service.decrypt(fixture.alice, ciphertext: sealed.ciphertext, context: [:], expectedKey: nil) }
                == "audit_unavailable")
        #expect(
            await Self.code { _ = try await fixture.service.generateDataKey(fixture.alice, key, count: 32, context: [:], withPlaintext: true) }
                == "audit_unavailable")
        fixture.memory.audit.failing.store(false, ordering: .relaxed)
        fixture.decisions.refusing.store(true, ordering: .relaxed)
        #expect(
            await Self.code { _ = try await fixture.service.decrypt(fixture.alice, ciphertext: sealed.ciphertext, context: [:], expectedKey: nil) }
                == "decision_log_unavailable")
    }

    @Test func keyReferencesAndAliases() async throws {
        let fixture = try Fixture()
        let key = try await fixture.key()
        try await fixture.service.setAlias(fixture.alice, name: "alias/app", target: key, update: false)
        for reference in [key, "arn:aws:kms:any-region:000000000000:key/\(key)", "alias/app", "arn:aws:kms:x:000000000000:alias/app"] {
            #expect(try await fixture.service.describeKey(fixture.alice, reference).entry.id == key, "\(reference)")
        }
        #expect(
            await Self.code { _ = try await fixture.service.describeKey(fixture.alice, "arn:aws:kms:x:999999999999:key/\(key)") } == "kms_not_found")
        #expect(
            await Self.code { try await fixture.service.setAlias(fixture.alice, name: "alias/app", target: key, update: false) }
                == "kms_already_exists")
        #expect(
            await Self.code { try await fixture.service.setAlias(fixture.alice, name: "alias/aws/x", target: key, update: false) }
                == "kms_invalid_alias_name")
        #expect(
            await Self.code { try await fixture.service.setAlias(fixture.alice, name: "alias/b", target: "alias/app", update: false) }
                == "kms_validation")
        #expect(await Self.code { try await fixture.service.deleteAlias(fixture.bob, name: "alias/app") } == "kms_access_denied")
        try await fixture.service.deleteAlias(fixture.alice, name: "alias/app")
        #expect(KMSKeyReference.isKeyID(key) && !KMSKeyReference.isKeyID(key.uppercased()))
    }
}

/// ``KMSRepository`` in memory.
final class MemoryKMSRepository: KMSRepository {
    struct Duplicate: Error {}
    let keys = Mutex<[String: KMSKeyEntry]>([:])
    let aliasTable = Mutex<[String: KMSAlias]>([:])

    func insert(_ key: KMSKeyEntry) async throws {
        try keys.withLock { table in
            guard table[key.id] == nil else { throw Duplicate() }
            table[key.id] = key
        }
    }

    func key(_ id: String) async throws -> KMSKeyEntry? { keys.withLock { $0[id] } }

    func keys(after marker: String?, limit: Int) async throws -> [KMSKeyEntry] {
        keys.withLock { Array($0.values.filter { $0.id > (marker ?? "") }.sorted { $0.id < $1.id }.prefix(limit)) }
    }

    func update(_ key: KMSKeyEntry) async throws -> Bool {
        keys.withLock { table in
            guard table[key.id] != nil else { return false }
            table[key.id] = key
            return true
        }
    }

    func createAlias(_ alias: KMSAlias) async throws -> Bool {
        aliasTable.withLock { table in
            guard table[alias.name] == nil else { return false }
            table[alias.name] = alias
            return true
        }
    }

    func alias(_ name: String) async throws -> KMSAlias? { aliasTable.withLock { $0[name] } }

    func aliases(after marker: String?, limit: Int, keyID: String?) async throws -> [KMSAlias] {
        aliasTable.withLock { table in
            Array(table.values.filter { $0.name > (marker ?? "") && (keyID == nil || $0.keyID == keyID) }.sorted { $0.name < $1.name }.prefix(limit))
        }
    }

    func updateAlias(_ name: String, keyID: String, at time: Int64) async throws -> Bool {
        aliasTable.withLock { table in
            guard var alias = table[name] else { return false }
            alias.keyID = keyID
            alias.updatedAt = time
            table[name] = alias
            return true
        }
    }

    func deleteAlias(_ name: String) async throws -> Bool { aliasTable.withLock { $0.removeValue(forKey: name) != nil } }
}

/// Keeps every decision; `refusing` makes it refuse, as a full decision log would.
final class MemoryDecisionRecorder: DecisionRecorder {
    let decisions = Mutex<[AccessDecision]>([])
    let refusing = Atomic<Bool>(false)

    func record(_ decision: AccessDecision) -> Bool {
        guard !refusing.load(ordering: .relaxed) else { return false }
        decisions.withLock { $0.append(decision) }
        return true
    }

    var all: [AccessDecision] { decisions.withLock { $0 } }
}
