import Foundation
import KBSBroker
import KBSClaims
import KBSStore
import Testing

@testable import KBSKeys

/// The store contract: what the broker relies on from any store, checked case by case on SQLite and on PostgreSQL,
/// with two replicas on one database wherever several processes could race.
struct StoreContractTests {
    static let now = Date(timeIntervalSince1970: 1_800_000_000)

    @Test("a nonce is used once, by exactly one of many concurrent requests on two replicas", arguments: StoreBackend.allCases)
    func nonceSingleUse(backend: StoreBackend) async throws {
        try await StoreUnderTest.with(backend) { store in
            let expires = Self.now + 300
            let winners = try await withThrowingTaskGroup(of: Bool.self) { group in
                for index in 0..<32 {
                    let nonces = store.replica(index).ports.nonces
                    group.addTask { try await nonces.useOnce("n-1", namespace: "rcar", expires: expires, now: Self.now) }
                }
                return try await group.reduce(0) { $0 + ($1 ? 1 : 0) }
            }
            #expect(winners == 1)
            let nonces = store.first.ports.nonces
            // Namespaces are separate; an expired value may be recorded again.
            #expect(try await nonces.useOnce("n-1", namespace: "siwe", expires: expires, now: Self.now))
            #expect(try await nonces.useOnce("n-1", namespace: "rcar", expires: expires + 300, now: expires + 1))
            #expect(try await nonces.useOnce("n-1", namespace: "rcar", expires: expires + 600, now: expires + 2) == false)
        }
    }

    @Test("an issued challenge is consumed once, by exactly one of many concurrent requests, and not after expiry", arguments: StoreBackend.allCases)
    func challengeConsumedOnce(backend: StoreBackend) async throws {
        try await StoreUnderTest.with(backend) { store in
            #expect(try await store.first.ports.nonces.useOnce("c-1", namespace: "login", expires: Self.now + 300, now: Self.now))
            let winners = try await withThrowingTaskGroup(of: Bool.self) { group in
                for index in 0..<32 {
                    let nonces = store.replica(index).ports.nonces
                    group.addTask { try await nonces.consume("c-1", namespace: "login", now: Self.now + 1) }
                }
                return try await group.reduce(0) { $0 + ($1 ? 1 : 0) }
            }
            #expect(winners == 1)
            let nonces = store.first.ports.nonces
            #expect(try await nonces.consume("never-issued", namespace: "login", now: Self.now) == false)
            #expect(try await nonces.useOnce("c-2", namespace: "login", expires: Self.now + 300, now: Self.now))
            #expect(try await nonces.consume("c-2", namespace: "login", now: Self.now + 300) == false, "expired")
        }
    }

    @Test("audit appends from concurrent tasks on two replicas form one valid chain", arguments: StoreBackend.allCases)
    func auditChainAcrossReplicas(backend: StoreBackend) async throws {
        try await StoreUnderTest.with(backend) { store in
            try await withThrowingTaskGroup(of: Void.self) { group in
                for index in 0..<40 {
                    let audit = store.replica(index).ports.audit
                    group.addTask {
                        try await audit.append(
                            AuditEntry(
                                at: 1_000 + Int64(index), kind: .keyOperation, actor: "replica-\(index % 2)", action: "release",
                                resource: "repo/key/\(index)", outcome: .success, details: ["tier": 3, "rules": ["a", "b"]]))
                    }
                }
                try await group.waitForAll()
            }
            let verification = try await store.replica(1).verifyAudit()
            #expect(verification.isValid)
            #expect(verification.records == 40)
            let records = try await store.first.auditRecords(1)
            #expect(records.map(\.seq) == Array(1...40))
            #expect(Set(records.map(\.resource)).count == 40)
            #expect(verification.head == AuditHead(seq: 40, hash: try #require(records.last).hash))
            // The hash is the documented encoding, whichever database computed it.
            #expect(records.allSatisfy { AuditChain.hash($0) == $0.hash })
        }
    }

    @Test("an audit entry naming a secret is refused and nothing is written", arguments: StoreBackend.allCases)
    func auditRefusesSecrets(backend: StoreBackend) async throws {
        try await StoreUnderTest.with(backend) { store in
            let entry = AuditEntry(kind: .admin, actor: "admin", action: "create", resource: "k", outcome: .success, details: ["client_secret": "x"])
            await #expect(throws: StoreError.self) { try await store.first.ports.audit.append(entry) }
            let bad = AuditEntry(kind: "Not A Kind", actor: "admin", action: "create", resource: "k", outcome: .success)
            await #expect(throws: StoreError.self) { try await store.first.ports.audit.append(bad) }
            let verification = try await store.first.verifyAudit()
            #expect(verification == AuditVerification(records: 0, head: nil, firstBreak: nil))
        }
    }

    @Test("a changed or removed audit record is found by verification", arguments: StoreBackend.allCases)
    func auditTamperingFound(backend: StoreBackend) async throws {
        try await StoreUnderTest.with(backend) { store in
            for index in 1...6 {
                try await store.first.ports.audit.append(
                    AuditEntry(at: Int64(index), kind: .admin, actor: "admin", action: "put", resource: "r\(index)", outcome: .success))
            }
            try await store.tamper("UPDATE audit SET actor = 'mallory' WHERE seq = 3")
            let changed = try #require(try await store.replica(1).verifyAudit().firstBreak)
            #expect(changed.seq == 3 && changed.reason == .hashMismatch)
            try await store.tamper("DELETE FROM audit WHERE seq <= 3")
            let removed = try #require(try await store.replica(1).verifyAudit().firstBreak)
            #expect(removed.seq == 1 && removed.reason == .missing)
        }
    }

    @Test("key records: created once, saved only over the revision read, one winner among concurrent saves", arguments: StoreBackend.allCases)
    func keyRecordCompareAndSet(backend: StoreBackend) async throws {
        try await StoreUnderTest.with(backend) { store in
            let directory = FileManager.default.temporaryDirectory.appendingPathComponent("kbs-contract-master-\(UUID())").path
            try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
            defer { try? FileManager.default.removeItem(atPath: directory) }
            let master = try LocalMasterKeyProvider.create(
                at: directory + "/master.sealed", passphrase: [1, 2, 3], scrypt: ScryptParameters(log2N: 10, r: 8, p: 1))
            let hierarchy = KeyHierarchy(master: master, store: store.first.keyRecords)
            let kek = try await hierarchy.createKeyEncryptionKey(id: "kek", now: Self.now)
            _ = try await hierarchy.createDataKey(id: "dek", parent: "kek", now: Self.now)
            let sealed = try await hierarchy.encrypt(keyID: "dek", plaintext: Array("hello".utf8))
            _ = try await hierarchy.rotate("dek", now: Self.now + 60)
            // Another replica, same database and master key: it reads what the first wrote.
            let elsewhere = KeyHierarchy(master: master, store: store.replica(1).keyRecords)
            #expect(try await elsewhere.decrypt(sealed) == Array("hello".utf8))
            #expect(try await store.replica(1).keyRecords.list().map(\.id) == ["dek", "kek"])

            let duplicate = await Self.keyError { try await store.replica(1).keyRecords.save(kek, expectedRevision: nil) }
            #expect(duplicate?.reason == .alreadyExists)
            var missing = kek
            missing.id = "missing"
            let unknown = await Self.keyError { try await store.first.keyRecords.save(missing, expectedRevision: kek.revision) }
            #expect(unknown?.reason == .notFound)
            var bumped = kek
            bumped.revision += 1
            let next = bumped
            let outcomes = await withTaskGroup(of: KeyError?.self) { group in
                for index in 0..<16 {
                    let records = store.replica(index).keyRecords
                    group.addTask { await Self.keyError { try await records.save(next, expectedRevision: kek.revision) } }
                }
                return await group.reduce(into: [KeyError?]()) { $0.append($1) }
            }
            #expect(outcomes.filter { $0 == nil }.count == 1)
            #expect(outcomes.compactMap { $0 }.allSatisfy { $0.reason == .conflict })
            #expect(try await store.first.keyRecords.load("kek")?.revision == next.revision)
            #expect(try await store.first.keyRecords.load("missing") == nil)
        }
    }

    @Test("Vault entries: created once, replaced only over the revision read, one winner among concurrent saves", arguments: StoreBackend.allCases)
    func vaultCompareAndSet(backend: StoreBackend) async throws {
        try await StoreUnderTest.with(backend) { store in
            let vault = store.first.vault
            #expect(try await vault.save(.kvSecret, "app/db", Array("one".utf8), expectedRevision: nil, expires: nil))
            #expect(try await store.replica(1).vault.save(.kvSecret, "app/db", [0], expectedRevision: nil, expires: nil) == false)
            let first = try #require(try await store.replica(1).vault.entry(.kvSecret, "app/db"))
            #expect(first.document == Array("one".utf8) && first.revision == 1)
            let winners = try await withThrowingTaskGroup(of: Bool.self) { group in
                for index in 0..<16 {
                    let vault = store.replica(index).vault
                    group.addTask { try await vault.save(.kvSecret, "app/db", Array("w\(index)".utf8), expectedRevision: 1, expires: nil) }
                }
                return try await group.reduce(0) { $0 + ($1 ? 1 : 0) }
            }
            #expect(winners == 1)
            #expect(try await vault.entry(.kvSecret, "app/db")?.revision == 2)
            #expect(try await vault.entry(.transitKey, "app/db") == nil, "kinds are separate name spaces")
            #expect(try await vault.delete(.kvSecret, "app/db"))
            #expect(try await vault.delete(.kvSecret, "app/db") == false)
        }
    }

    @Test("Vault names list by prefix in byte order, `%` and `_` taken literally; expired entries pruned", arguments: StoreBackend.allCases)
    func vaultNamesAndPruning(backend: StoreBackend) async throws {
        try await StoreUnderTest.with(backend) { store in
            let vault = store.first.vault
            for name in ["a/x", "a/y", "a%/z", "a_b", "b/x", "B/upper"] {
                #expect(try await vault.save(.kvSecret, name, [1], expectedRevision: nil, expires: nil))
            }
            let underSlash = try await vault.names(.kvSecret, prefix: "a/", limit: 10)
            #expect(underSlash == ["a/x", "a/y"])
            let underPercent = try await vault.names(.kvSecret, prefix: "a%", limit: 10)
            #expect(underPercent == ["a%/z"])
            let underUnderscore = try await vault.names(.kvSecret, prefix: "a_", limit: 10)
            #expect(underUnderscore == ["a_b"])
            let firstThree = try await vault.names(.kvSecret, prefix: "", limit: 3)
            #expect(firstThree == ["B/upper", "a%/z", "a/x"])
            #expect(try await vault.save(.token, "old", [1], expectedRevision: nil, expires: 100))
            #expect(try await vault.save(.token, "new", [1], expectedRevision: nil, expires: 300))
            let pruned = try await vault.prune(.token, expiredBefore: 200)
            #expect(pruned == 1)
            let tokens = try await vault.names(.token, prefix: "", limit: 10)
            #expect(tokens == ["new"])
            let secrets = try await vault.names(.kvSecret, prefix: "", limit: 10).count
            #expect(secrets == 6, "pruning tokens leaves other kinds")
        }
    }

    /// The `KeyError` `body` throws, nil when it succeeds; any other error is one too, as `storage`.
    static func keyError(_ body: () async throws -> Void) async -> KeyError? {
        do {
            try await body()
            return nil
        } catch let error as KeyError { return error } catch { return KeyError(.storage, "\(error)") }
    }
}
