import Foundation
import KBSBroker
import KBSKeys
import KBSPolicyTesting
import KBSStore
import Testing

/// Key release end to end over real HTTP: `kbs serve` under `TEE_MODE=simulator`, an independent Python client
/// (`Tools/clients/rcar-client.py`) that runs RCAR with simulator SNP evidence and decrypts the JWE with joserfc.
@Suite(.serialized, .enabled(if: TestVenv.available, "needs .venv-test (Tools/bootstrap makes it)"))
struct BrokerEndToEndTests {
    static let python = TestVenv.python
    static let client = RepositoryPaths.path("Tools/clients/rcar-client.py")

    static let measurement = String(repeating: "5a", count: 48)
    static let otherMeasurement = String(repeating: "6b", count: 48)

    /// A server with reference values and three resources, and the secrets put there.
    struct Fixture {
        let server: ServerProcess
        let secret = "e2e-secret-\(UUID().uuidString)"
        let gpuSecret = "e2e-gpu-secret-\(UUID().uuidString)"

        init() async throws {
            server = try ServerProcess(policies: RepositoryPaths.path("Policies/default"), arguments: ["--tee-mode", "simulator"])
            let added = try await server.request(
                "POST", "/kbs/v1/reference-values",
                body: #"{"kind":"snp","name":"measurement","values":["\#(BrokerEndToEndTests.measurement)"]}"#, admin: true)
            #expect(added.status == 201, "\(added.body)")
            try await put("demo/keys/app", secret, tier: 2)
            try await put("demo/keys/gpu", gpuSecret, tier: 3)
        }

        func put(_ path: String, _ value: String, tier: Int) async throws {
            let body = #"{"value":"\#(Data(value.utf8).base64EncodedString())","required_tier":\#(tier),"labels":{"team":"e2e"}}"#
            let response = try await server.request("POST", "/kbs/v1/resources/\(path)", body: body, admin: true)
            #expect(response.status == 201, "\(response.body)")
            #expect(!response.body.contains(Data(value.utf8).base64EncodedString()), "the admin response must not echo the value")
        }

        /// Runs the client; its JSON report.
        func run(_ arguments: [String]) throws -> [String: Any] {
            let process = Process()
            process.executableURL = URL(fileURLWithPath: BrokerEndToEndTests.python)
            process.arguments =
                [
                    BrokerEndToEndTests.client, "--url", "http://127.0.0.1:\(server.port)",
                    "--kbs", try #require(ServerProcess.binary), "--ca", server.dataDirectory + "/simulator-ca",
                ] + arguments
            let output = Pipe()
            let errors = Pipe()
            process.standardOutput = output
            process.standardError = errors
            try process.run()
            let data = output.fileHandleForReading.readDataToEndOfFile()
            let problems = String(decoding: errors.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
            process.waitUntilExit()
            #expect(process.terminationStatus == 0, "client failed: \(problems)")
            return try ServerProcess.object(String(decoding: data, as: UTF8.self))
        }

        static func resource(_ report: [String: Any], _ path: String) -> [String: Any] {
            (report["resources"] as? [String: Any])?[path] as? [String: Any] ?? [:]
        }
    }

    @Test("attested SNP evidence with an allowed measurement gets the secret, decrypted by joserfc; P-384, P-521 and RSA keys too")
    func release() async throws {
        let fixture = try await Fixture()
        defer { fixture.server.stop() }
        for curve in ["P-256", "P-384", "P-521", "RSA"] {
            let report = try fixture.run(["--measurement", Self.measurement, "--path", "demo/keys/app", "--curve", curve])
            #expect(report["auth"] as? Int == 200)
            #expect(report["attest"] as? Int == 200, "\(report["attest_body"] ?? "")")
            let result = Fixture.resource(report, "demo/keys/app")
            #expect(result["status"] as? Int == 200, "\(result)")
            #expect(result["alg"] as? String == (curve == "RSA" ? "RSA-OAEP-256" : "ECDH-ES+A256KW"))
            #expect(result["enc"] as? String == "A256GCM")
            let plaintext = (result["plaintext"] as? String).flatMap { Data(base64Encoded: $0) }
            #expect(plaintext == Data(fixture.secret.utf8), "joserfc must decrypt the JWE to the bytes put through the admin API")
        }
        // The attestation token works as a bearer credential in place of the session cookie.
        let bearer = try fixture.run(["--measurement", Self.measurement, "--path", "demo/keys/app", "--bearer"])
        let plaintext = (Fixture.resource(bearer, "demo/keys/app")["plaintext"] as? String).flatMap { Data(base64Encoded: $0) }
        #expect(plaintext == Data(fixture.secret.utf8))
        // A resource that does not exist answers as a denied one (403), so attested callers learn nothing of which exist.
        let missing = try fixture.run(["--measurement", Self.measurement, "--path", "demo/keys/none"])
        #expect(Fixture.resource(missing, "demo/keys/none")["status"] as? Int == 403)
    }

    @Test("a measurement not in the reference values gets 403; a tier below the key's gets 403; a GPU raises the tier to 3")
    func refusals() async throws {
        let fixture = try await Fixture()
        defer { fixture.server.stop() }
        let wrong = try fixture.run(["--measurement", Self.otherMeasurement, "--path", "demo/keys/app"])
        #expect(wrong["attest"] as? Int == 200, "the evidence itself verifies; the policy refuses the measurement")
        let refused = Fixture.resource(wrong, "demo/keys/app")
        #expect(refused["status"] as? Int == 403)
        #expect(try ServerProcess.errorCode(refused["body"] as? String ?? "") == "policy_deny")
        #expect(!(refused["body"] as? String ?? "").contains("ciphertext"))

        // SNP alone reaches tier 2; the GPU key needs tier 3.
        let low = try fixture.run(["--measurement", Self.measurement, "--path", "demo/keys/gpu", "--path", "demo/keys/app"])
        #expect(Fixture.resource(low, "demo/keys/gpu")["status"] as? Int == 403)
        #expect(Fixture.resource(low, "demo/keys/app")["status"] as? Int == 200, "the same session still gets the tier-2 key")
        // With a simulated H100 as additional evidence (bound to JCS({"tee-pubkey","nonce"})) the tier rules give 3.
        let gpu = try fixture.run(["--measurement", Self.measurement, "--path", "demo/keys/gpu", "--gpu"])
        #expect(gpu["attest"] as? Int == 200, "\(gpu["attest_body"] ?? "")")
        let gpuPlaintext = (Fixture.resource(gpu, "demo/keys/gpu")["plaintext"] as? String).flatMap { Data(base64Encoded: $0) }
        #expect(gpuPlaintext == Data(fixture.gpuSecret.utf8))

        // Adding the measurement at run time lets it through.
        let added = try await fixture.server.request(
            "POST", "/kbs/v1/reference-values",
            body: #"{"kind":"snp","name":"measurement","values":["\#(Self.otherMeasurement)"]}"#, admin: true)
        #expect(added.status == 201)
        let now = try fixture.run(["--measurement", Self.otherMeasurement, "--path", "demo/keys/app"])
        #expect(Fixture.resource(now, "demo/keys/app")["status"] as? Int == 200)
        // Removing it stops the next release, though the server holds the reference values in memory.
        let removed = try await fixture.server.request(
            "DELETE", "/kbs/v1/reference-values",
            body: #"{"kind":"snp","name":"measurement","values":["\#(Self.otherMeasurement)"]}"#, admin: true)
        #expect(removed.status == 200)
        #expect(try ServerProcess.object(removed.body)["removed"] as? Int == 1)
        let gone = try fixture.run(["--measurement", Self.otherMeasurement, "--path", "demo/keys/app"])
        #expect(Fixture.resource(gone, "demo/keys/app")["status"] as? Int == 403)
        let malformed = try await fixture.server.request("DELETE", "/kbs/v1/reference-values", body: #"{"kind":"snp"}"#, admin: true)
        #expect(malformed.status == 400)
    }

    @Test("a capability token names the workload: a role-labelled key goes to its role holder, within the token's grant, until revoked")
    func identity() async throws {
        let fixture = try await Fixture()
        defer { fixture.server.stop() }
        let roleSecret = "e2e-role-secret-\(UUID().uuidString)"
        let put = try await fixture.server.request(
            "POST", "/kbs/v1/resources/demo/db/password",
            body: #"{"value":"\#(Data(roleSecret.utf8).base64EncodedString())","required_tier":2,"labels":{"role":"db-reader"}}"#, admin: true)
        #expect(put.status == 201)
        let entity = try await fixture.server.request(
            "POST", "/kbs/v1/entities",
            body: #"{"type":"Workload","id":"agent:agent-7","attributes":{"team":"e2e"},"roles":[{"role":"db-reader","scope":"demo/db/**"}]}"#,
            admin: true)
        #expect(entity.status == 201, "\(entity.body)")
        func issue(_ capabilities: String) async throws -> (token: String, id: String) {
            let issued = try await fixture.server.request(
                "POST", "/kbs/v1/tokens",
                body: #"{"agent":"agent-7","capabilities":\#(capabilities),"ttl_seconds":600}"#, admin: true)
            #expect(issued.status == 201, "\(issued.body)")
            let object = try ServerProcess.object(issued.body)
            return (try #require(object["token"] as? String), try #require(object["id"] as? String))
        }
        let granted = try await issue(#"["release:demo/*"]"#)

        // Without an identity the role-labelled key is denied; with the agent's token it is released.
        let anonymous = try fixture.run(["--measurement", Self.measurement, "--path", "demo/db/password"])
        #expect(Fixture.resource(anonymous, "demo/db/password")["status"] as? Int == 403)
        let named = try fixture.run(["--measurement", Self.measurement, "--path", "demo/db/password", "--authorization", granted.token])
        #expect(named["attest"] as? Int == 200, "\(named["attest_body"] ?? "")")
        let plaintext = (Fixture.resource(named, "demo/db/password")["plaintext"] as? String).flatMap { Data(base64Encoded: $0) }
        #expect(plaintext == Data(roleSecret.utf8))
        // The attestation token carries the identity, for bearer use, but never the capability token itself.
        let attestation = try #require(named["token"] as? String)
        let payload = try #require(Self.base64URL(String(attestation.split(separator: ".")[1])))
        #expect(String(decoding: payload, as: UTF8.self).contains("agent-7"))
        #expect(!String(decoding: payload, as: UTF8.self).contains(granted.token))

        // A token that does not grant the path: 403 capability_denied, even for a key without a role label.
        let narrow = try await issue(#"["release:other/*"]"#)
        let denied = try fixture.run(["--measurement", Self.measurement, "--path", "demo/keys/app", "--authorization", narrow.token])
        let refusal = Fixture.resource(denied, "demo/keys/app")
        #expect(refusal["status"] as? Int == 403)
        #expect(try ServerProcess.errorCode(refusal["body"] as? String ?? "") == "capability_denied")

        // Revoking the token stops releases at once, on the session and through the attestation token.
        let revoked = try await fixture.server.request("DELETE", "/kbs/v1/tokens/\(granted.id)", admin: true)
        #expect(revoked.status == 204)
        let after = try await fixture.server.request("GET", "/kbs/v0/resource/demo/db/password", headers: ["Authorization": "Bearer \(attestation)"])
        #expect(after.status == 401)
        #expect(try ServerProcess.errorCode(after.body) == "token_revoked")
        let again = try fixture.run(["--measurement", Self.measurement, "--path", "demo/db/password", "--authorization", granted.token])
        #expect(again["attest"] as? Int == 401, "a revoked token no longer names anyone")
    }

    @Test("a used nonce is refused: again on its session, and on a fresh session")
    func replay() async throws {
        let fixture = try await Fixture()
        defer { fixture.server.stop() }
        let report = try fixture.run(["--measurement", Self.measurement, "--replay"])
        #expect(report["attest"] as? Int == 200)
        #expect(report["replay_same_session"] as? Int == 401)
        #expect(try ServerProcess.errorCode(report["replay_same_session_body"] as? String ?? "") == "nonce_used")
        #expect(report["replay_new_session"] as? Int == 401)
        #expect(try ServerProcess.errorCode(report["replay_new_session_body"] as? String ?? "") == "nonce_mismatch")
        // Without a session or token, resources are 401.
        let anonymous = try await fixture.server.request("GET", "/kbs/v0/resource/demo/keys/app")
        #expect(anonymous.status == 401)
    }

    @Test("when the audit log cannot be written, nothing is released; no secret or token reaches a log or the audit")
    func auditAndSecrets() async throws {
        let fixture = try await Fixture()
        defer { fixture.server.stop() }
        // An agent's capability token names the workload on attest; it must not be written anywhere either.
        let issued = try await fixture.server.request(
            "POST", "/kbs/v1/tokens",
            body: #"{"agent":"agent-grep","capabilities":["release:demo/*"],"ttl_seconds":600}"#, admin: true)
        let capability = try #require(try ServerProcess.object(issued.body)["token"] as? String)
        let report = try fixture.run(["--measurement", Self.measurement, "--path", "demo/keys/app", "--authorization", capability])
        #expect(Fixture.resource(report, "demo/keys/app")["status"] as? Int == 200)
        let token = try #require(report["token"] as? String)
        let database = fixture.server.dataDirectory + "/kbs.sqlite"
        let encodedSecret = Data(fixture.secret.utf8).base64EncodedString()

        // Every audit append fails, then only the permit's (written after the JWE is built, before it is sent).
        for condition in ["1", "NEW.outcome = 'permit'"] {
            try Self.sql(
                database,
                "CREATE TRIGGER block_audit BEFORE INSERT ON audit WHEN \(condition) BEGIN SELECT RAISE(ABORT, 'audit disabled by the test'); END;")
            let blocked = try await fixture.server.request("GET", "/kbs/v0/resource/demo/keys/app", headers: ["Authorization": "Bearer \(token)"])
            #expect(blocked.status == 503, "\(blocked.body)")
            #expect(try ServerProcess.errorCode(blocked.body) == "audit_unavailable")
            #expect(!blocked.body.contains("ciphertext") && !blocked.body.contains("encrypted_key"))
            try Self.sql(database, "DROP TRIGGER block_audit;")
        }
        let restored = try await fixture.server.request("GET", "/kbs/v0/resource/demo/keys/app", headers: ["Authorization": "Bearer \(token)"])
        #expect(restored.status == 200)
        #expect(restored.body.contains("encrypted_key"))

        // The audit chain holds the releases and still verifies.
        let audit = Process()
        audit.executableURL = URL(fileURLWithPath: try #require(ServerProcess.binary))
        audit.arguments = ["audit", "verify", "--data-dir", fixture.server.dataDirectory]
        audit.standardOutput = FileHandle.nullDevice
        audit.standardError = FileHandle.nullDevice
        try audit.run()
        audit.waitUntilExit()
        #expect(audit.terminationStatus == 0)

        fixture.server.stop()
        let passphrase = try String(contentsOfFile: fixture.server.dataDirectory + "/master-passphrase", encoding: .utf8)
            .trimmingCharacters(in: .whitespacesAndNewlines)
        // The data key that seals the resources, read through the hierarchy (as only a holder of the passphrase can).
        let keys = try BrokerKeys.open(directory: fixture.server.dataDirectory, passphrase: Array(passphrase.utf8), create: false, actor: "test")
        let dataKey = try await keys.hierarchy.useKey(ResourceVault.resourceKeyID) { Data($0) }
        let capabilityJSON = try #require(Self.base64URL(String(capability.dropFirst("kbsc1.".count))))
        let capabilitySignature = try #require(try ServerProcess.object(String(decoding: capabilityJSON, as: UTF8.self))["sig"] as? String)
        let needles = [
            fixture.secret, encodedSecret, fixture.gpuSecret, token, String(token.split(separator: ".")[2]), ServerProcess.adminToken,
            passphrase, capability, capabilitySignature, dataKey.base64EncodedString(), dataKey.map { String(format: "%02x", $0) }.joined(),
        ]
        var files = [fixture.server.stderrPath]
        for name in try FileManager.default.contentsOfDirectory(atPath: fixture.server.dataDirectory)
        where !["master-passphrase", "simulator-ca"].contains(name) && !name.hasPrefix("stderr-") {
            files.append(fixture.server.dataDirectory + "/" + name)
        }
        #expect(files.contains { $0.hasSuffix("kbs.sqlite") } && files.contains { $0.hasSuffix("decisions.log") })
        for file in files {
            let bytes = try Data(contentsOf: URL(fileURLWithPath: file))
            for needle in needles {
                #expect(bytes.range(of: Data(needle.utf8)) == nil, "\(file) holds a secret or token (\(needle.prefix(12))…)")
            }
            #expect(bytes.range(of: dataKey) == nil, "\(file) holds the raw data key")
        }
    }

    static func base64URL(_ text: String) -> Data? {
        var standard = text.replacingOccurrences(of: "-", with: "+").replacingOccurrences(of: "_", with: "/")
        while standard.count % 4 != 0 { standard += "=" }
        return Data(base64Encoded: standard)
    }

    /// Runs SQL on the server's database from another connection (Python's sqlite3), as an operator's mistake would.
    static func sql(_ database: String, _ statement: String) throws {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: python)
        process.arguments = [
            "-c", "import sqlite3, sys; c = sqlite3.connect(sys.argv[1], timeout=30); c.executescript(sys.argv[2]); c.commit()", database, statement,
        ]
        try process.run()
        process.waitUntilExit()
        #expect(process.terminationStatus == 0)
    }
}

/// The Python venv with the independent clients; required under CI=true (a missing venv then fails the tests).
enum TestVenv {
    static let python = RepositoryPaths.path(".venv-test/bin/python")
    static var available: Bool {
        FileManager.default.isExecutableFile(atPath: python) || ProcessInfo.processInfo.environment["CI"] == "true"
    }
}
