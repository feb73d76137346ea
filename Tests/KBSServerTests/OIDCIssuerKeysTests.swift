import Foundation
import KBSPolicyTesting
import Testing

/// An OIDC issuer's keys at the server: a rotated JWK Set file is read again when a token names a new `kid`, and only
/// the issuer's configured algorithms are accepted.
@Suite(.serialized, .enabled(if: TestVenv.available, "needs .venv-test (Tools/bootstrap makes it)"))
struct OIDCIssuerKeysTests {
    static let issuer = "https://login.hanzo.example"

    static func token(_ directory: String, _ extra: [String] = []) throws -> String {
        try IdentityEndToEndTests.mint(
            ["oidc-token", "--key", directory + "/private.json", "--iss", issuer, "--aud", "kbs", "--sub", "alice"] + extra)["token"]
            as? String ?? ""
    }

    @Test("a rotated JWK Set is picked up by the next token with a new kid; an algorithm the issuer is not configured for is refused")
    func rotationAndAlgorithms() async throws {
        let directory = ServerProcess.temporaryDirectory("kbs-oidc")
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        _ = try IdentityEndToEndTests.mint(["oidc-issuer", "--out", directory + "/old", "--alg", "RS256"])
        _ = try IdentityEndToEndTests.mint(["oidc-issuer", "--out", directory + "/new", "--alg", "RS256"])
        _ = try IdentityEndToEndTests.mint(["oidc-issuer", "--out", directory + "/ec", "--alg", "ES256"])
        try FileManager.default.copyItem(atPath: directory + "/old/jwks.json", toPath: directory + "/jwks.json")
        let config = directory + "/kbs.toml"
        try """
        [[identity.oidc]]
        name = "login"
        issuer = "\(Self.issuer)"
        audiences = ["kbs"]
        jwks_file = "jwks.json"
        algorithms = ["RS256"]
        token_types = ["id"]
        """.write(toFile: config, atomically: true, encoding: .utf8)
        let server = try ServerProcess(policies: RepositoryPaths.path("Policies/default"), arguments: ["--config", config])
        defer { server.stop() }
        let body = #"{"value":"\#(Data("open".utf8).base64EncodedString())","required_tier":1}"#
        #expect(try await server.request("POST", "/kbs/v1/resources/demo/keys/open", body: body, admin: true).status == 201)
        let recipient = try IdentityEndToEndTests.mint(["recipient", "--out", directory + "/recipient.json"])["recipient"] ?? [:]
        let release = #"{"recipient":\#(String(decoding: try JSONSerialization.data(withJSONObject: recipient), as: UTF8.self))}"#
        func status(_ token: String) async throws -> (Int, String?) {
            let response = try await server.request(
                "POST", "/kbs/v1/release/demo/keys/open", body: release, headers: ["Authorization": "Bearer \(token)"])
            return (response.status, try? ServerProcess.errorCode(response.body))
        }

        #expect(try await status(try Self.token(directory + "/old")).0 == 200)
        // The issuer rotates: the file now holds the new key only. A token with the new kid makes the server read the
        // file again (at most once per 5 minutes for unknown kids), so the rotation needs no restart.
        try FileManager.default.removeItem(atPath: directory + "/jwks.json")
        try FileManager.default.copyItem(atPath: directory + "/new/jwks.json", toPath: directory + "/jwks.json")
        #expect(try await status(try Self.token(directory + "/new")).0 == 200)
        #expect(try await status(try Self.token(directory + "/old")).1 == "identity_unknown_key", "the old key is gone")
        #expect(try await status(try Self.token(directory + "/ec")).1 == "identity_algorithm", "ES256 is not configured for this issuer")
    }
}
