import Foundation
import KBSPolicyTesting
import Testing

@testable import KBSPolicy

struct FormatterTests {
    static var policyFiles: [String] {
        var files: [String] = []
        for folder in ["Policies", "Fixtures"] {
            let enumerator = FileManager.default.enumerator(atPath: Repository.path(folder))
            while let entry = enumerator?.nextObject() as? String {
                if entry.hasSuffix(".policy") { files.append(folder + "/" + entry) }
            }
        }
        return files.sorted()
    }

    @Test("formatting is idempotent and keeps every comment", arguments: policyFiles)
    func idempotent(_ path: String) throws {
        let text = try String(contentsOfFile: Repository.path(path), encoding: .utf8)
        guard case .success(let once) = PolicyFormatter.format(SourceFile(path: path, text: text)) else {
            // Golden files with syntax errors cannot be formatted; that is what they test.
            #expect(path.contains("diagnostics/syntax-errors"))
            return
        }
        guard case .success(let twice) = PolicyFormatter.format(SourceFile(path: path, text: once)) else {
            Issue.record("formatted text of \(path) does not parse")
            return
        }
        #expect(once == twice)
        let comments = text.split(separator: "\n").compactMap { line -> String? in
            guard let range = line.range(of: "//") else { return nil }
            return String(line[range.lowerBound...]).trimmingCharacters(in: .whitespaces)
        }
        for comment in comments { #expect(once.contains(comment), "lost comment \(comment)") }
    }

    @Test func canonicalLayout() throws {
        let messy = "input{a:int,b?:  string}\npermit   x when{a==1;  has b and b==\"x\"  // why\n}with{ttl=5m}"
        guard case .success(let formatted) = PolicyFormatter.format(SourceFile(path: "m.policy", text: messy)) else {
            Issue.record("should format")
            return
        }
        #expect(
            formatted == """
                input {
                  a: int
                  b?: string
                }

                permit x when {
                  a == 1
                  has b and b == "x" // why
                } with {
                  ttl = 5m
                }

                """)
    }
}
