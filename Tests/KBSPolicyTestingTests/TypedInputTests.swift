import Foundation
import KBSBroker
import KBSClaims
import KBSEvidence
import KBSPolicyTesting
import Testing

@testable import KBSPolicy

/// Typed input (what the broker hands the policy) decides exactly as the same input given as JSON: every case of every
/// bundle in `Policies/`, read as claims without a schema, gets the same effect, deciding rules and error count.
@Suite struct TypedInputTests {
    /// Every bundle folder (a folder whose `tests/` holds cases), with its case files.
    static var bundles: [(bundle: String, cases: [String])] {
        let root = RepositoryPaths.path("Policies")
        var found: [(String, [String])] = []
        let enumerator = FileManager.default.enumerator(atPath: root)
        while let relative = enumerator?.nextObject() as? String {
            guard relative.hasSuffix("/tests") || relative == "tests" else { continue }
            let bundle = root + "/" + relative.dropLast("/tests".count)
            let files = ((try? FileManager.default.contentsOfDirectory(atPath: root + "/" + relative)) ?? []).filter { $0.hasSuffix(".json") }
                .sorted()
            found.append((bundle, files.map { root + "/" + relative + "/" + $0 }))
        }
        return found
    }

    @Test func everyPolicyCaseDecidesTheSameFromClaims() throws {
        let registry = BrokerSchemas.registry
        var compared = 0
        for (bundle, files) in Self.bundles {
            guard case .success(let policy) = PolicySet.load(directory: bundle, registry: registry) else { continue }
            for file in files {
                let cases = try PolicyCaseFile.load(path: file).cases
                for entry in cases {
                    guard let node = try? JSONNode.parse(entry.inputJSON), case .record(let claims)? = ClaimValue(json: node) else { continue }
                    let options = PolicySet.Options(now: entry.now ?? 0, explain: false)
                    let fromJSON = policy.decide(json: entry.inputJSON, options: options)
                    let fromClaims = policy.decide(input: claims, options: options)
                    #expect(fromClaims.effect == fromJSON.effect, "\(file): \(entry.name)")
                    #expect(fromClaims.deciding.map(\.name) == fromJSON.deciding.map(\.name), "\(file): \(entry.name)")
                    #expect(fromClaims.errors.count == fromJSON.errors.count, "\(file): \(entry.name) \(fromClaims.errors) vs \(fromJSON.errors)")
                    compared += 1
                }
            }
        }
        #expect(compared >= 60, "compared \(compared) cases")
    }

    @Test func typedValuesAreCheckedAgainstTheSchema() throws {
        let source = """
            input {
              tier: tier
              measurement: hex
              at: time
              names: set<string>
              labels: map<string>
            }
            permit ok when {
              tier >= tier"2"
              measurement == hex"abcd"
              "b" in names
              labels["team"] == "x"
              at < time"2030-01-01T00:00:00Z"
            }
            """
        let file = SourceFile(path: "typed.policy", text: source)
        let policy = try PolicySet.compile(
            sources: [file], directory: NSTemporaryDirectory(), registry: .standard, extraDiagnostics: [], hashInput: []
        )
        .get()
        let good = ClaimRecord([
            ("tier", .int(3)), ("measurement", .hex([0xab, 0xcd])), ("at", .time(Date(timeIntervalSince1970: 0))),
            ("names", .list([.string("a"), .string("b")])), ("labels", .record(ClaimRecord([("team", .string("x"))]))),
        ])
        #expect(policy.decide(input: good).isPermitted)
        var textHex = good
        textHex["measurement"] = .string("ABCD")
        #expect(policy.decide(input: textHex).isPermitted, "hex text is hex, in either case, as in JSON")
        for (name, wrong) in [
            ("tier", ClaimValue.int(9)), ("measurement", .string("xyz")), ("at", .string("yesterday")), ("names", .string("b")),
            ("labels", .list([])),
        ] {
            var input = good
            input[name] = wrong
            let decision = policy.decide(input: input)
            #expect(!decision.isPermitted, "\(name)")
            #expect(decision.errors.first?.message.contains("invalid input at `\(name)`") == true, "\(name): \(decision.errors)")
        }
        var missing = good
        missing["tier"] = nil
        #expect(policy.decide(input: missing).errors.first?.message.contains("missing required attribute `tier`") == true)
    }
}
