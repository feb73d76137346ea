import Foundation
import KBSBroker
import KBSPolicyTesting
import KBSStore
import Testing

@testable import KBSKeys

/// The key sweeper of `kbs serve` over real HTTP: keys whose deletion date has passed are destroyed while no request
/// touches them. A KMS key made and used with boto3 (`Tools/clients/kms-client.py`) and an admin-API data key have
/// their deletion scheduled; the server stops, their dates are moved into the past in the store (as if the windows had
/// run out while it was down), and the server restarts with a one-second sweep.
@Suite(.enabled(if: TestVenv.available, "needs .venv-test (Tools/bootstrap makes it)"))
struct KeySweepEndToEndTests {
    static let arguments = ["--policies", RepositoryPaths.path("Policies/kms")]

    /// Runs a scenario of the KMS client as `key`; the whole report, each of its checks asserted to have passed.
    static func client(_ server: ServerProcess, _ key: (id: String, secret: String), _ scenario: String, _ extra: [String] = [])
        throws -> [String: Any]
    {
        let run = try ChildProcess.run(
            TestVenv.python,
            [
                KMSEndToEndTests.client, scenario, "--endpoint", "http://127.0.0.1:\(server.port)", "--access-key", key.id, "--secret",
                key.secret,
            ] + extra)
        #expect(run.status == 0, "kms-client \(scenario) failed: \(run.err)")
        let report = try ServerProcess.object(run.out)
        let checks = try #require(report["checks"] as? [[String: Any]])
        #expect(!checks.isEmpty)
        for check in checks where check["ok"] as? Bool != true {
            Issue.record("\(check["name"] ?? ""): \(check["detail"] ?? "")\n\(check["trace"] ?? "")")
        }
        return report
    }

    @Test("keys past their deletion date are destroyed by the sweeper, unasked: audited, undecryptable, aliases gone")
    func theSweeperDestroysKeysPastTheirDeletionDate() async throws {
        let data = ServerProcess.temporaryDirectory("kbs-sweep")
        defer { try? FileManager.default.removeItem(atPath: data) }
        let policies = RepositoryPaths.path("Policies/default")
        let first = try ServerProcess(policies: policies, dataDirectory: data, arguments: Self.arguments, environment: ["PRIVACY_TIER": "1"])
        let key = try await KMSEndToEndTests.Fixture.apiKey(first, "sweep")
        let setup = try Self.client(first, key, "sweep-setup")
        let state = try #require(setup["state"] as? [String: Any])
        let kmsKey = try #require(state["key"] as? String)
        let blob = try #require(state["blob"] as? String)
        for body in [#"{"id":"sweep-kek"}"#, #"{"id":"sweep-dek","parent":"sweep-kek"}"#, #"{"id":"kept-dek","parent":"sweep-kek"}"#] {
            let created = try await first.request("POST", "/kbs/v1/keys", body: body, admin: true)
            #expect(created.status == 201, "\(created.body)")
        }
        for id in ["sweep-dek", "kept-dek"] {
            let scheduled = try await first.request("POST", "/kbs/v1/keys/\(id)/schedule-deletion", body: #"{"days":7}"#, admin: true)
            #expect(scheduled.status == 200, "\(scheduled.body)")
        }
        first.stop()

        // The windows run out while the server is down: both dates move a minute into the past (kept-dek's stays).
        let doomed = ["kms/" + kmsKey, "sweep-dek"]
        do {
            let records = StoreKeyRecordStore(try Store(directory: data))
            for id in doomed {
                var record = try #require(try await records.load(id))
                guard case .pendingDeletion = record.state else {
                    Issue.record("\(id) is not pending deletion: \(record.state)")
                    continue
                }
                let revision = record.revision
                record.state = .pendingDeletion(until: Date().addingTimeInterval(-60))
                record.revision += 1
                try await records.save(record, expectedRevision: revision)
            }
        }

        // Restarted with a one-second sweep; nothing asks for either key until the audit log shows them destroyed.
        let server = try ServerProcess(
            policies: policies, dataDirectory: data, arguments: Self.arguments,
            environment: ["PRIVACY_TIER": "1", "KBS_KEY_SWEEP_INTERVAL_SECONDS": "1"])
        defer { server.stop() }
        let reader = try Store(directory: data, readOnly: true)
        func destructions() throws -> [AuditRecord] {
            try reader.auditRecords(limit: 100_000).filter { $0.action == "kms:DestroyKey" || $0.action == "destroy" }
        }
        #expect(try await ServerProcess.eventually(seconds: 30) { try destructions().count >= 2 }, "\(server.stderr)")
        let audited = try destructions()
        #expect(audited.map(\.resource).sorted() == doomed.sorted(), "one record a destruction: \(audited.map(\.resource))")
        #expect(audited.allSatisfy { $0.actor == "kbs" && $0.outcome == .success })
        let kms = try #require(audited.first { $0.action == "kms:DestroyKey" })
        #expect(kms.resource == "kms/" + kmsKey && kms.detailsJSON.contains("alias/e2e-sweep"), "\(kms.detailsJSON)")
        #expect(audited.first { $0.action == "destroy" }?.resource == "sweep-dek")

        // The wrapped material is gone from the store; the key not yet due is untouched.
        let records = StoreKeyRecordStore(reader)
        for id in doomed {
            let record = try #require(try await records.load(id))
            #expect(record.state == .destroyed && record.versions.allSatisfy { $0.wrapped.isEmpty }, "\(id)")
        }
        let kept = try #require(try await records.load("kept-dek"))
        guard case .pendingDeletion(let until) = kept.state else {
            Issue.record("kept-dek is \(kept.state)")
            return
        }
        #expect(until > Date().addingTimeInterval(6 * 86_400))
        let shown = try await server.request("GET", "/kbs/v1/keys/sweep-dek", admin: true)
        #expect(shown.status == 200 && shown.body.contains(#""state":"destroyed""#), "\(shown.body)")

        // Counted and logged, without key material.
        // (The sweep counts once it has audited both, so the counters may trail the audit log a moment.)
        #expect(
            try await ServerProcess.eventually(seconds: 10) {
                try await server.request("GET", "/metrics").body.contains("kbs_key_sweep_destroyed_total 2")
            })
        let metrics = try await server.request("GET", "/metrics").body
        #expect(metrics.contains(#"kbs_key_sweeps_total{result="ok"}"#), "\(metrics)")
        #expect(metrics.contains(#"kbs_key_sweeps_total{result="failed"} 0"#), "\(metrics)")
        #expect(server.stderr.contains("key sweep: destroyed a key past its deletion date"))
        #expect(!server.stderr.contains("swept secret"))

        // Through the AWS API: the ciphertext no longer decrypts, the key and its alias are gone.
        try Self.client(server, key, "sweep-check", ["--key", kmsKey, "--blob", blob])

        // The audit chain, destructions included, verifies with the built binary.
        let verify = try ChildProcess.run(try #require(ServerProcess.binary), ["audit", "verify", "--data-dir", data])
        #expect(verify.status == 0, "\(verify.out) \(verify.err)")
    }
}
