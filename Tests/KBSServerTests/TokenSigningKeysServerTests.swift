import Foundation
import KBSPolicyTesting
import Testing

/// Attestation-token signing keys live in the store (issue 17, "Token signing keys"): a token one server issued
/// verifies on another serving the same store, and after both were killed and one restarted; `GET
/// /.well-known/jwks.json` publishes the key the token names.
@Suite(.serialized) struct TokenSigningKeysServerTests {
    static let measurement = BrokerEndToEndTests.measurement

    /// Runs the RCAR client against `url`, fetching `path` from `resourceURL` with the attestation token as bearer.
    static func client(url: String, resourceURL: String, ca: String, path: String) throws -> [String: Any] {
        let run = try ChildProcess.run(
            TestVenv.python,
            [
                BrokerEndToEndTests.client, "--url", url, "--resource-url", resourceURL, "--kbs", try #require(ServerProcess.binary), "--ca", ca,
                "--measurement", measurement, "--path", path, "--bearer",
            ])
        #expect(run.status == 0, "rcar-client: \(run.err)")
        return try ServerProcess.object(run.out)
    }

    @Test func aTokenVerifiesOnAnotherServerAndAfterARestart() async throws {
        let data = ServerProcess.temporaryDirectory("kbs-token-keys")
        let policies = RepositoryPaths.path("Policies/default")
        let first = try ServerProcess(policies: policies, dataDirectory: data, arguments: ["--tee-mode", "simulator"])
        defer { first.stop() }
        let reference = #"{"kind":"snp","name":"measurement","values":["\#(Self.measurement)"]}"#
        #expect(try await first.request("POST", "/kbs/v1/reference-values", body: reference, admin: true).status == 201)
        let secret = "replica-\(UUID().uuidString)"
        let resource = #"{"value":"\#(Data(secret.utf8).base64EncodedString())","required_tier":2}"#
        #expect(try await first.request("POST", "/kbs/v1/resources/demo/keys/replica", body: resource, admin: true).status == 201)
        let second = try ServerProcess(policies: policies, dataDirectory: data, arguments: ["--tee-mode", "simulator"])
        defer { second.stop() }

        // Attested on the first, released by the second with the first's token.
        let report = try Self.client(
            url: "http://127.0.0.1:\(first.port)", resourceURL: "http://127.0.0.1:\(second.port)", ca: data + "/simulator-ca",
            path: "demo/keys/replica")
        #expect(report["attest"] as? Int == 200, "\(report)")
        let released = (report["resources"] as? [String: Any])?["demo/keys/replica"] as? [String: Any] ?? [:]
        #expect(released["status"] as? Int == 200, "\(released)")
        #expect((released["plaintext"] as? String).flatMap { Data(base64Encoded: $0) } == Data(secret.utf8))
        let token = try #require(report["token"] as? String)

        // Both published the same key, the one the token names.
        let header = try #require(
            try JSONSerialization.jsonObject(with: Data(base64URL: String(token.split(separator: ".")[0])) ?? Data()) as? [String: Any])
        let kid = try #require(header["kid"] as? String)
        for server in [first, second] {
            let jwks = try await server.request("GET", "/.well-known/jwks.json")
            #expect(jwks.status == 200)
            let keys = try ServerProcess.object(jwks.body)["keys"] as? [[String: Any]] ?? []
            #expect(keys.count == 1 && keys.first?["kid"] as? String == kid && keys.first?["d"] == nil, "\(jwks.body)")
        }

        // Both gone without a word; a new process on the same store still honours the token.
        first.kill9()
        second.kill9()
        let restarted = try ServerProcess(policies: policies, dataDirectory: data, arguments: ["--tee-mode", "simulator"])
        defer { restarted.stop() }
        let again = try await restarted.request("GET", "/kbs/v0/resource/demo/keys/replica", headers: ["Authorization": "Bearer \(token)"])
        #expect(again.status == 200 && again.body.contains("ciphertext"), "\(again.body)")

        // A token signed by a key the store does not hold is refused.
        let parts = token.split(separator: ".").map(String.init)
        let forged = parts[0] + "." + parts[1] + "." + String(parts[2].reversed())
        let refused = try await restarted.request("GET", "/kbs/v0/resource/demo/keys/replica", headers: ["Authorization": "Bearer \(forged)"])
        let code = try ServerProcess.errorCode(refused.body)
        #expect(refused.status == 401 && code == "invalid_token", "\(refused.body)")
    }
}

extension Data {
    /// Base64url without padding, as JOSE writes it.
    fileprivate init?(base64URL text: String) {
        var standard = text.replacingOccurrences(of: "-", with: "+").replacingOccurrences(of: "_", with: "/")
        while standard.count % 4 != 0 { standard += "=" }
        self.init(base64Encoded: standard)
    }
}
