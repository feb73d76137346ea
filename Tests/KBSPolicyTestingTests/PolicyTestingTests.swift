import Foundation
import KBSBroker
import KBSClaims
import KBSEvidence
import Testing

@testable import KBSPolicy
@testable import KBSPolicyTesting

typealias Repository = RepositoryPaths

/// The claim schemas `kbs policy test` checks bundles against: the standard ones and every evidence kind's.
let evidenceRegistry = BrokerSchemas.registry

struct PolicyTestingTests {
    @Test func everyPolicyCasePasses() {
        let report = PolicyTestRunner(registry: evidenceRegistry).runBundles(under: Repository.path("Policies"), coverage: true)
        for problem in report.problems { Issue.record("\(problem)") }
        for result in report.results where !result.passed { Issue.record("\(result.name): \(result.failure!)") }
        #expect(report.failed == 0)
        #expect(report.passed >= 30)
    }

    @Test func defaultBundleIsFullyCovered() throws {
        let report = PolicyTestRunner(registry: evidenceRegistry).runBundles(under: Repository.path("Policies/default"), coverage: true)
        let recorder = try #require(report.coverage.first?.recorder)
        #expect(recorder.rules.allSatisfy { $0.matched > 0 })
        #expect(recorder.gaps() == [])
    }

    @Test func everyBundleHasCases() {
        for bundle in PolicyTestRunner.bundles(under: Repository.path("Policies")) {
            #expect(!PolicyTestRunner.caseFiles(in: bundle + "/tests").isEmpty, "\(bundle) has no cases")
        }
    }

    @Test func caseFilesRejectUnknownKeys() throws {
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("case-\(UUID()).json").path
        try #"{"cases":[{"name":"x","input":{},"expect":"permit","expected_rules":[]}]}"#.write(toFile: path, atomically: true, encoding: .utf8)
        defer { try? FileManager.default.removeItem(atPath: path) }
        #expect(throws: CaseFileError.self) { try PolicyCaseFile.load(path: path) }
    }

    @Test func wrongExpectationFails() throws {
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("case-\(UUID()).json").path
        let input = try String(contentsOfFile: Repository.path("Policies/default/examples/release-request.json"), encoding: .utf8)
        try #"{"cases":[{"name":"wrong","input":\#(input),"expect":"deny"}]}"#.write(toFile: path, atomically: true, encoding: .utf8)
        defer { try? FileManager.default.removeItem(atPath: path) }
        let report = PolicyTestRunner().run(bundle: Repository.path("Policies/default"), caseFiles: [path])
        #expect(report.failed == 1)
        #expect(report.summary == "0 passed, 1 failed")
    }

    @Test func benchBundleMatchesTheReferenceRule() throws {
        // The Python reference decision of ../shared/bench/peers/gen_inputs.py, on hand-made inputs.
        guard case .success(let set) = PolicySet.load(directory: Repository.path("Fixtures/bench/release")) else {
            Issue.record("bench bundle does not compile")
            return
        }
        let measurements = try String(contentsOfFile: Repository.path("Fixtures/bench/release/measurements.json"), encoding: .utf8)
        let good = try #require(measurements.split(separator: "\"").dropFirst().first)
        func input(
            type: String = "snp", measurement: Substring = good, debug: Bool = false, tcb: Int = 8, role: String = "key-reader",
            rolePath: String = "kbs/keys/app-01", tier: Int = 2, required: Int = 2
        ) -> [UInt8] {
            Array(
                #"{"evidence":{"type":"\#(type)","measurement":"\#(measurement)","debug":\#(debug),"tcb_svn":\#(tcb)},"identity":{"sub":"s","issuer":"oidc","roles":[{"role":"auditor","path":"x"},{"role":"\#(role)","path":"\#(rolePath)"}]},"key":{"path":"kbs/keys/app-01","required_tier":\#(required)},"tier":\#(tier)}"#
                    .utf8)
        }
        let cases: [([UInt8], Bool)] = [
            (input(), true), (input(type: "tdx", tcb: 3), true), (input(type: "sgx"), false), (input(measurement: "00"), false),
            (input(debug: true), false), (input(tcb: 7), false), (input(type: "tdx", tcb: 2), false), (input(role: "admin"), false),
            (input(rolePath: "kbs/keys/app-02"), false), (input(tier: 1), false), (input(tier: 3, required: 0), true),
        ]
        for (json, expected) in cases {
            #expect(set.decide(json: json).isPermitted == expected)
            #expect(json.withUnsafeBufferPointer { set.isPermitted(json: $0) } == expected)
        }
    }
}

/// One end-to-end run of the built `kbs` binary; the rest of the CLI is covered through the libraries it calls.
struct CommandLineTests {
    static var binary: String? {
        let candidates = [
            URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent().appendingPathComponent("kbs").path,
            Repository.path(".build/debug/kbs"),
        ]
        return candidates.first { FileManager.default.isExecutableFile(atPath: $0) }
    }

    static func run(_ arguments: [String], in directory: String? = nil) throws -> (status: Int32, out: String, err: String) {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: try #require(binary))
        process.arguments = arguments
        if let directory { process.currentDirectoryURL = URL(fileURLWithPath: directory) }
        let out = Pipe()
        let err = Pipe()
        process.standardOutput = out
        process.standardError = err
        try process.run()
        let outData = out.fileHandleForReading.readDataToEndOfFile()
        let errData = err.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        return (process.terminationStatus, String(decoding: outData, as: UTF8.self), String(decoding: errData, as: UTF8.self))
    }

    @Test(.enabled(if: binary != nil)) func typoIsReportedWithPositionAndSuggestion() throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("typo-\(UUID())").path
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: directory) }
        for file in try FileManager.default.contentsOfDirectory(atPath: Repository.path("Policies/default")) where file.hasSuffix(".json") {
            try FileManager.default.copyItem(atPath: Repository.path("Policies/default/\(file)"), toPath: directory + "/" + file)
        }
        let policy = try String(contentsOfFile: Repository.path("Policies/default/release.policy"), encoding: .utf8)
        try policy.replacingOccurrences(of: "evidence.debug ==", with: "evidence.debugg ==")
            .write(toFile: directory + "/release.policy", atomically: true, encoding: .utf8)
        let result = try Self.run(["policy", "check", directory])
        #expect(result.status == 1)
        #expect(result.err.contains("release.policy:"))
        #expect(result.err.contains("error[E0201]: `evidence` has no attribute `debugg`"))
        #expect(result.err.contains("did you mean `debug`?"))
        #expect(result.err.split(separator: "\n").last?.hasPrefix("error: policy: ") == true)
    }

    @Test(.enabled(if: binary != nil)) func exitCodes() throws {
        #expect(try Self.run(["policy", "check", Repository.path("Policies")]).status == 0)
        #expect(try Self.run(["policy", "check"]).status == 2)
        #expect(try Self.run(["policy", "frobnicate"]).status == 2)
        let eval = try Self.run([
            "policy", "eval", "--bundle", Repository.path("Policies/default"),
            "--input", Repository.path("Policies/default/examples/release-request.json"),
        ])
        #expect(eval.status == 0)
        #expect(eval.out.hasPrefix(#"{"decision":"permit""#))
        let missing = try Self.run(["policy", "eval", "--bundle", Repository.path("Policies/default"), "--input", "/nonexistent"])
        #expect(missing.status == 1)
        #expect(missing.err.hasPrefix("error: input: "))
    }
}
