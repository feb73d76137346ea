import Foundation
import Testing

/// The Python clients' scenarios (`kms-client.py`, `vault-client.py`): each prints `{"checks": [{"name", "ok",
/// "detail"?, "trace"?}]}`; every check must have passed.
enum ClientScenario {
    /// Runs the client with `arguments` in the tests' venv; the names of its checks, each asserted to have passed.
    @discardableResult
    static func run(_ arguments: [String], sourceLocation: SourceLocation = #_sourceLocation) throws -> [String] {
        let run = try ChildProcess.run(TestVenv.python, arguments)
        let name = (arguments.first as NSString?)?.lastPathComponent ?? "client"
        #expect(run.status == 0, "\(name) \(arguments.dropFirst().first ?? "") failed: \(run.err)", sourceLocation: sourceLocation)
        let checks = try #require(try ServerProcess.object(run.out)["checks"] as? [[String: Any]], sourceLocation: sourceLocation)
        for check in checks where check["ok"] as? Bool != true {
            Issue.record("\(check["name"] ?? ""): \(check["detail"] ?? "")\n\(check["trace"] ?? "")", sourceLocation: sourceLocation)
        }
        return checks.compactMap { $0["name"] as? String }
    }
}
