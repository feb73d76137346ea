import Foundation
import KBSPolicyTesting
import Testing

/// `Tools/examples/identity-walkthrough`, the worked example docs/identity.md quotes, run as it is: one key released
/// by each method, a replayed signature and a logged-out session refused, and the server it started stopped.
@Suite(.enabled(if: TestVenv.available, "needs .venv-test (Tools/bootstrap makes it)"))
struct IdentityWalkthroughTests {
    static let methods: [(method: String, subject: String)] = [
        ("oidc", "oidc:https://idp.example.com#alice"), ("oidc-access-token", "oidc:https://idp.example.com#alice"),
        ("saml", "saml:https://idp.example.com/saml#carol"), ("siwe", "eth:0x"), ("eip712", "eth:0x"), ("did", "did:key:z"),
        ("apikey", "apikey:"), ("hmac", "hmac:"), ("capability", "agent:builder"),
    ]

    @Test("docs/identity.md shows the walkthrough's configuration as the script writes it")
    func documentedConfiguration() throws {
        let script = try String(contentsOfFile: RepositoryPaths.path("Tools/examples/identity-walkthrough"), encoding: .utf8)
        let doc = try String(contentsOfFile: RepositoryPaths.path("docs/identity.md"), encoding: .utf8)
        let start = try #require(script.range(of: "cat > kbs.toml << EOF\n"))
        let end = try #require(script.range(of: "\nEOF\n", range: start.upperBound..<script.endIndex))
        let toml = script[start.upperBound...end.lowerBound].replacingOccurrences(of: "$ROOT/", with: "…/")
        #expect(doc.contains("```toml\n" + toml + "```"), "docs/identity.md's configuration differs from the walkthrough's")
        #expect(doc.contains("Tools/examples/identity-walkthrough"))
    }

    @Test("the identity walkthrough exits 0, releases the key by every method, and leaves no server running")
    func walkthrough() throws {
        let binary = try #require(ServerProcess.binary, "the kbs binary is not built; run `swift build` first")
        let run = try ChildProcess.run(RepositoryPaths.path("Tools/examples/identity-walkthrough"), [binary])
        let text = run.out
        #expect(run.status == 0, "the walkthrough failed:\n\(text)\n\(run.err)")

        let lines = text.split(separator: "\n").map(String.init)
        for (method, subject) in Self.methods {
            let line = lines.first { $0.hasPrefix("\(method): released ") }
            #expect(line?.hasPrefix(#"\#(method): released "the app key" to \#(subject)"#) == true, "\(method): \(line ?? "no line")\n\(text)")
        }
        #expect(lines.contains { $0.hasPrefix("bob, without the role: ") && $0.contains(#""policy_deny""#) }, "\(text)")
        #expect(lines.contains { $0.hasPrefix("the same signature again: ") && $0.contains(#""identity_replay""#) }, "\(text)")
        #expect(lines.contains { $0.hasPrefix("after logout: ") && $0.contains(#""identity_revoked""#) }, "\(text)")

        // The trap stopped the server and removed the folder.
        let started = try #require(lines.first { $0.hasPrefix("listening on ") }, "\(text)")
        let pid = try #require(started.split(separator: " ").last.flatMap { Int32($0.filter(\.isNumber)) }, "\(started)")
        #expect(kill(pid, 0) == -1, "the walkthrough's server (pid \(pid)) is still running")
        let folder = try #require(
            lines.first { $0.hasPrefix("== configuration: ") }?.dropFirst("== configuration: ".count).dropLast("/kbs.toml".count))
        #expect(!FileManager.default.fileExists(atPath: String(folder)), "the walkthrough left \(folder) behind")
    }
}
