import Foundation
import GRDB
import KBSBroker
import KBSClaims
import KBSStore
import Testing

/// The SQLite audit trail's group commit: concurrent appends share commits yet each returns only once its own record
/// is durable, the chain stays one line, a refused entry fails alone, and a failed commit fails every waiter.
struct AuditGroupCommitTests {
    static func entry(_ index: Int, resource: String? = nil) -> AuditEntry {
        AuditEntry(
            at: 1_800_000_000_000 + Int64(index), kind: .keyOperation, actor: "workload-\(index % 5)", action: "release",
            resource: resource ?? "kbs/keys/\(index)", outcome: .success, details: ["tier": .integer(Int64(index % 4))])
    }

    @Test func concurrentAppendsThroughTheTrailFormOneChainAndAreDurableOnReturn() async throws {
        let (store, directory) = try temporaryStore()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        // Another handle on the file: what it reads was committed, not merely written in the appender's transaction.
        let reader = try Store(path: directory + "/kbs.sqlite", readOnly: true)
        let trail = BrokerPorts.sqlite(store).audit
        let missing = try await withThrowingTaskGroup(of: Int?.self) { group in
            for index in 0..<200 {
                group.addTask {
                    try await trail.append(Self.entry(index))
                    let present = try reader.auditRecords(limit: 1000).contains { $0.resource == "kbs/keys/\(index)" }
                    return present ? nil : index
                }
            }
            return try await group.reduce(into: [Int]()) { if let index = $1 { $0.append(index) } }
        }
        #expect(missing.isEmpty, "records not committed when their append returned: \(missing)")
        let verification = try store.verifyAudit()
        #expect(verification.isValid, "\(String(describing: verification.firstBreak))")
        #expect(verification.records == 200)
        #expect(Set(try store.auditRecords(limit: 1000).map(\.resource)).count == 200)
    }

    @Test func aRecordTheDatabaseRefusesFailsAloneInItsBatch() async throws {
        let (store, directory) = try temporaryStore()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        // A trigger refuses one resource, inside whichever batch it lands in.
        let queue = try DatabaseQueue(path: directory + "/kbs.sqlite")
        try await queue.write { db in
            try db.execute(
                sql: """
                    CREATE TRIGGER refuse_poison BEFORE INSERT ON audit WHEN NEW.resource = 'poison'
                    BEGIN SELECT RAISE(ABORT, 'refused'); END
                    """)
        }
        let trail = BrokerPorts.sqlite(store).audit
        let outcomes = try await withThrowingTaskGroup(of: (Int, Bool).self) { group in
            for index in 0..<60 {
                group.addTask {
                    do {
                        try await trail.append(Self.entry(index, resource: index % 20 == 7 ? "poison" : nil))
                        return (index, true)
                    } catch { return (index, false) }
                }
            }
            return try await group.reduce(into: [Int: Bool]()) { $0[$1.0] = $1.1 }
        }
        #expect(outcomes.filter { !$0.value }.keys.sorted() == [7, 27, 47])
        let verification = try store.verifyAudit()
        #expect(verification.isValid && verification.records == 57)
    }

    @Test func aCommitThatFailsFailsEveryWaiter() async throws {
        let (store, directory) = try temporaryStore()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        try store.appendAudit(Self.entry(0))
        let readOnly = try Store(path: directory + "/kbs.sqlite", readOnly: true)
        let trail = BrokerPorts.sqlite(readOnly).audit
        let failures = try await withThrowingTaskGroup(of: Bool.self) { group in
            for index in 1...20 {
                group.addTask {
                    do {
                        try await trail.append(Self.entry(index))
                        return false
                    } catch { return true }
                }
            }
            return try await group.reduce(0) { $0 + ($1 ? 1 : 0) }
        }
        #expect(failures == 20)
        #expect(try store.verifyAudit().records == 1)
    }
}
