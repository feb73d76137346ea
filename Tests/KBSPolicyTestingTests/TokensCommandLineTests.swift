import Foundation
import KBSPolicyTesting
import Testing

/// `kbs tokens …` through the built binary: issue, verify with and without a capability, attenuate without the data
/// directory, revoke, and the revoked token refused by the next verification.
struct TokensCommandLineTests {
    static func json(_ text: String) throws -> [String: Any] {
        try #require(try JSONSerialization.jsonObject(with: Data(text.utf8)) as? [String: Any])
    }

    @Test(.enabled(if: CommandLineTests.binary != nil)) func issueVerifyAttenuateRevoke() throws {
        let data = FileManager.default.temporaryDirectory.appendingPathComponent("kbs-tokens-\(UUID())").path
        defer { try? FileManager.default.removeItem(atPath: data) }

        let issue = try KeysCommandLineTests.run([
            "tokens", "issue", "--agent", "agent-1", "--cap", "read:secrets/demo/*", "--cap", "write:logs/agent-1",
            "--ttl", "1h", "--data-dir", data,
        ])
        #expect(issue.status == 0, "\(issue.err)")
        let issued = try Self.json(issue.out)
        let token = try #require(issued["token"] as? String)
        let id = try #require(issued["id"] as? String)
        let expires = try #require(issued["expires"] as? Int)
        #expect(abs(expires - Int(Date().timeIntervalSince1970) - 3600) < 120)

        let verify = try KeysCommandLineTests.run(["tokens", "verify", token, "--data-dir", data])
        #expect(verify.status == 0, "\(verify.err)")
        let verified = try Self.json(verify.out)
        #expect(verified["subject"] as? String == "agent-1" && verified["id"] as? String == id)
        #expect(verified["capabilities"] as? [String] == ["read:secrets/demo/*", "write:logs/agent-1"])

        let granted = try KeysCommandLineTests.run(["tokens", "verify", token, "--cap", "read:secrets/demo/db", "--data-dir", data])
        #expect(granted.status == 0, "\(granted.err)")
        let denied = try KeysCommandLineTests.run(["tokens", "verify", token, "--cap", "read:secrets/other", "--data-dir", data])
        #expect(denied.status == 1 && denied.err.hasPrefix("error: capability_denied: "), "\(denied.err)")

        // Attenuation needs neither the data directory nor the passphrase.
        let attenuate = try CommandLineTests.run(["tokens", "attenuate", token, "--cap", "read:secrets/demo/db", "--ttl", "10m"])
        #expect(attenuate.status == 0, "\(attenuate.err)")
        let narrowed = attenuate.out.trimmingCharacters(in: .whitespacesAndNewlines)
        let checked = try KeysCommandLineTests.run(["tokens", "verify", narrowed, "--data-dir", data])
        #expect(checked.status == 0, "\(checked.err)")
        let narrowedInfo = try Self.json(checked.out)
        #expect(narrowedInfo["capabilities"] as? [String] == ["read:secrets/demo/db"])
        #expect((narrowedInfo["expires"] as? Int ?? .max) < expires)
        let outside = try KeysCommandLineTests.run(["tokens", "verify", narrowed, "--cap", "write:logs/agent-1", "--data-dir", data])
        #expect(outside.status == 1 && outside.err.hasPrefix("error: capability_denied: "), "\(outside.err)")

        let list = try KeysCommandLineTests.run(["tokens", "list", "--data-dir", data])
        #expect(list.status == 0 && list.out.contains(id) && !list.out.contains(token), "\(list.err)")

        let revoke = try KeysCommandLineTests.run(["tokens", "revoke", id, "--data-dir", data])
        #expect(revoke.status == 0, "\(revoke.err)")
        for presented in [token, narrowed] {
            let refused = try KeysCommandLineTests.run(["tokens", "verify", presented, "--data-dir", data])
            #expect(refused.status == 1 && refused.err.hasPrefix("error: token_revoked: "), "\(refused.err)")
        }
        let unknown = try KeysCommandLineTests.run(["tokens", "revoke", UUID().uuidString.lowercased(), "--data-dir", data])
        #expect(unknown.status == 1 && unknown.err.hasPrefix("error: not_found: "), "\(unknown.err)")
        let garbage = try KeysCommandLineTests.run(["tokens", "verify", "kbsc1.garbage", "--data-dir", data])
        #expect(garbage.status == 1 && garbage.err.hasPrefix("error: invalid_token: "), "\(garbage.err)")
        let badTTL = try KeysCommandLineTests.run(["tokens", "issue", "--agent", "a", "--cap", "read:x", "--ttl", "2d", "--data-dir", data])
        #expect(badTTL.status == 1 && badTTL.err.hasPrefix("error: invalid_request: "), "\(badTTL.err)")

        let audit = try KeysCommandLineTests.run(["audit", "verify", "--data-dir", data])
        #expect(audit.status == 0, "\(audit.err)")
        for name in ["kbs.sqlite", "kbs.sqlite-wal"] {
            guard let bytes = FileManager.default.contents(atPath: data + "/" + name) else { continue }
            #expect(bytes.range(of: Data(token.utf8)) == nil, "\(name) never holds the token")
        }
    }
}
