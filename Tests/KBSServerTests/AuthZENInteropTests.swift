import Foundation
import KBSPolicyTesting
import Testing

/// The AuthZEN working group's Todo interop decisions, over real HTTP against `kbs serve`.
struct AuthZENInteropTests {
    static let fixture = RepositoryPaths.path("Fixtures/authzen/todo-decisions-1_0-02.json")

    @Test
    func allTodoDecisionsAsExpected() async throws {
        let data = try Data(contentsOf: URL(fileURLWithPath: Self.fixture))
        let document = try #require(try JSONSerialization.jsonObject(with: data) as? [String: Any])
        let single = try #require(document["evaluation"] as? [[String: Any]])
        let batch = try #require(document["evaluations"] as? [[String: Any]])
        #expect(single.count == 40)
        #expect(batch.count == 3)

        let server = try ServerProcess(policies: RepositoryPaths.path("Policies/authzen-todo"))
        defer { server.stop() }
        var answered = 0
        for (index, entry) in single.enumerated() {
            let body = String(decoding: try JSONSerialization.data(withJSONObject: try #require(entry["request"])), as: UTF8.self)
            let expected = try #require(entry["expected"] as? Bool)
            let response = try await server.request("POST", "/access/v1/evaluation", body: body)
            #expect(response.status == 200, "evaluation \(index): \(response.body)")
            let decision = try ServerProcess.object(response.body)["decision"] as? Bool
            #expect(decision == expected, "evaluation \(index): \(body) → \(response.body)")
            if decision == expected { answered += 1 }
        }
        for (index, entry) in batch.enumerated() {
            let body = String(decoding: try JSONSerialization.data(withJSONObject: try #require(entry["request"])), as: UTF8.self)
            let expected = try #require(entry["expected"] as? [[String: Any]]).map { $0["decision"] as? Bool }
            let response = try await server.request("POST", "/access/v1/evaluations", body: body)
            #expect(response.status == 200, "evaluations \(index): \(response.body)")
            let results = try #require(try ServerProcess.object(response.body)["evaluations"] as? [[String: Any]])
            let decisions = results.map { $0["decision"] as? Bool }
            #expect(decisions == expected, "evaluations \(index): \(body) → \(response.body)")
            if decisions == expected { answered += 1 }
        }
        #expect(answered == 43)

        // Every decision went to the decision log, each line naming the policy that made it.
        let hash = try #require(try ServerProcess.object(try await server.request("GET", "/readyz").body)["policy"] as? String)
        let expectedLines = 40 + 2 + 2 + 2
        func logged() -> [Substring] {
            ((try? String(contentsOfFile: server.dataDirectory + "/decisions.log", encoding: .utf8)) ?? "").split(separator: "\n")
        }
        // The log is written in the background within milliseconds.
        #expect(try await ServerProcess.eventually(seconds: 5) { logged().count == expectedLines })
        let lines = logged()
        for line in lines {
            let entry = try ServerProcess.object(String(line))
            #expect(entry["policy"] as? String == hash)
            #expect(entry["decision"] is Bool)
        }
    }
}
