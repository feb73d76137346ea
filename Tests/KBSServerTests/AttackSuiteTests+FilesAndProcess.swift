import Foundation
import Testing

/// Finding 9: files and process. What a local attacker (another user, a crash collector, a scraper) could read of a
/// running server: its data directory and database, a core dump of a process holding keys, `/metrics`, and a secret
/// an administrator writes out with `kbs secrets get --out`. (The cookie's `Secure` flag under TLS is tested with
/// the TLS work, not here.) ServerHardeningTests and SecretsCommandLineTests hold the fuller forms.
extension AttackSuiteTests.HardwareMode {
    static func mode(_ path: String) throws -> Int {
        try #require(try FileManager.default.attributesOfItem(atPath: path)[.posixPermissions] as? Int, "\(path)")
    }

    /// Checked to fail on 9fc0fae^ (the store left existing modes alone): 0777 and 0666 stayed.
    @Test("finding 9: a data directory and database made beforehand with loose modes are 0700 and 0600 once the server starts")
    func theDataDirectoryIsTightened() throws {
        let data = try AttackLab.require().server.dataDirectory
        #expect(try Self.mode(data) == 0o700)
        for name in ["kbs.sqlite", "kbs.sqlite-wal", "kbs.sqlite-shm"] where FileManager.default.fileExists(atPath: data + "/" + name) {
            #expect(try Self.mode(data + "/" + name) == 0o600, "\(name)")
        }
    }

    /// Checked to fail on 9fc0fae^ (no setrlimit or prctl in `kbs serve`): the core limit stayed unlimited.
    @Test("finding 9: started from a shell allowing core files, the server has RLIMIT_CORE 0 and is not dumpable")
    func coreDumpsAreOff() throws {
        let server = try AttackLab.require().server
        #expect(try ServerHardeningTests.coreLimit(server.process.processIdentifier) == "0")
        // No /proc file shows a process's dumpable flag to root; the server reads it back from the kernel and logs it.
        #expect(server.stderr.contains("dumpable=0"), "\(server.stderr)")
    }

    /// Checked to fail on 9fc0fae^ (no metrics token): /metrics answered 200 to anyone.
    @Test("finding 9: /metrics answers 401 without its bearer token (the admin token is not it) and 200 with it")
    func metricsNeedTheirToken() async throws {
        let server = try AttackLab.require().server
        #expect(try await server.request("GET", "/metrics").status == 401)
        #expect(try await server.request("GET", "/metrics", admin: true).status == 401)
        let scraped = try await server.request("GET", "/metrics", headers: ["Authorization": "Bearer \(AttackServers.metricsToken)"])
        #expect(scraped.status == 200 && scraped.body.contains("kbs_"))
    }

    /// Checked to fail on 9fc0fae^ (O_CREAT|O_TRUNC): the secret went into the planted file and through the symlink.
    @Test("finding 9: secrets get --out writes a new 0600 file only: a planted file or symlink is refused and left as it was")
    func secretsGetOutNeverReusesAPath() throws {
        let server = try AttackLab.require().server
        let binary = try #require(ServerProcess.binary)
        let passphrase = try String(contentsOfFile: server.dataDirectory + "/master-passphrase", encoding: .utf8)
            .trimmingCharacters(in: .whitespacesAndNewlines)
        let scratch = ServerProcess.temporaryDirectory("kbs-attack-out")
        defer { try? FileManager.default.removeItem(atPath: scratch) }
        func get(_ out: String) throws -> (status: Int32, err: String) {
            let run = try ChildProcess.run(
                "/usr/bin/env",
                ["KBS_MASTER_PASSPHRASE=\(passphrase)", binary, "secrets", "get", "demo/keys/t2", "--out", out, "--data-dir", server.dataDirectory])
            return (run.status, run.err)
        }
        // A world-readable file planted where the secret will go, and a symlink to a file the attacker wants written.
        let planted = scratch + "/planted"
        try Data("planted".utf8).write(to: URL(fileURLWithPath: planted))
        try FileManager.default.setAttributes([.posixPermissions: 0o644], ofItemAtPath: planted)
        let target = scratch + "/target"
        try Data("target".utf8).write(to: URL(fileURLWithPath: target))
        try FileManager.default.createSymbolicLink(atPath: scratch + "/link", withDestinationPath: target)
        for path in [planted, scratch + "/link"] {
            let refused = try get(path)
            #expect(refused.status == 1, "\(path): \(refused.err)")
            #expect(refused.err.hasPrefix("error: exists: "), "\(refused.err)")
        }
        #expect(FileManager.default.contents(atPath: planted) == Data("planted".utf8))
        #expect(try Self.mode(planted) == 0o644)
        #expect(FileManager.default.contents(atPath: target) == Data("target".utf8))

        let fresh = try get(scratch + "/fresh")
        #expect(fresh.status == 0, "\(fresh.err)")
        #expect(FileManager.default.contents(atPath: scratch + "/fresh") == Data("secret of demo/keys/t2".utf8))
        #expect(try Self.mode(scratch + "/fresh") == 0o600)
    }
}
