import Foundation
import KBSPolicyTesting
import Testing

/// Process and endpoint hardening of `kbs serve`: no core dumps of a process holding keys, `/metrics` behind a token
/// when one is configured.
@Suite(.serialized) struct ServerHardeningTests {
    static let metricsToken = "metrics-token-0123456789abcdef"

    /// The soft core-file limit of `pid`, as /proc reports it (`0`, `unlimited`, a number).
    static func coreLimit(_ pid: Int32) throws -> String {
        let limits = try String(contentsOfFile: "/proc/\(pid)/limits", encoding: .utf8)
        let line = try #require(limits.split(separator: "\n").first { $0.hasPrefix("Max core file size") })
        return String(line.dropFirst("Max core file size".count).split(separator: " ").first ?? "")
    }

    /// The finding: docs/keys.md says the server should set RLIMIT_CORE to 0, and `kbs serve` did not; nor did it
    /// make itself non-dumpable. Started from a shell that allows core files, the server now turns both off first.
    @Test("kbs serve disables core dumps (RLIMIT_CORE 0, not dumpable) before it opens any key")
    func coreDumpsAreDisabled() async throws {
        let server = try ServerProcess(
            policies: RepositoryPaths.path("Policies/default"),
            launcher: ["/bin/sh", "-c", "ulimit -c unlimited 2>/dev/null || ulimit -c \"$(ulimit -H -c)\"; exec \"$@\"", "sh"])
        defer { server.stop() }
        #expect(try Self.coreLimit(server.process.processIdentifier) == "0")
        // The server reads both settings back from the kernel and logs them.
        #expect(server.stderr.contains("core dumps disabled"), "\(server.stderr)")
        #expect(server.stderr.contains("dumpable=0"), "\(server.stderr)")
        #expect(server.stderr.contains("rlimit_core=0"), "\(server.stderr)")
    }

    @Test("without a metrics token /metrics stays open")
    func metricsOpenByDefault() async throws {
        let server = try ServerProcess(policies: RepositoryPaths.path("Policies/default"))
        defer { server.stop() }
        #expect(try await server.request("GET", "/metrics").status == 200)
    }

    /// The finding: `/metrics` had no way to require a token. `KBS_METRICS_TOKEN` (or `--metrics-token-file`) now
    /// makes it answer 401 to a request without that bearer token.
    @Test("KBS_METRICS_TOKEN puts /metrics behind a bearer token")
    func metricsTokenFromTheEnvironment() async throws {
        let server = try ServerProcess(policies: RepositoryPaths.path("Policies/default"), environment: ["KBS_METRICS_TOKEN": Self.metricsToken])
        defer { server.stop() }
        try await Self.expectGuarded(server)
    }

    @Test("--metrics-token-file puts /metrics behind a bearer token; a file others can read is refused")
    func metricsTokenFromAFile() async throws {
        let directory = ServerProcess.temporaryDirectory("kbs-metrics")
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let file = directory + "/metrics-token"
        try Data((Self.metricsToken + "\n").utf8).write(to: URL(fileURLWithPath: file))
        try FileManager.default.setAttributes([.posixPermissions: 0o600], ofItemAtPath: file)
        let server = try ServerProcess(policies: RepositoryPaths.path("Policies/default"), arguments: ["--metrics-token-file", file])
        defer { server.stop() }
        try await Self.expectGuarded(server)

        try FileManager.default.setAttributes([.posixPermissions: 0o644], ofItemAtPath: file)
        let binary = try #require(ServerProcess.binary)
        let process = Process()
        process.executableURL = URL(fileURLWithPath: binary)
        process.arguments = [
            "serve", "--policies", RepositoryPaths.path("Policies/default"), "--data-dir", directory + "/data", "--port", "0",
            "--metrics-token-file", file,
        ]
        let errors = Pipe()
        process.standardError = errors
        process.standardOutput = Pipe()
        try process.run()
        let text = String(decoding: errors.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        process.waitUntilExit()
        #expect(process.terminationStatus == 1)
        #expect(text.split(separator: "\n").last?.hasPrefix("error: metrics_token: ") == true, "\(text)")
    }

    static func expectGuarded(_ server: ServerProcess) async throws {
        let bare = try await server.request("GET", "/metrics")
        #expect(bare.status == 401, "\(bare.body)")
        #expect(!bare.body.contains("kbs_http_requests_total"))
        #expect(try await server.request("GET", "/metrics", headers: ["Authorization": "Bearer wrong-token-0123456789"]).status == 401)
        // The admin token is not the metrics token.
        #expect(try await server.request("GET", "/metrics", admin: true).status == 401)
        let authorised = try await server.request("GET", "/metrics", headers: ["Authorization": "Bearer \(Self.metricsToken)"])
        #expect(authorised.status == 200)
        #expect(authorised.body.contains("kbs_"))
        // Health stays open: probes carry no token.
        #expect(try await server.request("GET", "/healthz").status == 200)
    }
}
