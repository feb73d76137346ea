import Foundation
import KBSPolicyTesting
import Testing

/// Capability tokens through the admin API of a running server, and a revocation made by `kbs tokens revoke` beside
/// it refusing the token at the server's next verification, although its cache holds the token.
struct TokenAdminAPITests {
    /// Runs the `kbs` binary on the server's data directory.
    static func cli(_ arguments: [String]) throws -> (status: Int32, err: String) {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: try #require(ServerProcess.binary))
        process.arguments = arguments
        let err = Pipe()
        process.standardOutput = FileHandle.nullDevice
        process.standardError = err
        try process.run()
        let data = err.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        return (process.terminationStatus, String(decoding: data, as: UTF8.self))
    }

    @Test func issueVerifyListAndRevokeFromTheCommandLine() async throws {
        let server = try ServerProcess(policies: RepositoryPaths.path("Policies/authzen-todo"))
        defer {
            server.stop()
            try? FileManager.default.removeItem(atPath: server.dataDirectory)
        }
        let unauthorized = try await server.request("POST", "/kbs/v1/tokens", body: #"{"agent":"a","capabilities":["read:x"]}"#)
        #expect(unauthorized.status == 401)

        let issued = try await server.request(
            "POST", "/kbs/v1/tokens",
            body: #"{"agent":"agent-9","capabilities":["read:secrets/app/*"],"ttl_seconds":600}"#, admin: true)
        #expect(issued.status == 201, "\(issued.body)")
        #expect(issued.headers["cache-control"] == "no-store")
        let object = try ServerProcess.object(issued.body)
        let token = try #require(object["token"] as? String)
        let id = try #require(object["id"] as? String)

        let verified = try await server.request(
            "POST", "/kbs/v1/tokens/verify",
            body: "{\"token\":\"\(token)\",\"capability\":\"read:secrets/app/db\"}", admin: true)
        #expect(verified.status == 200, "\(verified.body)")
        #expect(try ServerProcess.object(verified.body)["subject"] as? String == "agent-9")
        let denied = try await server.request(
            "POST", "/kbs/v1/tokens/verify",
            body: "{\"token\":\"\(token)\",\"capability\":\"write:secrets/app/db\"}", admin: true)
        #expect(denied.status == 403, "\(denied.body)")
        #expect(try ServerProcess.errorCode(denied.body) == "capability_denied")
        let malformed = try await server.request("POST", "/kbs/v1/tokens/verify", body: #"{"token":"kbsc1.xyz"}"#, admin: true)
        #expect(malformed.status == 401, "\(malformed.body)")
        #expect(try ServerProcess.errorCode(malformed.body) == "invalid_token")
        for body in [
            #"{"agent":"a","capabilities":["bad"]}"#, #"{"agent":"a","capabilities":["read:x"],"ttl_seconds":999999}"#,
            #"{"agent":"a","capabilities":["read:x"],"scope":"all"}"#, "[]",
        ] {
            let refused = try await server.request("POST", "/kbs/v1/tokens", body: body, admin: true)
            #expect(refused.status == 400, "\(body): \(refused.body)")
        }

        let list = try await server.request("GET", "/kbs/v1/tokens", admin: true)
        #expect(list.status == 200 && list.body.contains(id) && !list.body.contains(token), "\(list.body)")

        // Revoked by another process on the same data directory: the next verification refuses it.
        let revoke = try Self.cli(["tokens", "revoke", id, "--data-dir", server.dataDirectory])
        #expect(revoke.status == 0, "\(revoke.err)")
        let revoked = try await server.request("POST", "/kbs/v1/tokens/verify", body: "{\"token\":\"\(token)\"}", admin: true)
        #expect(revoked.status == 401, "\(revoked.body)")
        #expect(try ServerProcess.errorCode(revoked.body) == "token_revoked")

        #expect(try await server.request("DELETE", "/kbs/v1/tokens/\(id)", admin: true).status == 204)
        #expect(try await server.request("DELETE", "/kbs/v1/tokens/\(UUID().uuidString.lowercased())", admin: true).status == 404)
        // Nothing the server logged holds the token.
        #expect(!server.stderr.contains(token))
    }
}
