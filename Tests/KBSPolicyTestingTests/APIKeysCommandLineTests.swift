import Foundation
import KBSPolicyTesting
import Testing

/// `kbs apikeys …` through the built binary: the secret printed once, never listed, never in the store's files in the
/// clear; revocation recorded; an unknown id refused.
struct APIKeysCommandLineTests {
    @Test(.enabled(if: CommandLineTests.binary != nil)) func createListRevoke() throws {
        let data = FileManager.default.temporaryDirectory.appendingPathComponent("kbs-apikeys-\(UUID())").path
        defer { try? FileManager.default.removeItem(atPath: data) }

        let create = try KeysCommandLineTests.run(["apikeys", "create", "--name", "ci", "--subject", "svc:builder", "--data-dir", data])
        #expect(create.status == 0, "\(create.err)")
        let created = try #require(try JSONSerialization.jsonObject(with: Data(create.out.utf8)) as? [String: Any])
        let id = try #require(created["id"] as? String)
        let secret = try #require(created["secret"] as? String)
        #expect(secret.hasPrefix("kbs_k_\(id)_") && created["subject"] as? String == "svc:builder")
        let plain = try KeysCommandLineTests.run(["apikeys", "create", "--name", "plain", "--data-dir", data])
        #expect(plain.out.contains("\"subject\":\"apikey:"), "the default subject is apikey:<id>")

        let list = try KeysCommandLineTests.run(["apikeys", "list", "--data-dir", data])
        #expect(list.status == 0 && list.out.contains("\(id)  active  svc:builder  ci") && !list.out.contains(secret), "\(list.out)")
        for file in try FileManager.default.contentsOfDirectory(atPath: data) {
            let bytes = FileManager.default.contents(atPath: data + "/" + file) ?? Data()
            #expect(bytes.range(of: Data(secret.utf8)) == nil, "the secret is in \(file) in the clear")
        }

        let revoke = try KeysCommandLineTests.run(["apikeys", "revoke", id, "--data-dir", data])
        #expect(revoke.status == 0, "\(revoke.err)")
        #expect(try KeysCommandLineTests.run(["apikeys", "list", "--data-dir", data]).out.contains("\(id)  revoked"))
        let unknown = try KeysCommandLineTests.run(["apikeys", "revoke", "0000000000000000", "--data-dir", data])
        #expect(unknown.status == 1 && unknown.err.hasPrefix("error: not_found: "), "\(unknown.err)")
        let missing = try CommandLineTests.run(["apikeys", "list", "--data-dir", data + "-none"])
        #expect(missing.status == 1 && missing.err.hasPrefix("error: not_found: "), "\(missing.err)")
    }
}
