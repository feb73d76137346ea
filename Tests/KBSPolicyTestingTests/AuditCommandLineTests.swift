import Foundation
import GRDB
import KBSBroker
import KBSStore
import Testing

@testable import KBSStorePostgres

/// `kbs audit verify` on a data directory whose store stays open, as a running server's would.
struct AuditCommandLineTests {
    static func dataDirectory(records: Int) throws -> (Store, String) {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("kbs-audit-\(UUID())").path
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        let store = try Store(directory: directory)
        for index in 0..<records {
            try store.appendAudit(
                AuditEntry(
                    kind: .decision, actor: "workload", action: "release",
                    resource: "kbs/keys/app-\(index)", outcome: .permit, details: ["tier": 3]))
        }
        return (store, directory)
    }

    @Test(.enabled(if: CommandLineTests.binary != nil)) func verifyPrintsTheHeadOfAGoodChain() throws {
        let (store, directory) = try Self.dataDirectory(records: 5)
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let head = try #require(try store.auditRecords(from: 5, limit: 1).first)
        let result = try CommandLineTests.run(["audit", "verify", "--data-dir", directory])
        #expect(result.status == 0, "\(result.err)")
        #expect(result.out == #"{"records":5,"head_seq":5,"head_hash":"\#(head.hashHex)"}"# + "\n")
        // The store is still writable beside the reader.
        #expect(try store.appendAudit(AuditEntry(kind: .admin, actor: "admin", action: "x", resource: "y", outcome: .success)).seq == 6)
    }

    @Test(.enabled(if: CommandLineTests.binary != nil)) func verifyNamesTheTamperedRecord() throws {
        let (_, directory) = try Self.dataDirectory(records: 5)
        defer { try? FileManager.default.removeItem(atPath: directory) }
        try DatabaseQueue(path: directory + "/kbs.sqlite").write { db in
            try db.execute(sql: "UPDATE audit SET outcome = 'deny' WHERE seq = 3")
        }
        let result = try CommandLineTests.run(["audit", "verify", "--data-dir", directory])
        #expect(result.status == 1)
        #expect(result.out.isEmpty)
        #expect(result.err.hasPrefix("error: audit: record 3: "), "\(result.err)")
    }

    @Test(.enabled(if: CommandLineTests.binary != nil)) func anEmptyLogAndAMissingStore() throws {
        let (_, directory) = try Self.dataDirectory(records: 0)
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let empty = try CommandLineTests.run(["audit", "verify", "--data-dir", directory])
        #expect(empty.status == 0, "\(empty.err)")
        #expect(empty.out == #"{"records":0,"head_seq":null,"head_hash":null}"# + "\n")
        let missing = try CommandLineTests.run(["audit", "verify", "--data-dir", directory + "/nowhere"])
        #expect(missing.status == 1)
        #expect(missing.err.hasPrefix("error: store: no store at "))
        #expect(try CommandLineTests.run(["audit", "verify"]).status == 2)
    }

    /// `--store postgresql://…` reads the one chain replicas share, in its own schema here (`?schema=`), and names a
    /// tampered record as it does on SQLite. Runs where Tools/test (Tools/with-postgres) provides the database.
    @Test(.enabled(if: CommandLineTests.binary != nil && ProcessInfo.processInfo.environment["KBS_TEST_POSTGRES_URL"] != nil))
    func verifyReadsAPostgreSQLChain() async throws {
        let base = try #require(ProcessInfo.processInfo.environment["KBS_TEST_POSTGRES_URL"])
        let schema = "kbs_cli_" + UUID().uuidString.lowercased().replacingOccurrences(of: "-", with: "")
        let url = base + (base.contains("?") ? "&" : "?") + "schema=" + schema
        let store = try await PostgresStore(url: url)
        for index in 0..<4 {
            try await store.appendAudit(
                AuditEntry(kind: .decision, actor: "replica", action: "release", resource: "kbs/keys/\(index)", outcome: .permit))
        }
        let head = try #require(try await store.auditRecords(from: 4, limit: 1).first)
        let good = try CommandLineTests.run(["audit", "verify", "--store", url])
        #expect(good.status == 0, "\(good.err)")
        #expect(good.out == #"{"records":4,"head_seq":4,"head_hash":"\#(head.hashHex)"}"# + "\n")
        #expect(!good.err.contains(base), "the URL, which may hold a password, is never echoed")
        try await store.execute("UPDATE audit SET outcome = 'deny' WHERE seq = 2")
        let tampered = try CommandLineTests.run(["audit", "verify", "--store", url])
        #expect(tampered.status == 1)
        #expect(tampered.err.hasPrefix("error: audit: record 2: "), "\(tampered.err)")
        try await store.execute("DROP SCHEMA \(schema) CASCADE")
        await store.close()
        #expect(try CommandLineTests.run(["audit", "verify", "--store", url, "--data-dir", "x"]).status == 2)
    }
}
