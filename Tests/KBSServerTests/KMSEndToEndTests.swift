import Foundation
import KBSBroker
import KBSPolicyTesting
import KBSStore
import Testing

/// The AWS KMS API over real HTTP, driven by unmodified AWS clients: `kbs serve` with `Policies/default` and
/// `Policies/kms`, two API keys as AWS access keys, and `Tools/clients/kms-client.py` running boto3 (real SigV4) and the
/// AWS CLI against it. Each scenario reports named checks; every one must pass.
@Suite(.enabled(if: TestVenv.available, "needs .venv-test (Tools/bootstrap makes it)"))
struct KMSEndToEndTests {
    static let client = RepositoryPaths.path("Tools/clients/kms-client.py")

    /// A server serving the KMS API, and two API keys: `(id, secret)` each.
    struct Fixture {
        let server: ServerProcess
        let main: (id: String, secret: String)
        let other: (id: String, secret: String)

        init(arguments: [String] = [], environment: [String: String] = ["PRIVACY_TIER": "1"]) async throws {
            server = try ServerProcess(
                policies: RepositoryPaths.path("Policies/default"), arguments: ["--policies", RepositoryPaths.path("Policies/kms")] + arguments,
                environment: environment)
            main = try await Self.apiKey(server, "kms main")
            other = try await Self.apiKey(server, "kms other")
        }

        static func apiKey(_ server: ServerProcess, _ name: String) async throws -> (id: String, secret: String) {
            let created = try await server.request("POST", "/kbs/v1/api-keys", body: #"{"name":"\#(name)"}"#, admin: true)
            #expect(created.status == 201, "\(created.body)")
            let object = try ServerProcess.object(created.body)
            return (try #require(object["id"] as? String), try #require(object["secret"] as? String))
        }

        /// Runs a scenario of the client; its checks, each asserted to have passed.
        @discardableResult
        func run(_ scenario: String, _ extra: [String] = [], sourceLocation: SourceLocation = #_sourceLocation) throws -> [String] {
            let arguments =
                [
                    KMSEndToEndTests.client, scenario, "--endpoint", "http://127.0.0.1:\(server.port)", "--access-key", main.id, "--secret",
                    main.secret, "--other-access-key", other.id, "--other-secret", other.secret, "--admin-token", ServerProcess.adminToken,
                ] + extra
            return try ClientScenario.run(arguments, sourceLocation: sourceLocation)
        }
    }

    @Test("boto3 drives every operation with real SigV4; denials, key states and bad ciphertexts get AWS's errors")
    func boto3() async throws {
        let fixture = try await Fixture()
        defer { fixture.server.stop() }
        let checks = try fixture.run("boto3")
        #expect(checks.count >= 17, "\(checks)")

        // Operators read why a denial denied in the decision log; clients only learn that it did.
        let log = try String(contentsOfFile: fixture.server.dataDirectory + "/decisions.log", encoding: .utf8)
        let denial = try #require(
            log.split(separator: "\n").first { $0.contains(#""endpoint":"kms""#) && $0.contains(#""decision":false"#) && $0.contains("kms:Encrypt") })
        #expect(denial.contains(#""reason":"`key_use` requires"#) && denial.contains("apikey:\(fixture.other.id)"), "\(denial)")

        // Audited, without plaintext, data keys or secrets; every KMS operation counted.
        let store = try Store(directory: fixture.server.dataDirectory, readOnly: true)
        let records = try store.auditRecords(limit: 100_000)
        let actions = Set(records.map(\.action))
        for action in ["kms:CreateKey", "kms:Encrypt", "kms:Decrypt", "kms:GenerateDataKey", "kms:ReEncrypt", "kms:Sign", "kms:ScheduleKeyDeletion"] {
            #expect(actions.contains(action), "no audit record of \(action)")
        }
        #expect(records.contains { $0.action == "kms:Encrypt" && $0.outcome.rawValue == "deny" }, "the denial is audited")
        for record in records {
            #expect(!record.detailsJSON.contains("the secret") && !record.detailsJSON.contains(fixture.main.secret))
        }
        for file in ["kbs.sqlite", "kbs.sqlite-wal", "decisions.log"] {
            let bytes = FileManager.default.contents(atPath: fixture.server.dataDirectory + "/" + file) ?? Data()
            #expect(bytes.range(of: Data("the secret".utf8)) == nil, "a plaintext reached \(file)")
        }
        #expect(!fixture.server.stderr.contains(fixture.main.secret))
        let metrics = try await fixture.server.request("GET", "/metrics")
        #expect(metrics.body.contains(#"kbs_kms_requests_total{operation="Encrypt",result="ok"}"#), "\(metrics.body.prefix(200))")
        #expect(metrics.body.contains(#"result="AccessDeniedException""#))

        // Revoked, the other key signs nothing more.
        #expect(try await fixture.server.request("DELETE", "/kbs/v1/api-keys/\(fixture.other.id)", admin: true).status == 204)
        try fixture.run("revoked", ["--access-key", fixture.other.id, "--secret", fixture.other.secret])
    }

    @Test("bad input (malformed JSON, wrong types, bad base64, oversized bodies, unknown targets, broken signatures) gets 4xx in AWS's shape")
    func badInput() async throws {
        let fixture = try await Fixture()
        defer { fixture.server.stop() }
        #expect(try fixture.run("bad-input").count >= 20)
        #expect(fixture.server.process.isRunning)
        #expect(try await fixture.server.request("GET", "/healthz").status == 200)
    }

    @Test("the AWS CLI encrypts and decrypts with --endpoint-url")
    func awsCLI() async throws {
        let fixture = try await Fixture()
        defer { fixture.server.stop() }
        try fixture.run("cli")
    }

    @Test("a tier-2 key is used only with an attestation token (tier 2) as the session token, not with the API key alone")
    func tier() async throws {
        // The default PRIVACY_TIER (2) and simulated TEEs, whose attestation tokens reach tier 2.
        let fixture = try await Fixture(arguments: ["--tee-mode", "simulator"], environment: [:])
        defer { fixture.server.stop() }
        let measurement = String(repeating: "5a", count: 48)
        let added = try await fixture.server.request(
            "POST", "/kbs/v1/reference-values", body: #"{"kind":"snp","name":"measurement","values":["\#(measurement)"]}"#, admin: true)
        #expect(added.status == 201, "\(added.body)")
        // The workload attests presenting its API key, so the token names the key's subject; one attested without a
        // credential names no one and lends its tier to no one.
        func attest(_ credential: [String]) throws -> String {
            let run = try ChildProcess.run(
                TestVenv.python,
                [
                    RepositoryPaths.path("Tools/clients/rcar-client.py"), "--url", "http://127.0.0.1:\(fixture.server.port)", "--kbs",
                    try #require(ServerProcess.binary), "--ca", fixture.server.dataDirectory + "/simulator-ca", "--measurement", measurement,
                ] + credential)
            return try #require(try ServerProcess.object(run.out)["token"] as? String, "\(run.out) \(run.err)")
        }
        let bound = try attest(["--authorization", fixture.main.secret])
        let unbound = try attest([])
        try fixture.run("tier", ["--session-token", bound, "--unbound-session-token", unbound])
    }
}
