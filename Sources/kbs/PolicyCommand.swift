import ArgumentParser
import Foundation
import KBSBroker
import KBSClaims
import KBSEvidence
import KBSIdentity
import KBSPolicy
import KBSPolicyTesting

/// `kbs policy …`: check, format, evaluate, test and benchmark policy bundles.
struct PolicyCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "policy",
        abstract: "Check, format, evaluate, test and benchmark policy bundles.",
        subcommands: [Check.self, Format.self, Evaluate.self, TestCases.self, Bench.self]
    )

    /// The schemas policies are checked against: the standard ones plus each verifier's, as they are added.
    static var registry: ClaimSchemaRegistry { BrokerSchemas.registry }

    static func load(_ bundle: String) throws -> PolicySet {
        switch PolicySet.load(directory: bundle, registry: registry) {
        case .success(let set): return set
        case .failure(let error):
            Console.err(DiagnosticRenderer.render(error.diagnostics))
            let count = error.diagnostics.filter { $0.severity == .error }.count
            throw Refusal(code: "policy", message: "\(bundle) does not compile (\(count) error\(count == 1 ? "" : "s"))")
        }
    }

    struct Check: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Parse and type-check every bundle under the given folders.",
            discussion: "A bundle is a folder holding *.policy files. Diagnostics go to stderr as file:line:col.")

        @Argument(help: "Bundles, or folders holding bundles.")
        var paths: [String]

        func run() throws {
            var failed: [String] = []
            var checked = 0
            for path in paths {
                let bundles = PolicyTestRunner.bundles(under: path)
                guard !bundles.isEmpty else { throw Refusal(code: "policy", message: "no policy bundles under \(path)") }
                for bundle in bundles {
                    checked += 1
                    switch PolicySet.load(directory: bundle, registry: PolicyCommand.registry) {
                    case .success(let set):
                        if !set.warnings.isEmpty { Console.err(DiagnosticRenderer.render(set.warnings)) }
                    case .failure(let error):
                        Console.err(DiagnosticRenderer.render(error.diagnostics))
                        failed.append(bundle)
                    }
                }
            }
            guard failed.isEmpty else {
                throw Refusal(
                    code: "policy",
                    message: "\(failed.count) of \(checked) bundle\(checked == 1 ? "" : "s") failed to compile: \(failed.joined(separator: ", "))")
            }
            Console.err("checked \(checked) bundle\(checked == 1 ? "" : "s"): no errors")
        }
    }

    struct Format: ParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "fmt",
            abstract: "Format policy files in place, or check that they are formatted.")

        @Flag(help: "Change nothing; fail if any file is not formatted.")
        var check = false

        @Argument(help: "Policy files, or folders searched for *.policy files.")
        var paths: [String]

        func run() throws {
            var unformatted: [String] = []
            var broken = 0
            let files = try paths.flatMap { try policyFiles(under: $0) }
            for path in files {
                guard let text = try? String(contentsOfFile: path, encoding: .utf8) else {
                    throw Refusal(code: "fmt", message: "cannot read \(path)")
                }
                switch PolicyFormatter.format(SourceFile(path: path, text: text)) {
                case .failure(let error):
                    Console.err(DiagnosticRenderer.render(error.diagnostics))
                    broken += 1
                case .success(let formatted) where formatted != text:
                    unformatted.append(path)
                    if !check {
                        do { try formatted.write(toFile: path, atomically: true, encoding: .utf8) } catch {
                            throw Refusal(code: "fmt", message: "cannot write \(path): \(error.localizedDescription)")
                        }
                    }
                case .success:
                    break
                }
            }
            if broken > 0 { throw Refusal(code: "fmt", message: "\(broken) file\(broken == 1 ? "" : "s") could not be parsed") }
            if check, !unformatted.isEmpty {
                for path in unformatted { Console.err("not formatted: \(path)") }
                throw Refusal(
                    code: "fmt",
                    message: "\(unformatted.count) file\(unformatted.count == 1 ? " is" : "s are") not formatted; run `kbs policy fmt` on them")
            }
            Console.err(
                check ? "\(files.count) file\(files.count == 1 ? "" : "s") formatted" : "formatted \(unformatted.count) of \(files.count) files")
        }

        private func policyFiles(under path: String) throws -> [String] {
            var isDirectory: ObjCBool = false
            guard FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory) else {
                throw Refusal(code: "fmt", message: "no such file or folder: \(path)")
            }
            guard isDirectory.boolValue else { return [path] }
            let enumerator = FileManager.default.enumerator(atPath: path)
            var result: [String] = []
            while let entry = enumerator?.nextObject() as? String {
                if entry.hasSuffix(".policy") { result.append(path + "/" + entry) }
            }
            return result.sorted()
        }
    }

    struct Evaluate: ParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "eval",
            abstract: "Decide one request and print the decision as JSON.",
            discussion: "Exits 0 on permit and 1 on deny.")

        @Option(help: "The bundle folder.")
        var bundle: String

        @Option(help: "A file holding the request input as a JSON object ('-' for stdin).")
        var input: String

        @Flag(help: "Include the deciding rules with positions, and for a deny the failing conditions.")
        var explain = false

        @Option(help: "The request time (RFC 3339) that now() returns; defaults to the current time.")
        var now: String?

        func run() throws {
            let set = try PolicyCommand.load(bundle)
            let data: Data?
            if input == "-" { data = FileHandle.standardInput.readDataToEndOfFile() } else { data = FileManager.default.contents(atPath: input) }
            guard let data else { throw Refusal(code: "input", message: "cannot read \(input)") }
            var time = Int64(Date().timeIntervalSince1970 * 1e9)
            if let now {
                guard let parsed = Timestamp.nanoseconds(fromRFC3339: now) else {
                    throw ValidationError("--now must be an RFC 3339 time such as 2026-01-31T12:00:00Z")
                }
                time = parsed
            }
            let decision = set.decide(json: [UInt8](data), options: .init(now: time))
            Console.out(decision.json(explain: explain))
            guard decision.isPermitted else {
                let reason =
                    decision.errors.first?.message
                    ?? decision.deciding.first.map { "forbidden by `\($0.name)`" }
                    ?? decision.failures.first.map { "`\($0.rule)` requires `\($0.condition)`" }
                    ?? "no rule permits the request"
                throw Refusal(code: "deny", message: reason)
            }
        }
    }

    struct TestCases: ParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "test",
            abstract: "Run fixture cases: each bundle's tests/*.json, or the given cases against --bundle.")

        @Argument(help: "A folder of bundles, or with --bundle a case file or folder of case files.")
        var path: String

        @Option(help: "Run the cases at PATH against this bundle.")
        var bundle: String?

        @Flag(help: "Report rules that never matched and conditions never seen true or false.")
        var coverage = false

        @Flag(help: "Print every case, not only failures.")
        var verbose = false

        func run() throws {
            let runner = PolicyTestRunner(registry: PolicyCommand.registry)
            let report: PolicyTestRunner.Report
            if let bundle {
                let files = PolicyTestRunner.caseFiles(in: path)
                guard !files.isEmpty else { throw Refusal(code: "test", message: "no case files at \(path)") }
                report = runner.run(bundle: bundle, caseFiles: files, coverage: coverage)
            } else {
                report = runner.runBundles(under: path, coverage: coverage)
            }
            for problem in report.problems { Console.out("FAIL \(problem)") }
            for result in report.results {
                if let failure = result.failure {
                    Console.out("FAIL \(result.file): \(result.name)\n    \(failure)")
                } else if verbose {
                    Console.out("ok   \(result.file): \(result.name)")
                }
            }
            for (bundle, recorder) in report.coverage {
                Console.out("coverage \(bundle): \(recorder.summary())")
                for gap in recorder.gaps() { Console.out("  \(gap)") }
            }
            Console.out(report.summary)
            if report.failed > 0 { throw Refusal(code: "test", message: "\(report.failed) case\(report.failed == 1 ? "" : "s") failed") }
        }
    }

    struct Bench: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Time decisions over JSON-lines inputs and print one JSON summary.",
            discussion: "Each decision is timed from the input's JSON bytes to its decision, on one thread.")

        @Option(help: "The bundle folder.")
        var bundle: String

        @Option(help: "Inputs, one JSON object per line.")
        var inputs: String

        @Option(help: "Expected decisions: a JSON array of booleans, one per input.")
        var expected: String?

        @Option(help: "Timed passes over all inputs; the median pass is reported.")
        var passes = 3

        @Option(help: "Untimed decisions before timing.")
        var warmup = 2000

        func run() throws {
            guard passes >= 1, warmup >= 0 else { throw ValidationError("--passes must be at least 1 and --warmup at least 0") }
            let set = try PolicyCommand.load(bundle)
            do {
                let lines = try PolicyBench.loadInputs(path: inputs)
                let expectedDecisions = try expected.map { try PolicyBench.loadExpected(path: $0, count: lines.count) }
                let result = PolicyBench.run(policySet: set, inputs: lines, expected: expectedDecisions, passes: passes, warmup: warmup)
                Console.out(result.json)
                if result.mismatches > 0 {
                    throw Refusal(code: "bench", message: "\(result.mismatches) decisions differ from \(expected ?? "the expected ones")")
                }
            } catch let failure as PolicyBench.Failure {
                throw Refusal(code: "bench", message: failure.description)
            }
        }
    }
}
