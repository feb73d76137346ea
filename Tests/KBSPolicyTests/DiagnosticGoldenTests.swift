import Foundation
import KBSPolicyTesting
import Testing

@testable import KBSClaims
@testable import KBSPolicy

/// One golden case: `Fixtures/diagnostics/NAME.policy` and the exact rendered diagnostics in `NAME.expected.txt`.
struct GoldenCase: CustomTestStringConvertible, Sendable {
    var name: String
    var testDescription: String { name }

    static var all: [GoldenCase] {
        let folder = Repository.path("Fixtures/diagnostics")
        let files = (try? FileManager.default.contentsOfDirectory(atPath: folder)) ?? []
        return files.filter { $0.hasSuffix(".policy") }.sorted().map { GoldenCase(name: String($0.dropLast(7))) }
    }
}

struct DiagnosticGoldenTests {
    @Test("golden diagnostics", arguments: GoldenCase.all)
    func golden(_ golden: GoldenCase) throws {
        let folder = Repository.path("Fixtures/diagnostics")
        let text = try String(contentsOfFile: "\(folder)/\(golden.name).policy", encoding: .utf8)
        let expected = try String(contentsOfFile: "\(folder)/\(golden.name).expected.txt", encoding: .utf8)
        let source = SourceFile(path: "Fixtures/diagnostics/\(golden.name).policy", text: text)
        let result = PolicySet.compile(sources: [source], directory: folder, registry: .standard, extraDiagnostics: [], hashInput: [])
        guard case .failure(let error) = result else {
            Issue.record("expected diagnostics for \(golden.name)")
            return
        }
        #expect(DiagnosticRenderer.render(error.diagnostics) == expected)
    }

    @Test func goldenFilesExist() {
        #expect(GoldenCase.all.count >= 5)
    }

    @Test func diagnosticsAreSortedAndAllReported() throws {
        let result = compile(
            """
            input { a: int }
            permit x when {
              b == 1
              a == "s"
              c == 2
            }
            """)
        guard case .failure(let error) = result else {
            Issue.record("expected errors")
            return
        }
        let lines = error.diagnostics.map(\.headline)
        #expect(lines.count == 3)
        #expect(lines == lines.sorted { $0.localizedStandardCompare($1) == .orderedAscending })
    }

    @Test func suggestionNeedsCloseSpelling() {
        #expect(Suggestion.closest(to: "debugg", in: ["debug", "kind"]) == "debug")
        #expect(Suggestion.closest(to: "zzzz", in: ["debug", "kind"]) == nil)
    }
}
