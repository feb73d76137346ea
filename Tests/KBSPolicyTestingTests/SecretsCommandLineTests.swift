import Foundation
import KBSPolicyTesting
import Testing

/// `kbs secrets …` and `kbs refvals …` through the built binary.
struct SecretsCommandLineTests {
    static func temporary() -> String {
        FileManager.default.temporaryDirectory.appendingPathComponent("kbs-secrets-\(UUID())").path
    }

    /// The finding: `--out` opened with O_CREAT|O_TRUNC, so it wrote the secret into an existing file others could
    /// read (keeping that file's mode) and followed a symlink planted at the path. Now it only ever creates a new file.
    @Test("secrets get --out refuses an existing file or a symlink, leaving both untouched")
    func getOutNeverReusesAPath() throws {
        let data = Self.temporary()
        let file = data + "-value"
        try Data("the-secret-\(UUID())".utf8).write(to: URL(fileURLWithPath: file))
        defer { try? FileManager.default.removeItem(atPath: file) }
        let put = try KeysCommandLineTests.run(["secrets", "put", "demo/db/password", "--file", file, "--data-dir", data])
        #expect(put.status == 0, "\(put.err)")
        let scratch = Self.temporary()
        try FileManager.default.createDirectory(atPath: scratch, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: scratch) }

        // An existing world-readable file.
        let existing = scratch + "/existing"
        try Data("old".utf8).write(to: URL(fileURLWithPath: existing))
        try FileManager.default.setAttributes([.posixPermissions: 0o644], ofItemAtPath: existing)
        let overwrite = try KeysCommandLineTests.run(["secrets", "get", "demo/db/password", "--out", existing, "--data-dir", data])
        #expect(overwrite.status == 1)
        #expect(overwrite.err.hasPrefix("error: exists: "), "\(overwrite.err)")
        #expect(FileManager.default.contents(atPath: existing) == Data("old".utf8))
        #expect(try FileManager.default.attributesOfItem(atPath: existing)[.posixPermissions] as? Int == 0o644)

        // A symlink to a file elsewhere, and a dangling one: neither is followed.
        let target = scratch + "/target"
        try Data("target".utf8).write(to: URL(fileURLWithPath: target))
        for (link, destination) in [(scratch + "/link", target), (scratch + "/dangling", scratch + "/nowhere")] {
            try FileManager.default.createSymbolicLink(atPath: link, withDestinationPath: destination)
            let followed = try KeysCommandLineTests.run(["secrets", "get", "demo/db/password", "--out", link, "--data-dir", data])
            #expect(followed.status == 1)
            #expect(followed.err.hasPrefix("error: exists: "), "\(followed.err)")
        }
        #expect(FileManager.default.contents(atPath: target) == Data("target".utf8))
        #expect(!FileManager.default.fileExists(atPath: scratch + "/nowhere"))

        // A new path is created 0600 with the value.
        let fresh = scratch + "/fresh"
        let get = try KeysCommandLineTests.run(["secrets", "get", "demo/db/password", "--out", fresh, "--data-dir", data])
        #expect(get.status == 0, "\(get.err)")
        #expect(try FileManager.default.attributesOfItem(atPath: fresh)[.posixPermissions] as? Int == 0o600)
    }

    @Test("secrets: put from a file, get the same bytes, list without values, delete; refusals exit 1 with a reason; all audited")
    func secrets() throws {
        let data = Self.temporary()
        let value = Data("cli-secret-\(UUID())\u{0}\u{FF}".utf8)
        let file = data + "-value"
        try value.write(to: URL(fileURLWithPath: file))
        defer { try? FileManager.default.removeItem(atPath: file) }

        let put = try KeysCommandLineTests.run([
            "secrets", "put", "demo/db/password", "--file", file, "--tier", "3", "--label", "role=dba", "--data-dir", data,
        ])
        #expect(put.status == 0, "\(put.err)")
        let info = try #require(try JSONSerialization.jsonObject(with: Data(put.out.utf8)) as? [String: Any])
        #expect(info["required_tier"] as? Int == 3)
        #expect((info["labels"] as? [String: String])?["role"] == "dba")

        let out = data + "/value-copy"
        let get = try KeysCommandLineTests.run(["secrets", "get", "demo/db/password", "--out", out, "--data-dir", data])
        #expect(get.status == 0, "\(get.err)")
        #expect(FileManager.default.contents(atPath: out) == value)
        let mode = try FileManager.default.attributesOfItem(atPath: out)[.posixPermissions] as? Int
        #expect(mode == 0o600)

        let list = try KeysCommandLineTests.run(["secrets", "list", "--data-dir", data])
        #expect(list.status == 0)
        #expect(list.out.contains("demo/db/password") && !list.out.contains("cli-secret"))

        for (arguments, code) in [
            (["secrets", "get", "demo/db/none"], "not_found"),
            (["secrets", "put", "demo/../x", "--file", file], "invalid_path"),
            (["secrets", "put", "demo/db/x", "--file", file, "--tier", "9"], "usage"),
            (["refvals", "add", "--kind", "snp", "--name", "measurement", "0xab"], "invalid_request"),
        ] {
            let refused = try KeysCommandLineTests.run(arguments + ["--data-dir", data])
            #expect(refused.status == (code == "usage" ? 2 : 1), "usage errors exit 2, refusals 1")
            #expect(refused.err.hasPrefix("error: \(code): "), "\(arguments): \(refused.err)")
        }

        let added = try KeysCommandLineTests.run([
            "refvals", "add", "--kind", "snp", "--name", "measurement", "AB01", "ab01", "cd02", "--data-dir", data,
        ])
        #expect(added.out.contains("\"added\":2"), "\(added.out) \(added.err)")
        let values = try KeysCommandLineTests.run(["refvals", "list", "--data-dir", data])
        #expect(values.out.contains(#"{"snp":{"measurement":["ab01","cd02"]}}"#))

        let deleted = try KeysCommandLineTests.run(["secrets", "delete", "demo/db/password", "--data-dir", data])
        #expect(deleted.status == 0)
        #expect(try KeysCommandLineTests.run(["secrets", "get", "demo/db/password", "--data-dir", data]).status == 1)

        let audit = try KeysCommandLineTests.run(["audit", "verify", "--data-dir", data])
        #expect(audit.status == 0, "\(audit.err)")
        for name in ["kbs.sqlite", "kbs.sqlite-wal"] {
            guard let store = FileManager.default.contents(atPath: data + "/" + name) else { continue }
            #expect(store.range(of: Data("cli-secret".utf8)) == nil, "\(name) never holds the value in the clear")
        }
    }
}

/// `kbs tee detect` and `kbs keys create --fallback`: a key asking for more than this machine offers gets the best
/// tier there is, labelled and audited.
struct TierFallbackCommandLineTests {
    @Test("create --fallback --tier 4 gets min(4, detected tier), with tier_requested and a tier_fallback audit record")
    func fallback() throws {
        let detect = try KeysCommandLineTests.run(["tee", "detect"])
        #expect(detect.status == 0)
        let platform = try #require(try JSONSerialization.jsonObject(with: Data(detect.out.utf8)) as? [String: Any])
        let available = try #require(platform["tier"] as? Int)
        #expect((1...4).contains(available))

        let data = SecretsCommandLineTests.temporary()
        let created = try KeysCommandLineTests.run(["keys", "create", "wrap-key", "--tier", "4", "--fallback", "--data-dir", data])
        #expect(created.status == 0, "\(created.err)")
        let record = try #require(try JSONSerialization.jsonObject(with: Data(created.out.utf8)) as? [String: Any])
        #expect(record["required_tier"] as? Int == min(4, available))
        let labels = record["labels"] as? [String: String] ?? [:]
        #expect((labels["tier_requested"] == "4") == (available < 4))

        let audit = try KeysCommandLineTests.run(["audit", "verify", "--data-dir", data])
        #expect(audit.status == 0)
        let files = ["kbs.sqlite", "kbs.sqlite-wal"].compactMap { FileManager.default.contents(atPath: data + "/" + $0) }
        #expect(files.contains { $0.range(of: Data("tier_fallback".utf8)) != nil } == (available < 4))
    }
}
