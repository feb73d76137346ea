import Foundation
import KBSPolicyTesting
import Testing

/// The configuration file's identity sections reload while serving: on change and on SIGHUP; a file with a mistake
/// keeps the last good configuration serving and is reported in `/metrics`, and `kbs config check` names its line.
@Suite(.serialized)
struct ConfigurationReloadTests {
    static let certificate = RepositoryPaths.path("Fixtures/identity/saml/idp-cert.pem")

    static func configuration(saml: Bool, typo: Bool = false) -> String {
        var text = """
            [server]
            \(typo ? "prot = 8080" : "tee_mode = \"hardware\"")

            [identity.siwe]
            domain = "kbs.hanzo.example"
            uri = "https://kbs.hanzo.example/login"
            chain_ids = [1]

            """
        if saml {
            text += """
                [[identity.saml]]
                name = "corp"
                idp_entity_id = "https://idp.hanzo.example/saml"
                idp_certificate = "\(certificate)"
                idp_sso_url = "https://idp.hanzo.example/saml/sso"
                sp_entity_id = "https://kbs.hanzo.example/saml"
                acs_url = "https://kbs.hanzo.example/kbs/v1/login/saml/corp"

                """
        }
        return text
    }

    /// The status `GET /kbs/v1/login/saml/corp` answers: 302 while the IdP is configured, 404 when it is not.
    static func samlStatus(_ server: ServerProcess) async throws -> Int {
        try await server.request("GET", "/kbs/v1/login/saml/corp").status
    }

    @Test("a changed file swaps the identity sections in; a typo keeps the last good ones and says where; SIGHUP reloads too")
    func reloads() async throws {
        let directory = ServerProcess.temporaryDirectory("kbs-config")
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        let path = directory + "/kbs.toml"
        try Self.configuration(saml: false).write(toFile: path, atomically: true, encoding: .utf8)
        let server = try ServerProcess(policies: RepositoryPaths.path("Policies/default"), arguments: ["--config", path])
        defer { server.stop() }
        #expect(try await Self.samlStatus(server) == 404)

        try Self.configuration(saml: true).write(toFile: path, atomically: true, encoding: .utf8)
        #expect(try await ServerProcess.eventually { try await Self.samlStatus(server) == 302 }, "the new IdP is served after the file changed")

        // A typo: the reload fails, the IdP stays, /metrics says so, and `kbs config check` names the line.
        try Self.configuration(saml: true, typo: true).write(toFile: path, atomically: true, encoding: .utf8)
        #expect(try await ServerProcess.eventually { try await HotReloadTests.metric(server, "kbs_config_reload_failing 1") })
        #expect(try await Self.samlStatus(server) == 302, "the last good configuration keeps serving")
        #expect(server.stderr.contains("configuration reload failed"))
        let check = Process()
        check.executableURL = URL(fileURLWithPath: try #require(ServerProcess.binary))
        check.arguments = ["config", "check", path]
        let errors = Pipe()
        check.standardError = errors
        check.standardOutput = FileHandle.nullDevice
        try check.run()
        let report = String(decoding: errors.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        check.waitUntilExit()
        #expect(check.terminationStatus == 1)
        #expect(report.contains("\(path):2: error:"), "\(report)")

        // Fixed without the IdP, written while the watcher may not look: SIGHUP reloads at once.
        try Self.configuration(saml: false).write(toFile: path, atomically: true, encoding: .utf8)
        server.signal(SIGHUP)
        #expect(try await ServerProcess.eventually { try await Self.samlStatus(server) == 404 })
        #expect(try await HotReloadTests.metric(server, "kbs_config_reload_failing 0"))
    }
}
