import Foundation
import KBSBroker
import KBSPolicyTesting
import KBSStore
import Testing

/// HashiCorp Vault's API over real HTTP, driven by hvac as teams use it: `kbs serve` with `Policies/default` and
/// `Policies/kms`, an OIDC issuer made at test time for `auth/jwt/login`, and `Tools/clients/vault-client.py`. Each
/// scenario reports named checks; every one must pass.
@Suite(.enabled(if: TestVenv.available, "needs .venv-test (Tools/bootstrap makes it)"))
struct VaultEndToEndTests {
    static let client = RepositoryPaths.path("Tools/clients/vault-client.py")
    static let identityClient = RepositoryPaths.path("Tools/clients/identity-client.py")
    static let issuer = "https://issuer.test"

    /// A server with the Vault API, an OIDC issuer and a `ci` JWT role, and an administrator's Vault token.
    struct Fixture {
        let server: ServerProcess
        let directory: String
        let token: String

        init(arguments: [String] = [], environment: [String: String] = ["PRIVACY_TIER": "1"]) async throws {
            directory = NSTemporaryDirectory() + "kbs-vault-\(UUID().uuidString)"
            try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
            let made = try ChildProcess.run(
                TestVenv.python, [VaultEndToEndTests.identityClient, "oidc-issuer", "--out", directory + "/oidc", "--alg", "ES256"])
            #expect(made.status == 0, "\(made.err)")
            let configuration = """
                [[identity.oidc]]
                name = "ci"
                issuer = "\(VaultEndToEndTests.issuer)"
                audiences = ["vault"]
                jwks_file = "\(directory)/oidc/jwks.json"
                algorithms = ["ES256"]
                token_types = ["id"]

                [[vault.jwt_role]]
                name = "ci"
                policies = ["secret/ci/**"]
                ttl = "20m"
                """
            try configuration.write(toFile: directory + "/kbs.toml", atomically: true, encoding: .utf8)
            server = try ServerProcess(
                policies: RepositoryPaths.path("Policies/default"),
                arguments: ["--policies", RepositoryPaths.path("Policies/kms"), "--config", directory + "/kbs.toml"] + arguments,
                environment: environment)
            let created = try await server.request("POST", "/kbs/v1/vault-tokens", body: #"{"ttl":"1h"}"#, admin: true)
            #expect(created.status == 200, "\(created.body)")
            let auth = try #require(try ServerProcess.object(created.body)["auth"] as? [String: Any])
            token = try #require(auth["client_token"] as? String)
        }

        /// A JWT of the test issuer for `alice` (`wrongKey`: under the issuer's kid, signed by another key).
        func jwt(wrongKey: Bool = false) throws -> String {
            let run = try ChildProcess.run(
                TestVenv.python,
                [
                    VaultEndToEndTests.identityClient, "oidc-token", "--key", directory + "/oidc/private.json", "--iss", VaultEndToEndTests.issuer,
                    "--aud", "vault", "--sub", "alice",
                ] + (wrongKey ? ["--wrong-key"] : []))
            return try #require(try ServerProcess.object(run.out)["token"] as? String, "\(run.err)")
        }

        /// Runs a scenario of the client; its checks, each asserted to have passed.
        @discardableResult
        func run(_ scenario: String, _ extra: [String] = [], sourceLocation: SourceLocation = #_sourceLocation) throws -> [String] {
            let arguments =
                [
                    VaultEndToEndTests.client, scenario, "--url", "http://127.0.0.1:\(server.port)", "--token", token, "--admin-token",
                    ServerProcess.adminToken,
                ] + extra
            return try ClientScenario.run(arguments, sourceLocation: sourceLocation)
        }

        func stop() {
            server.stop()
            try? FileManager.default.removeItem(atPath: directory)
        }
    }

    @Test("hvac: token auth, JWT login, KV v2 and Transit end to end; denials in the decision log; audited without secrets")
    func hvac() async throws {
        let fixture = try await Fixture()
        defer { fixture.stop() }
        let checks = try fixture.run("hvac", ["--jwt", try fixture.jwt(), "--bad-jwt", try fixture.jwt(wrongKey: true)])
        #expect(checks.count >= 20, "\(checks)")

        // Operators read why a denial denied in the decision log; clients only learn that it did.
        let log = try String(contentsOfFile: fixture.server.dataDirectory + "/decisions.log", encoding: .utf8)
        let denial = try #require(
            log.split(separator: "\n").first {
                $0.contains(#""endpoint":"kms""#) && $0.contains(#""decision":false"#) && $0.contains("vault:kv:read")
            })
        #expect(denial.contains("vault_paths") && denial.contains("oidc:"), "\(denial)")

        // Audited, without plaintexts, KV data or tokens; every request counted.
        let store = try Store(directory: fixture.server.dataDirectory, readOnly: true)
        let records = try store.auditRecords(limit: 100_000)
        let actions = Set(records.map(\.action))
        for action in [
            "vault:token:create", "vault:kv:write", "vault:kv:read", "vault:kv:destroy", "vault:transit:encrypt", "vault:transit:decrypt",
            "vault:transit:rewrap", "vault:transit:datakey", "vault:transit:rotate", "vault:transit:delete",
        ] {
            #expect(actions.contains(action), "no audit record of \(action)")
        }
        #expect(records.contains { $0.action == "vault:kv:read" && $0.outcome.rawValue == "deny" }, "the denial is audited")
        for record in records {
            #expect(!record.detailsJSON.contains(fixture.token) && !record.detailsJSON.contains("order 1"))
        }
        for file in ["kbs.sqlite", "kbs.sqlite-wal", "decisions.log"] {
            let bytes = FileManager.default.contents(atPath: fixture.server.dataDirectory + "/" + file) ?? Data()
            for secret in ["ci-secret", "password\":\"four", fixture.token] {
                #expect(bytes.range(of: Data(secret.utf8)) == nil, "\(secret) reached \(file)")
            }
        }
        #expect(!fixture.server.stderr.contains(fixture.token))
        let metrics = try await fixture.server.request("GET", "/metrics")
        #expect(metrics.body.contains(#"kbs_vault_requests_total{operation="transit:encrypt",result="ok"}"#), "\(metrics.body.prefix(200))")
        #expect(metrics.body.contains(#"result="403""#))
    }

    @Test("bad input (malformed JSON, wrong types, bad base64, oversized bodies, unknown paths and tokens) gets Vault's errors with 4xx")
    func badInput() async throws {
        let fixture = try await Fixture()
        defer { fixture.stop() }
        #expect(try fixture.run("bad-input").count >= 25)
        #expect(fixture.server.process.isRunning)
        #expect(try await fixture.server.request("GET", "/healthz").status == 200)
    }

    @Test("a tier-3 key and secret refuse unattested tokens and an API key, and serve a token from auth/kbs/login with SNP + H100")
    func tier() async throws {
        // The default PRIVACY_TIER (2) and simulated TEEs: SNP alone reaches tier 2, SNP with an H100 tier 3.
        let fixture = try await Fixture(arguments: ["--tee-mode", "simulator"], environment: [:])
        defer { fixture.stop() }
        let measurement = String(repeating: "5a", count: 48)
        let added = try await fixture.server.request(
            "POST", "/kbs/v1/reference-values", body: #"{"kind":"snp","name":"measurement","values":["\#(measurement)"]}"#, admin: true)
        #expect(added.status == 201, "\(added.body)")
        let attest = try ChildProcess.run(
            TestVenv.python,
            [
                RepositoryPaths.path("Tools/clients/rcar-client.py"), "--url", "http://127.0.0.1:\(fixture.server.port)", "--kbs",
                try #require(ServerProcess.binary), "--ca", fixture.server.dataDirectory + "/simulator-ca", "--measurement", measurement, "--gpu",
            ])
        let token = try #require(try ServerProcess.object(attest.out)["token"] as? String, "\(attest.out) \(attest.err)")
        let key = try await KMSEndToEndTests.Fixture.apiKey(fixture.server, "vault tier")
        try fixture.run(
            "tier", ["--attestation-token", token, "--jwt", try fixture.jwt(), "--access-key", key.id, "--secret", key.secret])
    }
}
