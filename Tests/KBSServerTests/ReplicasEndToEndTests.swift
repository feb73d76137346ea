import Foundation
import KBSPolicyTesting
import Synchronization
import Testing

/// Two `kbs serve` replicas on one PostgreSQL database (a fresh schema of Tools/with-postgres's throwaway cluster), each
/// with its own data directory, as a load balancer would spread one workload's requests over them: any step of a flow
/// on either replica, writes on one seen by the other at once, and `kill -9` of one losing nothing it acknowledged.
@Suite(.serialized, .enabled(if: TestVenv.available, "needs .venv-test (Tools/bootstrap makes it)"))
struct ReplicasEndToEndTests {
    static let measurement = String(repeating: "5a", count: 48)

    /// Replicas A and B on one database, with the simulator's measurement allowed and one tier-2 secret.
    struct Pair {
        let a: ServerProcess
        let b: ServerProcess
        /// The store URL both serve (it holds the database password: never printed by the test).
        let store: String
        let secret = "replicated-secret-\(UUID().uuidString)"

        /// Starts A, gives B A's simulator CA (replicas share it, DESIGN "Several replicas"), starts B; both serve
        /// `bundle`, and on Policies/default get the measurement and the secret.
        static func start(bundle: String = "Policies/default") async throws -> Pair? {
            guard let base = try PostgresForTests.url() else { return nil }
            let schema = "kbs_replicas_" + UUID().uuidString.lowercased().replacingOccurrences(of: "-", with: "")
            let store = base + (base.contains("?") ? "&" : "?") + "schema=" + schema
            let environment = [
                "KBS_STORE_URL": store, "KBS_MASTER_PASSPHRASE": "replicated passphrase for the test", "KBS_KEY_SWEEP_INTERVAL_SECONDS": "0",
            ]
            let policies = RepositoryPaths.path(bundle)
            let a = try ServerProcess(policies: policies, arguments: ["--tee-mode", "simulator"], environment: environment)
            let data = ServerProcess.temporaryDirectory("kbs-data-b")
            try FileManager.default.createDirectory(atPath: data, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o700])
            try FileManager.default.copyItem(atPath: a.dataDirectory + "/simulator-ca", toPath: data + "/simulator-ca")
            let b = try ServerProcess(policies: policies, dataDirectory: data, arguments: ["--tee-mode", "simulator"], environment: environment)
            let pair = Pair(a: a, b: b, store: store)
            guard bundle == "Policies/default" else { return pair }
            let added = try await a.request(
                "POST", "/kbs/v1/reference-values", body: #"{"kind":"snp","name":"measurement","values":["\#(measurement)"]}"#, admin: true)
            try #require(added.status == 201, "\(added.body)")
            let body = #"{"value":"\#(Data(pair.secret.utf8).base64EncodedString())","required_tier":2}"#
            let put = try await a.request("POST", "/kbs/v1/resources/demo/keys/app", body: body, admin: true)
            try #require(put.status == 201, "\(put.body)")
            return pair
        }

        func stop() {
            a.stop()
            b.stop()
        }

        /// Runs the independent Python RCAR client with A as its home; its JSON report.
        func client(_ arguments: [String]) throws -> [String: Any] {
            let binary = try #require(ServerProcess.binary)
            let script = RepositoryPaths.path("Tools/clients/rcar-client.py")
            var command: [String] = [script, "--url", url(a), "--kbs", binary, "--ca", a.dataDirectory + "/simulator-ca"]
            command += ["--measurement", ReplicasEndToEndTests.measurement, "--path", "demo/keys/app"]
            let (status, out, err) = try ChildProcess.run(TestVenv.python, command + arguments)
            try #require(status == 0, "client failed: \(err)")
            return try ServerProcess.object(out)
        }

        func url(_ server: ServerProcess) -> String { "http://127.0.0.1:\(server.port)" }

        /// The plaintext the client decrypted from the release of demo/keys/app.
        static func released(_ report: [String: Any]) -> String? {
            let result = (report["resources"] as? [String: Any])?["demo/keys/app"] as? [String: Any]
            return (result?["plaintext"] as? String).flatMap { Data(base64Encoded: $0) }.map { String(decoding: $0, as: UTF8.self) }
        }
    }

    @Test("one flow over both replicas: auth on A, attest on B, release on A; a nonce spent on A refused on B; A's token released on B")
    func aFlowCrossesReplicas() async throws {
        guard let pair = try await Pair.start() else { return }
        defer { pair.stop() }
        for replica in [pair.a, pair.b] {
            let ready = try await replica.request("GET", "/readyz")
            #expect(ready.status == 200, "ready once its store answers: \(ready.body)")
        }
        let crossed = try pair.client(["--attest-url", pair.url(pair.b)])
        #expect(crossed["auth"] as? Int == 200 && crossed["attest"] as? Int == 200, "\(crossed)")
        #expect(Pair.released(crossed) == pair.secret, "the session B attested releases on A: \(crossed)")

        let replayed = try pair.client(["--replay", "--replay-url", pair.url(pair.b)])
        #expect(replayed["attest"] as? Int == 200, "\(replayed)")
        #expect(replayed["replay_same_session"] as? Int == 401, "the session's one attempt was spent on A: \(replayed)")
        #expect(try ServerProcess.errorCode(replayed["replay_same_session_body"] as? String ?? "") == "nonce_used")
        #expect(replayed["replay_new_session"] as? Int == 401, "\(replayed)")

        // A's attestation token, as a bearer, releases on B: B verifies it with the signing key A made.
        let bearer = try pair.client(["--bearer", "--resource-url", pair.url(pair.b)])
        #expect(Pair.released(bearer) == pair.secret, "\(bearer)")
        let token = try #require(bearer["token"] as? String)
        let header = try #require(BrokerEndToEndTests.base64URL(String(token.split(separator: ".")[0])))
        let protected = try #require(try JSONSerialization.jsonObject(with: header) as? [String: Any])
        let kid = try #require(protected["kid"] as? String)
        let published = try await pair.b.request("GET", "/.well-known/jwks.json")
        #expect(published.status == 200 && published.body.contains(kid), "B publishes A's signing key: \(published.body)")
    }

    @Test("a key rotated and a capability token revoked on A take effect on B at once")
    func writesOnOneReplicaHoldOnTheOther() async throws {
        guard let pair = try await Pair.start() else { return }
        defer { pair.stop() }
        let created = try await pair.a.request("POST", "/kbs/v1/keys", body: #"{"id":"replicated-kek"}"#, admin: true)
        try #require(created.status == 201, "\(created.body)")
        let rotated = try await pair.a.request("POST", "/kbs/v1/keys/replicated-kek/rotate", body: "{}", admin: true)
        try #require(rotated.status == 200, "\(rotated.body)")
        let seen = try ServerProcess.object(try await pair.b.request("GET", "/kbs/v1/keys/replicated-kek", admin: true).body)
        #expect(seen["current_version"] as? Int == 2, "\(seen)")
        let disabled = try await pair.a.request("POST", "/kbs/v1/keys/replicated-kek/disable", body: "{}", admin: true)
        try #require(disabled.status == 200, "\(disabled.body)")
        let state = try ServerProcess.object(try await pair.b.request("GET", "/kbs/v1/keys/replicated-kek", admin: true).body)
        #expect(state["state"] as? String == "disabled", "\(state)")

        // A capability token issued on A carries an attestation on B; revoked on A, B refuses it on the next request.
        let issued = try await AttackSuiteTests.issueToken(pair.a, agent: "replicated-agent", capabilities: ["release:demo/*"], ttl: 600)
        let onB = AttackClient(server: pair.b)
        let flow = try await onB.attestSimulated(measurement: Self.measurementBytes, authorization: issued.token)
        try #require(flow.answer.status == 200, "\(flow.answer)")
        let attestation = try #require(flow.answer.token)
        let released = try await onB.resource("demo/keys/app", bearer: attestation)
        #expect(released.status == 200, "\(released)")
        let revoked = try await pair.a.request("DELETE", "/kbs/v1/tokens/\(issued.id)", admin: true)
        try #require(revoked.status == 200 || revoked.status == 204, "\(revoked.body)")
        let refused = try await onB.resource("demo/keys/app", bearer: attestation)
        #expect(refused.status == 401, "\(refused)")
        #expect(!refused.body.contains("ciphertext"))

    }

    @Test("an entity and a role written on A decide on B within a reload interval")
    func entitiesWrittenOnAReachB() async throws {
        guard let pair = try await Pair.start(bundle: "Policies/authzen-todo") else { return }
        defer { pair.stop() }
        let create = Todo.request(subject: AdminAPITests.newcomer, action: "can_create_todo")
        let before = try await AdminAPITests.decision(pair.b, create)
        #expect(before == false)
        let made = try await pair.a.request(
            "POST", "/kbs/v1/entities",
            body: #"{"type":"User","id":"\#(AdminAPITests.newcomer)","attributes":{"email":"new@example.com","name":"New"},"roles":["editor"]}"#,
            admin: true)
        try #require(made.status == 201, "\(made.body)")
        // B's view of the entities refreshes on its reload interval (200 ms in tests).
        let created = try await ServerProcess.eventually(seconds: 10) { try await AdminAPITests.decision(pair.b, create) == true }
        #expect(created, "the entity made on A decides on B")
        let promoted = try await pair.a.request("POST", "/kbs/v1/entities/User/\(Todo.beth)/roles", body: #"{"role":"editor"}"#, admin: true)
        try #require(promoted.status == 200, "\(promoted.body)")
        let beth = Todo.request(subject: Todo.beth, action: "can_create_todo")
        let promotedOnB = try await ServerProcess.eventually(seconds: 10) { try await AdminAPITests.decision(pair.b, beth) == true }
        #expect(promotedOnB, "the role added on A decides on B")
    }

    @Test("kill -9 of A in a burst of releases and admin writes: every acknowledged write is on B, B serves, the chain verifies")
    func killingOneReplicaLosesNothingAcknowledged() async throws {
        guard let pair = try await Pair.start() else { return }
        defer { pair.stop() }
        let onA = AttackClient(server: pair.a)
        let flow = try await onA.attestSimulated(measurement: Self.measurementBytes)
        let attestation = try #require(flow.answer.token, "\(flow.answer)")
        let acknowledged = Acknowledged()
        let started = Date()
        try await withThrowingTaskGroup(of: Void.self) { group in
            for writer in 0..<4 {
                group.addTask {
                    for index in 0..<10_000 {
                        let path = "burst/w\(writer)/r\(index)"
                        let body = #"{"value":"\#(Data(path.utf8).base64EncodedString())","required_tier":2}"#
                        guard let answer = try? await pair.a.request("POST", "/kbs/v1/resources/\(path)", body: body, admin: true) else { return }
                        if answer.status == 201 { acknowledged.add(path) }
                    }
                }
            }
            for _ in 0..<2 {
                group.addTask {
                    for _ in 0..<10_000 {
                        guard let answer = try? await onA.resource("demo/keys/app", bearer: attestation) else { return }
                        if answer.status == 200 { acknowledged.release() }
                    }
                }
            }
            group.addTask {
                // Kill once the burst is well under way, whatever the machine's speed.
                _ = try await ServerProcess.eventually(seconds: 60) { acknowledged.count >= 40 }
                pair.a.kill9()
            }
            try await group.waitForAll()
        }
        let written = acknowledged.paths
        #expect(written.count >= 10, "the burst acknowledged \(written.count) writes in \(Date().timeIntervalSince(started)) s")
        #expect(acknowledged.releases > 0)

        let listing = try await pair.b.request("GET", "/kbs/v1/resources", admin: true)
        try #require(listing.status == 200, "\(listing.body)")
        let missing = written.filter { !listing.body.contains("\"\($0)\"") }
        #expect(missing.isEmpty, "acknowledged by A, absent on B: \(missing.prefix(10))")
        let serving = try await AttackClient(server: pair.b).resource("demo/keys/app", bearer: attestation)
        #expect(serving.status == 200, "B keeps serving: \(serving)")
        let after = try await pair.b.request(
            "POST", "/kbs/v1/resources/burst/after/b", body: #"{"value":"YWZ0ZXI=","required_tier":2}"#, admin: true)
        #expect(after.status == 201, "\(after.body)")

        let verify = try ChildProcess.run(try #require(ServerProcess.binary), ["audit", "verify", "--store", pair.store])
        #expect(verify.status == 0, "\(verify.err)")
        let report = try ServerProcess.object(verify.out)
        #expect((report["records"] as? Int ?? 0) > written.count, "\(verify.out)")
        #expect(!verify.out.contains("password") && !verify.err.contains(pair.store))
    }

    @Test("a replica with another master passphrase, or no admin token, does not start; an unreachable database is named")
    func replicasWithoutTheSharedSecretsAreRefused() async throws {
        guard let pair = try await Pair.start(bundle: "Policies/authzen-todo") else { return }
        defer { pair.stop() }
        let binary = try #require(ServerProcess.binary)
        let policies = RepositoryPaths.path("Policies/authzen-todo")
        func serve(_ variables: [String]) throws -> (status: Int32, out: String, err: String) {
            let data = ServerProcess.temporaryDirectory("kbs-data-c")
            return try ChildProcess.run(
                "/usr/bin/env", variables + [binary, "serve", "--policies", policies, "--data-dir", data, "--port", "0"])
        }
        let store = "KBS_STORE_URL=" + pair.store
        let wrong = try serve([store, "KBS_ADMIN_TOKEN=" + ServerProcess.adminToken, "KBS_MASTER_PASSPHRASE=another passphrase"])
        #expect(wrong.status == 1, "\(wrong.err)")
        #expect(wrong.err.contains("error: master_key: the passphrase does not unseal the store's master.sealed"), "\(wrong.err)")
        let tokenless = try serve([store, "KBS_MASTER_PASSPHRASE=replicated passphrase for the test", "KBS_ADMIN_TOKEN="])
        #expect(tokenless.status == 1 && tokenless.err.contains("error: admin_token: replicas on one PostgreSQL store share"), "\(tokenless.err)")
        // Nothing listens on port 1: the start stops at once with the reason, naming neither user nor password.
        let unreachable = try serve([
            "KBS_STORE_URL=postgresql://kbs:hunter2@127.0.0.1:1/kbs?sslmode=disable", "KBS_ADMIN_TOKEN=" + ServerProcess.adminToken,
            "KBS_MASTER_PASSPHRASE=x",
        ])
        #expect(unreachable.status == 1, "\(unreachable.err)")
        #expect(unreachable.err.contains("error: store: cannot open the PostgreSQL store: cannot reach PostgreSQL at 127.0.0.1:1"))
        #expect(!unreachable.err.contains("hunter2"), "\(unreachable.err)")
    }

    @Test("the data-directory commands refuse to write a local store when KBS_STORE_URL names PostgreSQL")
    func localCommandsRefuseASharedStore() throws {
        let binary = try #require(ServerProcess.binary)
        let data = ServerProcess.temporaryDirectory("kbs-data")
        for command in [["secrets", "list"], ["keys", "list"], ["tokens", "list"], ["apikeys", "list"], ["refvals", "list"]] {
            let run = try ChildProcess.run(
                "/usr/bin/env", ["KBS_STORE_URL=postgresql://kbs:hunter2@db.example/kbs", binary] + command + ["--data-dir", data])
            #expect(run.status == 1, "\(command): \(run.err)")
            #expect(run.err.hasPrefix("error: store: KBS_STORE_URL names a PostgreSQL store"), "\(command): \(run.err)")
            #expect(!run.err.contains("hunter2"))
        }
        #expect(!FileManager.default.fileExists(atPath: data + "/kbs.sqlite"), "nothing was written locally")
    }

    static var measurementBytes: [UInt8] {
        stride(from: 0, to: measurement.count, by: 2).map { offset in
            let start = measurement.index(measurement.startIndex, offsetBy: offset)
            return UInt8(measurement[start..<measurement.index(start, offsetBy: 2)], radix: 16) ?? 0
        }
    }
}

/// What a burst got acknowledged, from many tasks at once.
final class Acknowledged: Sendable {
    private let state = Mutex<(paths: [String], releases: Int)>(([], 0))

    func add(_ path: String) { state.withLock { $0.paths.append(path) } }
    func release() { state.withLock { $0.releases += 1 } }
    var paths: [String] { state.withLock { $0.paths } }
    var count: Int { state.withLock { $0.paths.count + $0.releases } }
    var releases: Int { state.withLock { $0.releases } }
}

/// The PostgreSQL database Tools/test provides (`KBS_TEST_POSTGRES_URL`, from Tools/with-postgres).
enum PostgresForTests {
    /// Its URL; without one a test records a warning and is cancelled (skipped), or fails when
    /// `KBS_TEST_REQUIRE_POSTGRES` says it must run (Tools/test).
    static func url() throws -> String? {
        let environment = ProcessInfo.processInfo.environment
        if let url = environment["KBS_TEST_POSTGRES_URL"], !url.isEmpty { return url }
        let reason = "KBS_TEST_POSTGRES_URL is not set; Tools/test runs the PostgreSQL tests beside a throwaway cluster (Tools/with-postgres)"
        guard environment["KBS_TEST_REQUIRE_POSTGRES"] == nil else {
            Issue.record("\(reason), and KBS_TEST_REQUIRE_POSTGRES says they must run")
            return nil
        }
        Issue.record(Comment(rawValue: reason), severity: .warning)
        try Test.cancel(Comment(rawValue: reason))
    }
}
