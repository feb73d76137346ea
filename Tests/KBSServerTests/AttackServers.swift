import Foundation
import KBSClaims
import KBSPolicyTesting
import Testing

/// A running server the attack suite shares across one sub-suite's tests, and what the tests need to know of it.
struct AttackLab: Sendable {
    let server: ServerProcess

    /// The sub-suite's lab, set by its ``SharedServer`` trait.
    @TaskLocal static var current: AttackLab?

    /// The current lab, or a failed test.
    static func require() throws -> AttackLab { try #require(current, "no server: the suite's SharedServer trait did not run") }

    /// The launch measurement the simulator uses unless told otherwise (`0x5a` × 48), allowed on every lab server.
    static let measurement = String(repeating: "5a", count: 48)
    /// The signed `sys_enable_status` the simulator lab lists as meaning TEE-I/O (tiers/tee_io_status.json).
    static let teeIOStatus: [UInt8] = [0x5e, 0x10, 0x00, 0x01]
}

/// Starts one `kbs serve` for a whole sub-suite and stops it afterwards (a suite-level scope, so the tests pay for one
/// start-up, one master-key derivation and one setup between them).
struct SharedServer: SuiteTrait, TestScoping {
    let start: @Sendable () async throws -> AttackLab

    func provideScope(for test: Test, testCase: Test.Case?, performing function: @Sendable () async throws -> Void) async throws {
        let lab = try await start()
        defer { lab.server.stop() }
        try await AttackLab.$current.withValue(lab) { try await function() }
    }
}

extension Trait where Self == SharedServer {
    /// `TEE_MODE=simulator`, no rate limit (one test opens ten thousand sessions), the default policy with one
    /// TEE-I/O status listed, the simulator's measurement allowed, and keys at tiers 2, 3 and 4 plus a role-labelled
    /// one. No TPM key is pinned.
    static var simulatorLab: Self {
        SharedServer {
            let policies = try AttackServers.copyOfDefaultPolicies()
            let listed = try AttackClient.json([Hex.encode(AttackLab.teeIOStatus)])
            try Data(listed.utf8).write(to: URL(fileURLWithPath: policies + "/tiers/tee_io_status.json"))
            let server = try ServerProcess(policies: policies, arguments: ["--tee-mode", "simulator", "--rate-limit", "0"])
            try await server.allowMeasurement(AttackLab.measurement)
            for tier in 2...4 { try await server.putResource("demo/keys/t\(tier)", tier: tier) }
            try await server.putResource("demo/db/role", tier: 2, labels: ["role": "db-reader"])
            return AttackLab(server: server)
        }
    }

    /// Hardware mode as a deployment runs it, set up the way an operator might leave it: a data directory and database
    /// created beforehand with loose modes, a shell that allows core files, `/metrics` behind a token, a modest rate
    /// limit (60 at once, then one every 20 s: slow enough that a loaded machine refills nothing mid-test), and trust anchors added in `DATA_DIR/trust-anchors`: a lab CA of no known vendor
    /// for SNP (`amd/`, Fixtures/trust/lab-snp-authorities.json) and an ARK and ASK under Intel's name (a flat file, so
    /// Intel's: Fixtures/trust/intel-named-snp-authorities.json), and a root under AMD's name that signed a PCK CA
    /// (Fixtures/trust/amd-named-tdx-authorities.json). No TPM key is pinned, as in most deployments.
    static var hardwareLab: Self {
        SharedServer {
            let data = ServerProcess.temporaryDirectory("kbs-attack-hw")
            let manager = FileManager.default
            _ = manager.createFile(atPath: data + "/kbs.sqlite", contents: nil, attributes: [.posixPermissions: 0o666])
            try manager.setAttributes([.posixPermissions: 0o777], ofItemAtPath: data)
            let anchors = data + "/trust-anchors"
            try manager.createDirectory(atPath: anchors + "/amd", withIntermediateDirectories: true)
            try Data(try AttackServers.pem("lab-snp-authorities.json").utf8).write(to: URL(fileURLWithPath: anchors + "/amd/lab-ark-ask.pem"))
            try Data(try AttackServers.pem("intel-named-snp-authorities.json").utf8).write(to: URL(fileURLWithPath: anchors + "/intel-named.pem"))
            // A root under AMD's name alone (its PCK CA travels in the quote): assigned to AMD by its name.
            try Data(try AttackServers.pem("amd-named-tdx-authorities.json", first: 1).utf8).write(
                to: URL(fileURLWithPath: anchors + "/amd-named-root.pem"))
            let server = try ServerProcess(
                policies: RepositoryPaths.path("Policies/default"), dataDirectory: data,
                arguments: ["--rate-limit", "0.05", "--rate-limit-burst", "60"],
                environment: ["KBS_METRICS_TOKEN": AttackServers.metricsToken],
                launcher: ["/bin/sh", "-c", "ulimit -c unlimited 2>/dev/null || ulimit -c \"$(ulimit -H -c)\"; exec \"$@\"", "sh"])
            try await server.allowMeasurement(AttackLab.measurement)
            try await server.putResource("demo/keys/t2", tier: 2)
            return AttackLab(server: server)
        }
    }
}

enum AttackServers {
    static let metricsToken = "attack-metrics-token-0123456789abcdef"

    /// A copy of `Policies/default` with its sub-folders (tier rules, tests), which a test may edit.
    static func copyOfDefaultPolicies() throws -> String {
        let target = ServerProcess.temporaryDirectory("kbs-attack-policies") + "/default"
        try FileManager.default.copyItem(atPath: RepositoryPaths.path("Policies/default"), toPath: target)
        return target
    }

    /// The authorities of a `Fixtures/trust` file (a simulator-CA entry: root first), each certificate with its key.
    static func authorities(_ name: String) throws -> [[String: String]] {
        let data = try Data(contentsOf: URL(fileURLWithPath: RepositoryPaths.path("Fixtures/trust/" + name)))
        return try #require(try JSONSerialization.jsonObject(with: data) as? [[String: String]])
    }

    /// The certificates of a `Fixtures/trust` file as one PEM bundle (an ARK and its ASK, as AMD publishes them), or
    /// its `first` ones.
    static func pem(_ name: String, first: Int? = nil) throws -> String {
        let all = try authorities(name)
        return try all.prefix(first ?? all.count).map { entry in
            var lines: [Substring] = []
            var rest = Substring(try #require(entry["certificate"]))
            while !rest.isEmpty {
                lines.append(rest.prefix(64))
                rest = rest.dropFirst(64)
            }
            return "-----BEGIN CERTIFICATE-----\n" + lines.joined(separator: "\n") + "\n-----END CERTIFICATE-----\n"
        }.joined()
    }
}
