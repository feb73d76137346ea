import Foundation
import KBSPolicyTesting
import Testing

/// `kbs identity verify` end to end for every credential kind: the first accepted and the first refused artifact of
/// each `Fixtures/identity/<kind>/manifest.json`, with the manifest's options turned into flags.
struct IdentityCommandLineTests {
    struct Run: CustomTestStringConvertible, Sendable {
        var kind: String
        var name: String
        var directory: String
        var arguments: [String]
        var expect: String
        var subject: String?
        var reason: String?
        var testDescription: String { "\(kind)/\(name)" }
    }

    static let runs: [Run] = {
        var runs: [Run] = []
        for kind in ["jwt", "saml", "eip191", "eip712", "siwe", "did", "hmac"] {
            let directory = Repository.path("Fixtures/identity/\(kind)")
            guard let data = FileManager.default.contents(atPath: directory + "/manifest.json"),
                let manifest = try? JSONSerialization.jsonObject(with: data) as? [String: Any],
                let cases = manifest["cases"] as? [[String: Any]]
            else { continue }
            for expect in ["accept", "reject"] {
                guard let entry = cases.first(where: { $0["expect"] as? String == expect && $0["after"] == nil }) else { continue }
                var options = manifest["options"] as? [String: Any] ?? [:]
                for (name, value) in entry["options"] as? [String: Any] ?? [:] { options[name] = value is NSNull ? nil : value }
                var arguments = [
                    "identity", "verify", "--kind", kind, "--credential", entry["credential"] as? String ?? "",
                    "--at", (entry["now"] ?? manifest["now"]) as? String ?? "",
                ]
                for (name, value) in options.sorted(by: { $0.key < $1.key }) {
                    let flag = "--" + name.replacingOccurrences(of: "_", with: "-")
                    if let enabled = value as? Bool {
                        if enabled { arguments.append(flag) }
                    } else {
                        arguments += [flag, "\(value)"]
                    }
                }
                runs.append(
                    Run(
                        kind: kind, name: entry["name"] as? String ?? "?", directory: directory, arguments: arguments,
                        expect: expect, subject: entry["subject"] as? String, reason: entry["reason"] as? String))
            }
        }
        return runs
    }()

    @Test func everyKindRuns() {
        #expect(Set(Self.runs.map(\.kind)).count == 7, "Fixtures/identity is missing kinds; run Tools/gen-identity-fixtures")
    }

    @Test(.enabled(if: CommandLineTests.binary != nil), arguments: runs)
    func verifyPrintsThePrincipalOrTheReason(_ run: Run) throws {
        let result = try CommandLineTests.run(run.arguments, in: run.directory)
        if run.expect == "accept" {
            #expect(result.status == 0, "\(result.err)")
            let principal = try #require(try JSONSerialization.jsonObject(with: Data(result.out.utf8)) as? [String: Any])
            #expect(principal["subject"] as? String == run.subject)
            #expect(principal["method"] as? String == ["jwt": "oidc", "api_key": "apikey"][run.kind, default: run.kind], "policies see JWTs as oidc")
            #expect(principal[run.kind] is [String: Any], "the kind's claims hang off `\(run.kind)`")
        } else {
            #expect(result.status == 1)
            #expect(result.out.isEmpty)
            #expect(result.err.hasPrefix("error: \(run.reason ?? "?"): "), "\(result.err)")
        }
    }

    @Test(.enabled(if: CommandLineTests.binary != nil)) func badUsageIsAClearError() throws {
        let unknown = try CommandLineTests.run(["identity", "verify", "--kind", "kerberos", "--credential", "/dev/null"])
        #expect(unknown.status == 2)
        #expect(unknown.err.hasPrefix("error: usage: unknown kind `kerberos`"))
        let missing = try CommandLineTests.run(["identity", "verify", "--kind", "jwt", "--credential", "/dev/null"])
        #expect(missing.status == 1)
        #expect(missing.err.hasPrefix("error: configuration: `jwt` needs --"))
        let stray = try CommandLineTests.run([
            "identity", "verify", "--kind", "eip191", "--credential", "/dev/null",
            "--address", "0x0000000000000000000000000000000000000000", "--keys", "k.json",
        ])
        #expect(stray.err.hasPrefix("error: configuration: `eip191` takes no --keys"))
        let time = try CommandLineTests.run([
            "identity", "verify", "--kind", "did", "--credential", "/dev/null",
            "--audience", "a", "--at", "yesterday",
        ])
        #expect(time.err.hasPrefix("error: usage: --at `yesterday` is not an RFC 3339 time"))
        let file = try CommandLineTests.run(["identity", "verify", "--kind", "did", "--credential", "/nonexistent", "--audience", "a"])
        #expect(file.err.hasPrefix("error: usage: cannot read the credential file /nonexistent"))
    }
}
