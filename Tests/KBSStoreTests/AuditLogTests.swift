import Dispatch
import Foundation
import GRDB
import KBSBroker
import KBSClaims
import KBSStore
import Testing

#if canImport(Glibc)
    import Glibc
#endif

/// The audit log: the hash chain over appended records, what tampering `verifyAudit` catches, redaction, the
/// deny-list for secrets, and that a failed write leaves nothing behind.
struct AuditLogTests {
    static func entry(_ index: Int, details: [String: AuditValue]? = nil) -> AuditEntry {
        AuditEntry(
            at: 1_790_000_000_000 + Int64(index), kind: index % 3 == 0 ? .keyOperation : .decision, actor: "workload-\(index % 7)",
            action: "release", resource: "kbs/keys/app-\(index)", outcome: index % 5 == 0 ? .deny : .permit,
            details: details ?? ["rules": ["release.allow"], "tier": .integer(Int64(index % 5)), "evidence": ["kind": "snp"]])
    }

    /// A store with `count` records.
    static func filledStore(_ count: Int = 50) throws -> (Store, String) {
        let (store, directory) = try temporaryStore()
        for index in 1...count { try store.appendAudit(entry(index)) }
        return (store, directory)
    }

    /// Changes the database behind the store's back, as someone with the file would.
    static func tamper(_ directory: String, _ sql: String, _ arguments: StatementArguments = []) throws {
        try tamper(directory) { db in try db.execute(sql: sql, arguments: arguments) }
    }

    static func tamper(_ directory: String, _ body: (Database) throws -> Void) throws {
        let queue = try DatabaseQueue(path: directory + "/kbs.sqlite")
        try queue.write(body)
    }

    @Test func fiftyRecordsFormOneVerifiedChain() throws {
        let (store, directory) = try Self.filledStore()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let records = try store.auditRecords(limit: 100)
        #expect(records.map(\.seq) == Array(1...50))
        #expect(records[0].prevHash == AuditChain.genesis)
        for (previous, record) in zip(records, records.dropFirst()) { #expect(record.prevHash == previous.hash) }
        for record in records { #expect(AuditChain.hash(record) == record.hash) }
        #expect(records[1].detailsJSON == #"{"evidence":{"kind":"snp"},"rules":["release.allow"],"tier":2}"#)

        let verification = try store.verifyAudit()
        #expect(verification.isValid)
        #expect(verification.records == 50)
        #expect(verification.head == AuditHead(seq: 50, hash: records[49].hash))
        // Paging, and the chain survives reopening.
        #expect(try store.auditRecords(from: 48, limit: 10).map(\.seq) == [48, 49, 50])
        #expect(try Store(directory: directory).verifyAudit() == verification)
    }

    @Test func anEmptyLogVerifies() throws {
        let (store, directory) = try temporaryStore()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        #expect(try store.verifyAudit() == AuditVerification(records: 0, head: nil, firstBreak: nil))
    }

    @Test(arguments: [
        ("at", "at + 1"), ("kind", "'admin'"), ("actor", "'someone-else'"), ("action", "'rotate'"), ("resource", "'kbs/keys/other'"),
        ("outcome", "'deny'"), ("details", #"'{"tier":4}'"#),
    ])
    func aChangedFieldIsNamedBySeq(column: String, value: String) throws {
        let (store, directory) = try Self.filledStore()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        // Record 17 is a permitted `decision` with tier 2 in its details: every new value differs from the old.
        try Self.tamper(directory, "UPDATE audit SET \(column) = \(value) WHERE seq = 17")
        let verification = try store.verifyAudit()
        #expect(verification.firstBreak?.seq == 17)
        #expect(verification.firstBreak?.reason == .hashMismatch)
        #expect(verification.records == 50)
    }

    @Test func valuesOfTheWrongTypeAreReportedNotTrapped() throws {
        for (sql, seq) in [
            ("UPDATE audit SET at = 'not a time' WHERE seq = 7", 7), ("UPDATE audit SET kind = x'00ff' WHERE seq = 8", 8),
            ("UPDATE audit SET hash = 'short' WHERE seq = 9", 9),
        ] {
            let (store, directory) = try Self.filledStore(10)
            defer { try? FileManager.default.removeItem(atPath: directory) }
            try Self.tamper(directory, sql)
            let found = try #require(try store.verifyAudit().firstBreak)
            #expect(found.seq == Int64(seq))
            #expect(found.reason == .malformed)
            if seq != 9 { #expect(throws: StoreError.self) { try store.auditRecords() } }
            // Appending still works and chains onto the stored row; the break stays where it was.
            try store.appendAudit(Self.entry(11))
            #expect(try store.verifyAudit().firstBreak?.seq == Int64(seq))
        }
    }

    @Test func aDeletedMiddleRecordIsMissing() throws {
        let (store, directory) = try Self.filledStore()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        try Self.tamper(directory, "DELETE FROM audit WHERE seq = 25")
        let found = try #require(try store.verifyAudit().firstBreak)
        #expect(found.seq == 25)
        #expect(found.reason == .missing)
        #expect(found.description == "record 25: missing (removed; the next record is 26)")
    }

    @Test func aDeletedRecordWithTheRestRenumberedBreaksPrevHash() throws {
        let (store, directory) = try Self.filledStore()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        try Self.tamper(directory, "DELETE FROM audit WHERE seq = 25")
        // Two steps so that no intermediate row collides on the primary key.
        try Self.tamper(directory, "UPDATE audit SET seq = -seq WHERE seq > 25")
        try Self.tamper(directory, "UPDATE audit SET seq = -seq - 1 WHERE seq < 0")
        let found = try #require(try store.verifyAudit().firstBreak)
        #expect(found.seq == 25)
        #expect(found.reason == .prevHashMismatch)
    }

    @Test func deletingTheFirstRecordIsDetected() throws {
        let (store, directory) = try Self.filledStore(5)
        defer { try? FileManager.default.removeItem(atPath: directory) }
        try Self.tamper(directory, "DELETE FROM audit WHERE seq = 1")
        #expect(try store.verifyAudit().firstBreak?.seq == 1)
    }

    @Test func swappedRecordsAreDetected() throws {
        let columns = ["at", "kind", "actor", "action", "resource", "outcome", "details", "prev_hash", "hash"]
        // Whole rows but their seq (hashes travel along), then only the payload (stored hashes stay put).
        for swapped in [columns, Array(columns.prefix(7))] {
            let (store, directory) = try Self.filledStore()
            defer { try? FileManager.default.removeItem(atPath: directory) }
            try Self.tamper(directory) { db in
                let select = "SELECT \(swapped.joined(separator: ", ")) FROM audit WHERE seq = ?"
                let ten = try #require(try Row.fetchOne(db, sql: select, arguments: [10]))
                let twenty = try #require(try Row.fetchOne(db, sql: select, arguments: [20]))
                let assignments = swapped.map { "\($0) = ?" }.joined(separator: ", ")
                for (row, seq) in [(twenty, 10), (ten, 20)] {
                    try db.execute(
                        sql: "UPDATE audit SET \(assignments) WHERE seq = ?",
                        arguments: StatementArguments(swapped.map { (row[$0] as DatabaseValue) as (any DatabaseValueConvertible)? } + [seq]))
                }
            }
            let records = try store.auditRecords(from: 10, limit: 11)
            #expect(records.first?.resource == "kbs/keys/app-20" && records.last?.resource == "kbs/keys/app-10")
            let found = try #require(try store.verifyAudit().firstBreak)
            #expect(found.seq == 10)
            #expect(found.reason == (swapped.count == columns.count ? .prevHashMismatch : .hashMismatch))
        }
    }

    @Test func aRehashedEditBreaksTheNextLink() throws {
        let (store, directory) = try Self.filledStore()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        var forged = try #require(try store.auditRecords(from: 30, limit: 1).first)
        forged.outcome = .permit
        forged.resource = "kbs/keys/crown-jewels"
        forged.hash = AuditChain.hash(forged)
        try Self.tamper(
            directory, "UPDATE audit SET outcome = ?, resource = ?, hash = ? WHERE seq = 30",
            [forged.outcome.rawValue, forged.resource, Data(forged.hash)])
        let found = try #require(try store.verifyAudit().firstBreak)
        #expect(found.seq == 31)
        #expect(found.reason == .prevHashMismatch)
    }

    @Test func aTruncatedTailIsOnlyVisibleAgainstARecordedHead() throws {
        let (store, directory) = try Self.filledStore()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let recorded = try #require(try store.verifyAudit().head)
        try Self.tamper(directory, "DELETE FROM audit WHERE seq > 45")
        let verification = try store.verifyAudit()
        #expect(verification.isValid)
        #expect(verification.head?.seq == 45)
        #expect(verification.head != recorded)
    }

    /// The byte-level secret-name check agrees with the rule as written with Strings, non-ASCII names included.
    @Test func secretNamesAreJudgedAsTheRuleSays() {
        func rule(_ name: String) -> Bool {
            let normalized = name.lowercased().replacingOccurrences(of: "-", with: "_")
            return AuditEntry.deniedDetailNames.contains(normalized)
                || AuditEntry.deniedDetailNames.contains { $0 != "value" && normalized.hasSuffix("_" + $0) }
        }
        let names = [
            "token", "Token", "TOKEN", "access_token", "access-token", "tokens", "token_id", "mytoken", "_token", "value", "Value",
            "claim_value", "value_count", "key_material", "Key-Material", "wrapped_key_material", "keymaterial", "secret_name",
            "client_secret", "clientsecret", "password", "db_PASSWORD", "plaintext", "x_plaintext", "", "_", "é_token", "\u{212A}ey_material",
            "wrapped_\u{212A}EY_MATERIAL", "tier", "rules", "appraisal", "ﬁle_token", "straße",
        ]
        for name in names { #expect(AuditChain.suggestsSecret(name) == rule(name), "\(name)") }
    }

    @Test func concurrentAppendsFromTwoStoresFormOneChain() throws {
        let (first, directory) = try temporaryStore()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let second = try Store(directory: directory)
        let stores = [first, second]
        let failures = FailureBox()
        DispatchQueue.concurrentPerform(iterations: 2) { worker in
            for index in 0..<50 {
                do {
                    try stores[worker].appendAudit(Self.entry(worker * 100 + index))
                } catch {
                    failures.add("\(error)")
                }
            }
        }
        #expect(failures.all.isEmpty, "\(failures.all)")
        let verification = try first.verifyAudit()
        #expect(verification.isValid, "\(String(describing: verification.firstBreak))")
        #expect(verification.records == 100)
        #expect(verification.head?.seq == 100)
        let resources = try second.auditRecords(limit: 200).map(\.resource)
        #expect(Set(resources).count == 100)
    }

    @Test func detailsThatLookLikeSecretsAreRefused() throws {
        let (store, directory) = try temporaryStore()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let refused: [[String: AuditValue]] = [
            ["password": "hunter2"], ["value": "c2VjcmV0"], ["Secret": "x"], ["key-material": "00"], ["plaintext": "x"],
            ["token": "eyJ"], ["client_secret": "x"], ["access_token": "x"], ["wrapped_key_material": "00"],
            ["request": ["headers": ["authorization_token": "x"]]], ["items": [["name": "a"], ["password": "b"]]],
        ]
        for details in refused {
            do throws(StoreError) {
                try store.appendAudit(Self.entry(1, details: details))
                Issue.record("appended \(details)")
            } catch {
                #expect(error.code == .invalid)
                #expect(error.message.contains("secrets are never audited"))
            }
        }
        #expect(try store.verifyAudit().records == 0)
        // Names that merely contain a denied word are fine.
        try store.appendAudit(Self.entry(1, details: ["token_id": "jti-1", "claim_value_count": 2, "secret_name": "db"]))
        #expect(try store.verifyAudit().records == 1)
    }

    @Test func badKindsAndOversizedFieldsAreRefused() throws {
        let (store, directory) = try temporaryStore()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        var bad = Self.entry(1)
        bad.kind = "Key Operation"
        #expect(throws: StoreError.self) { try store.appendAudit(bad) }
        bad = Self.entry(1)
        bad.outcome = ""
        #expect(throws: StoreError.self) { try store.appendAudit(bad) }
        bad = Self.entry(1)
        bad.resource = String(repeating: "r", count: Store.maximumAuditFieldBytes + 1)
        #expect(throws: StoreError.self) { try store.appendAudit(bad) }
        #expect(try store.verifyAudit().records == 0)
    }

    @Test func apiKeyIdsAreRedactedOnTheWayIntoTheLog() async throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("kbs-redact-\(UUID())").path
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let store = try Store(directory: directory)
        let trail = BrokerPorts.sqlite(store).audit
        try await trail.append(
            AuditEntry(
                kind: .decision, actor: "subject:apikey:0123456789abcdef", action: "release", resource: "api-key:0123456789abcdef",
                outcome: .permit, details: ["subject": "apikey:0123456789abcdef"]))
        try await trail.append(
            AuditEntry(
                kind: .decision, actor: "oidc:https://idp#alice", action: "release", resource: "a/b/c", outcome: .permit,
                details: ["subject": "hmac:0123456789abcdef"]))
        let records = try store.auditRecords()
        let text = records.map { "\($0)" }.joined()
        #expect(!text.contains("0123456789abcdef"), "the key id is redacted everywhere: \(text)")
        #expect(records[0].resource.hasPrefix("api-key:hmac:") && records[0].actor.hasPrefix("subject:apikey:hmac:"))
        #expect(records[1].actor == "oidc:https://idp#alice", "other subjects stay as they are")
        // The same id gives the same token under the data directory's key, so records about one key still correlate.
        let token = String(records[0].resource.dropFirst("api-key:".count))
        #expect(records[0].detailsJSON.contains("apikey:\(token)") && records[1].detailsJSON.contains("hmac:\(token)"))
        #expect(try store.verifyAudit().records == 2)
    }

    @Test func redactionIsStablePerKeyAndDiffersAcrossKeys() throws {
        let one = try AuditRedactor(key: Array(repeating: 1, count: 32))
        let again = try AuditRedactor(key: Array(repeating: 1, count: 32))
        let other = try AuditRedactor(key: Array(repeating: 2, count: 32))
        let token = one.redact("ak_live_1234")
        #expect(token == again.redact("ak_live_1234"))
        #expect(token != other.redact("ak_live_1234"))
        #expect(token != one.redact("ak_live_1235"))
        #expect(token.hasPrefix("hmac:"))
        #expect(token.count == 5 + 32)
        #expect(token.dropFirst(5).allSatisfy { "0123456789abcdef".contains($0) })
        #expect(!token.contains("1234"))
        #expect(throws: StoreError.self) { try AuditRedactor(key: Array(repeating: 1, count: 16)) }
    }

    @Test func theEncodingSeparatesFields() throws {
        var record = AuditRecord(
            seq: 1, at: 0, kind: .decision, actor: "ab", action: "c", resource: "", outcome: .permit,
            detailsJSON: "{}", prevHash: AuditChain.genesis, hash: [])
        let first = AuditChain.hash(record)
        record.actor = "a"
        record.action = "bc"
        #expect(AuditChain.hash(record) != first)
        #expect(AuditChain.encode(record).starts(with: Array("kbs-audit-v1".utf8) + [0, 0, 0, 0, 0, 0, 0, 8, 0, 0, 0, 0, 0, 0, 0, 1]))
        // Member order does not matter; escapes are JSON's short ones.
        #expect(
            AuditChain.canonicalJSON(["b": 1, "a": ["x": "q\"\n"], "c": .null, "d": false])
                == #"{"a":{"x":"q\"\n"},"b":1,"c":null,"d":false}"#)
    }

    /// Hashes computed independently (Python's hashlib over the encoding docs/audit.md describes), so the
    /// documented format and the code cannot drift apart.
    @Test func hashesMatchTheDocumentedEncoding() throws {
        let (store, directory) = try temporaryStore()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let first = try store.appendAudit(
            AuditEntry(
                at: 1_790_000_000_000, kind: .decision, actor: "workload-1", action: "release",
                resource: "kbs/keys/app-1", outcome: .permit, details: ["tier": 3]))
        let second = try store.appendAudit(
            AuditEntry(
                at: 1_790_000_000_001, kind: .keyOperation, actor: "hmac:0011", action: "unwrap",
                resource: "kbs/keys/app-1", outcome: .success, details: ["rules": ["release.allow"]]))
        #expect(first.hashHex == "e090ffa4d62c23c48ca66fec60d4456d23e24a50491c9eb9bef1828577c46599")
        #expect(second.hashHex == "1b866d47ab78a8a7c251aeaabdfdf6a182a99f50874863edb4fced835a48c775")
    }

    @Test func aReadOnlyStoreRefusesAppendsAndWritesNothing() throws {
        let (store, directory) = try Self.filledStore(3)
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let readOnly = try Store(directory: directory, readOnly: true)
        #expect(try readOnly.verifyAudit().records == 3)
        do throws(StoreError) {
            try readOnly.appendAudit(Self.entry(4))
            Issue.record("a read-only store appended")
        } catch {
            #expect(error.code == .database)
        }
        let verification = try store.verifyAudit()
        #expect(verification.isValid)
        #expect(verification.records == 3)
    }

    @Test func aFailedInsertLeavesNothingBehind() throws {
        let (store, directory) = try Self.filledStore(3)
        defer { try? FileManager.default.removeItem(atPath: directory) }
        // Stands in for a full disk or an I/O error at the moment of the insert.
        try Self.tamper(directory, "CREATE TRIGGER refuse BEFORE INSERT ON audit BEGIN SELECT RAISE(ABORT, 'disk full'); END")
        #expect(throws: StoreError.self) { try store.appendAudit(Self.entry(4)) }
        try Self.tamper(directory, "DROP TRIGGER refuse")
        #expect(try store.verifyAudit().records == 3)
        #expect(try store.appendAudit(Self.entry(4)).seq == 4)
        #expect(try store.verifyAudit().isValid)
    }

    @Test func anUnwritableFileRefusesAppends() throws {
        let (store, directory) = try Self.filledStore(3)
        defer {
            chmod(directory, 0o755)
            try? FileManager.default.removeItem(atPath: directory)
        }
        _ = store
        if geteuid() == 0 {
            // Root writes through file modes (CI runs as root): a read-only connection is the unwritable file it can have.
            let readOnly = try Store(directory: directory, readOnly: true)
            #expect(throws: StoreError.self) { try readOnly.appendAudit(Self.entry(4)) }
            #expect(try readOnly.verifyAudit().records == 3)
            return
        }
        for name in try FileManager.default.contentsOfDirectory(atPath: directory) { chmod(directory + "/" + name, 0o444) }
        chmod(directory, 0o555)
        // Refusing to open read-write is as good as refusing the append: nothing can be appended either way.
        if let reopened = try? Store(directory: directory) {
            #expect(throws: StoreError.self) { try reopened.appendAudit(Self.entry(4)) }
        }
        chmod(directory, 0o755)
        #expect(try Store(directory: directory, readOnly: true).verifyAudit().records == 3)
    }
}

/// Errors collected from concurrent workers.
private final class FailureBox: @unchecked Sendable {
    private let lock = NSLock()
    private var messages: [String] = []

    func add(_ message: String) {
        lock.lock()
        defer { lock.unlock() }
        messages.append(message)
    }

    var all: [String] {
        lock.lock()
        defer { lock.unlock() }
        return messages
    }
}
