import Foundation
package import KBSClaims
package import KBSPolicy

/// Runs fixture cases against bundles: one runner for `swift test` and `kbs policy test`.
package struct PolicyTestRunner: Sendable {
    /// The outcome of one case.
    package struct CaseResult: Sendable {
        package var file: String
        package var name: String
        /// Nil when it passed; otherwise why not.
        package var failure: String?
        package var passed: Bool { failure == nil }
    }

    /// The outcome of a run.
    package struct Report: Sendable {
        package var results: [CaseResult] = []
        /// Problems that stopped a bundle or case file from being used at all; each counts as a failure.
        package var problems: [String] = []
        /// Coverage per bundle, when asked for.
        package var coverage: [(bundle: String, recorder: CoverageRecorder)] = []

        package var passed: Int { results.count(where: \.passed) }
        package var failed: Int { results.count(where: { !$0.passed }) + problems.count }

        /// The closing line every runner prints: `N passed, N failed`.
        package var summary: String { "\(passed) passed, \(failed) failed" }
    }

    package var registry: ClaimSchemaRegistry

    /// Creates a runner that compiles bundles against `registry`.
    package init(registry: ClaimSchemaRegistry = .standard) {
        self.registry = registry
    }

    /// Every bundle under `root` (a folder holding `*.policy` files), including `root` itself.
    package static func bundles(under root: String) -> [String] {
        let manager = FileManager.default
        var result: [String] = []
        func visit(_ directory: String) {
            guard let entries = try? manager.contentsOfDirectory(atPath: directory) else { return }
            if entries.contains(where: { $0.hasSuffix(".policy") }) { result.append(directory) }
            for entry in entries.sorted() where entry != "tests" && !entry.hasPrefix(".") {
                var isDirectory: ObjCBool = false
                let path = directory + "/" + entry
                if manager.fileExists(atPath: path, isDirectory: &isDirectory), isDirectory.boolValue { visit(path) }
            }
        }
        visit(root.hasSuffix("/") && root.count > 1 ? String(root.dropLast()) : root)
        return result
    }

    /// The case files of a bundle (its `tests/*.json`) or in a folder, sorted.
    package static func caseFiles(in directory: String) -> [String] {
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: directory, isDirectory: &isDirectory) else { return [] }
        guard isDirectory.boolValue else { return [directory] }
        let entries = (try? FileManager.default.contentsOfDirectory(atPath: directory)) ?? []
        return entries.filter { $0.hasSuffix(".json") }.sorted().map { directory + "/" + $0 }
    }

    /// Runs the cases of every bundle under `root`.
    package func runBundles(under root: String, coverage: Bool = false) -> Report {
        var report = Report()
        let bundles = Self.bundles(under: root)
        if bundles.isEmpty { report.problems.append("\(root): no policy bundles found") }
        for bundle in bundles {
            let files = Self.caseFiles(in: bundle + "/tests")
            if files.isEmpty {
                report.problems.append("\(bundle): the bundle has no cases under tests/")
                continue
            }
            merge(run(bundle: bundle, caseFiles: files, coverage: coverage), into: &report)
        }
        return report
    }

    /// Runs the given case files against one bundle.
    package func run(bundle: String, caseFiles: [String], coverage: Bool = false) -> Report {
        var report = Report()
        let policySet: PolicySet
        switch PolicySet.load(directory: bundle, registry: registry) {
        case .success(let loaded): policySet = loaded
        case .failure(let error):
            report.problems.append("\(bundle): the bundle does not compile:\n" + DiagnosticRenderer.render(error.diagnostics))
            return report
        }
        let recorder = coverage ? CoverageRecorder(for: policySet) : nil
        for path in caseFiles {
            let file: PolicyCaseFile
            do {
                file = try PolicyCaseFile.load(path: path)
            } catch {
                report.problems.append(error.description)
                continue
            }
            for testCase in file.cases {
                let decision = policySet.decide(
                    json: testCase.inputJSON, options: .init(now: testCase.now ?? 0), coverage: recorder)
                report.results.append(CaseResult(file: path, name: testCase.name, failure: Self.check(testCase, decision)))
            }
        }
        if let recorder { report.coverage.append((bundle, recorder)) }
        return report
    }

    private func merge(_ other: Report, into report: inout Report) {
        report.results += other.results
        report.problems += other.problems
        report.coverage += other.coverage
    }

    /// Why a decision does not meet a case's expectations, or nil when it does.
    static func check(_ testCase: PolicyCaseFile.Case, _ decision: Decision) -> String? {
        var problems: [String] = []
        if decision.effect != testCase.expect {
            problems.append("expected \(testCase.expect.rawValue), got \(decision.effect.rawValue)")
        }
        if let rules = testCase.rules, Set(rules) != Set(decision.deciding.map(\.name)) {
            problems.append(
                "expected deciding rules [\(rules.joined(separator: ", "))], got [\(decision.deciding.map(\.name).joined(separator: ", "))]")
        }
        if testCase.expectError == decision.errors.isEmpty {
            problems.append(testCase.expectError ? "expected an evaluation error, got none" : "unexpected evaluation error")
        }
        if let expected = testCase.obligations {
            let actual = Dictionary(decision.obligations.map { ($0.name, $0.json) }, uniquingKeysWith: { first, _ in first })
            for (name, value) in expected.sorted(by: { $0.key < $1.key }) where actual[name] != value {
                problems.append("expected obligation \(name) = \(value), got \(actual[name] ?? "none")")
            }
        }
        guard !problems.isEmpty else { return nil }
        return problems.joined(separator: "; ") + "\n    decision: " + decision.json(explain: true)
    }
}

extension CoverageRecorder {
    /// Lines naming what the cases never exercised: rules that never matched, conditions never
    /// evaluated, never true or never false. Empty when everything was exercised.
    package func gaps() -> [String] {
        var lines: [String] = []
        for rule in rules {
            if rule.matched == 0 { lines.append("\(rule.position): rule `\(rule.name)` never matched") }
            for condition in rule.conditions where !condition.text.hasPrefix("let ") {
                let sides = (condition.trueCount > 0 ? 1 : 0) + (condition.falseCount > 0 ? 1 : 0)
                if condition.trueCount + condition.falseCount + condition.errorCount == 0 {
                    lines.append("\(condition.position): condition `\(condition.text)` of `\(rule.name)` never evaluated")
                } else if sides < 2 {
                    let missing = condition.trueCount == 0 ? "true" : "false"
                    lines.append("\(condition.position): condition `\(condition.text)` of `\(rule.name)` never \(missing)")
                }
            }
        }
        return lines
    }

    /// One summary line: rules matched and conditions seen both true and false.
    package func summary() -> String {
        let matched = rules.count(where: { $0.matched > 0 })
        let conditions = rules.flatMap(\.conditions).filter { !$0.text.hasPrefix("let ") }
        let both = conditions.count(where: { $0.trueCount > 0 && $0.falseCount > 0 })
        return "rules \(matched)/\(rules.count) matched, conditions \(both)/\(conditions.count) seen both true and false"
    }
}
