import Foundation
import KBSPolicyTesting
import Testing

/// Bad input gets a JSON error with the right status, and the server keeps serving.
struct BadInputTests {
    static func expectError(
        _ response: (status: Int, body: String, headers: [String: String]), _ status: Int, _ code: String,
        sourceLocation: SourceLocation = #_sourceLocation
    ) throws {
        #expect(response.status == status, "\(response.body)", sourceLocation: sourceLocation)
        let error = try ServerProcess.object(response.body)["error"] as? [String: Any]
        #expect(error?["code"] as? String == code, "\(response.body)", sourceLocation: sourceLocation)
        #expect((error?["message"] as? String)?.isEmpty == false, sourceLocation: sourceLocation)
        #expect(response.headers["content-type"] == "application/json", sourceLocation: sourceLocation)
    }

    @Test func eachKindOfBadInputIsRefusedAndTheServerStaysUp() async throws {
        let server = try ServerProcess(policies: RepositoryPaths.path("Policies/authzen-todo"), arguments: ["--max-body-bytes", "4096"])
        defer { server.stop() }
        let evaluation = "/access/v1/evaluation"

        // Malformed JSON.
        for body in ["", "{", "{\"subject\":", "nul", "{\"a\":1}}", "[1,2", "\u{1}", String(repeating: "[", count: 100)] {
            try Self.expectError(try await server.request("POST", evaluation, body: body), 400, "invalid_json")
        }
        // Valid JSON of the wrong shape or types.
        let wrong = [
            "[]", "42", "\"text\"",
            #"{"subject":"rick","action":{"name":"a"},"resource":{"type":"t","id":"1"}}"#,
            #"{"subject":{"type":"user","id":7},"action":{"name":"a"},"resource":{"type":"t","id":"1"}}"#,
            #"{"subject":{"type":"user","id":"x"},"action":{"name":["a"]},"resource":{"type":"t","id":"1"}}"#,
            #"{"subject":{"type":"user","id":"x"},"action":{"name":"a"},"resource":{"type":"t","id":"1","properties":[]}}"#,
            #"{"subject":{"type":"user","id":"x"},"action":{"name":"a"},"resource":{"type":"t","id":"1"},"context":5}"#,
            #"{"subject":{"type":"user","id":""},"action":{"name":"a"},"resource":{"type":"t","id":"1"}}"#,
        ]
        for body in wrong {
            try Self.expectError(try await server.request("POST", evaluation, body: body), 400, "invalid_request")
        }
        // Missing members.
        let missing = [
            "{}",
            #"{"action":{"name":"a"},"resource":{"type":"t","id":"1"}}"#,
            #"{"subject":{"type":"user","id":"x"},"resource":{"type":"t","id":"1"}}"#,
            #"{"subject":{"type":"user","id":"x"},"action":{"name":"a"}}"#,
            #"{"subject":{"id":"x"},"action":{"name":"a"},"resource":{"type":"t","id":"1"}}"#,
            #"{"subject":{"type":"user","id":"x"},"action":{},"resource":{"type":"t","id":"1"}}"#,
        ]
        for body in missing {
            try Self.expectError(try await server.request("POST", evaluation, body: body), 400, "invalid_request")
        }
        // Identifiers go into every log line, so they are bounded: ids at 1024 bytes, types and names at 256.
        let longID = String(repeating: "x", count: 1025)
        let longName = String(repeating: "n", count: 257)
        for body in [
            #"{"subject":{"type":"user","id":"\#(longID)"},"action":{"name":"a"},"resource":{"type":"t","id":"1"}}"#,
            #"{"subject":{"type":"user","id":"x"},"action":{"name":"\#(longName)"},"resource":{"type":"t","id":"1"}}"#,
            #"{"subject":{"type":"user","id":"x"},"action":{"name":"a"},"resource":{"type":"\#(longName)","id":"1"}}"#,
        ] {
            try Self.expectError(try await server.request("POST", evaluation, body: body), 400, "invalid_request")
            try Self.expectError(try await server.request("POST", "/access/v1/evaluations", body: body), 400, "invalid_request")
        }
        let fits = #"{"subject":{"type":"user","id":"\#(longID.dropLast())"},"action":{"name":"a"},"resource":{"type":"t","id":"1"}}"#
        #expect(try await server.request("POST", evaluation, body: fits).status == 200)
        try Self.expectError(
            try await server.request("POST", evaluation, body: fits, headers: ["X-Request-ID": String(repeating: "r", count: 129)]),
            400, "invalid_request")
        // The batch endpoint: bad options and shapes are errors for the whole payload…
        let subject = #""subject":{"type":"user","id":"x"},"action":{"name":"can_read_user"}"#
        for body in [
            "{\(subject),\"evaluations\":{}}", "{\(subject),\"evaluations\":[1]}",
            "{\(subject),\"options\":{\"evaluations_semantic\":\"all\"},\"evaluations\":[]}", "{\(subject),\"options\":[]}",
        ] {
            try Self.expectError(try await server.request("POST", "/access/v1/evaluations", body: body), 400, "invalid_request")
        }
        // …while an entry missing its resource is denied on its own, with the reason.
        let partial = try await server.request(
            "POST", "/access/v1/evaluations",
            body: "{\(subject),\"evaluations\":[{\"resource\":{\"type\":\"user\",\"id\":\"u\"}},{}]}")
        #expect(partial.status == 200)
        let entries = try #require(try ServerProcess.object(partial.body)["evaluations"] as? [[String: Any]])
        #expect(entries.map { $0["decision"] as? Bool } == [true, false])
        #expect(partial.body.contains("missing required member `evaluations[1].resource`"))

        // Too large.
        let large = "{\"subject\":{\"type\":\"user\",\"id\":\"" + String(repeating: "x", count: 8192) + "\"}}"
        try Self.expectError(try await server.request("POST", evaluation, body: large), 413, "body_too_large")
        // Unknown routes and methods.
        try Self.expectError(try await server.request("GET", "/access/v1/nothing"), 404, "not_found")
        try Self.expectError(try await server.request("GET", evaluation), 404, "not_found")
        try Self.expectError(try await server.request("DELETE", "/healthz"), 404, "not_found")
        // The admin API without, or with a wrong, token.
        try Self.expectError(try await server.request("GET", "/kbs/v1/entities"), 401, "unauthorized")
        try Self.expectError(try await server.request("GET", "/kbs/v1/entities", headers: ["Authorization": "Bearer wrong"]), 401, "unauthorized")
        try Self.expectError(try await server.request("GET", "/kbs/v1/entities", headers: ["Authorization": "Basic eDp5"]), 401, "unauthorized")
        // Admin bodies.
        try Self.expectError(try await server.request("POST", "/kbs/v1/entities", body: "{", admin: true), 400, "invalid_json")
        try Self.expectError(try await server.request("POST", "/kbs/v1/entities", body: #"{"type":"User"}"#, admin: true), 400, "invalid_request")
        try Self.expectError(
            try await server.request(
                "POST", "/kbs/v1/entities",
                body: #"{"type":"User","id":"u","attributes":{"email":1,"name":"n"}}"#, admin: true), 400, "invalid_entity")
        try Self.expectError(
            try await server.request(
                "POST", "/kbs/v1/entities",
                body: #"{"type":"Usr","id":"u","attributes":{}}"#, admin: true), 400, "invalid_entity")
        try Self.expectError(try await server.request("GET", "/kbs/v1/entities?limit=0", admin: true), 400, "invalid_request")
        try Self.expectError(try await server.request("GET", "/kbs/v1/entities/User/nobody", admin: true), 404, "not_found")

        // Concurrent requests, good and bad together, all answered.
        let good = Todo.request(subject: Todo.morty, action: "can_create_todo")
        let statuses = try await withThrowingTaskGroup(of: Int.self) { group in
            for index in 0..<200 {
                group.addTask {
                    try await server.request("POST", evaluation, body: index % 3 == 0 ? "{" : good).status
                }
            }
            return try await group.reduce(into: [Int]()) { $0.append($1) }
        }
        #expect(statuses.filter { $0 == 200 }.count == 133)
        #expect(statuses.filter { $0 == 400 }.count == 67)

        let health = try await server.request("GET", "/healthz")
        #expect(health.status == 200)
        #expect(server.process.isRunning)
    }
}

/// A decision log that cannot be written is loud: failures are counted and logged, and once its queue is full
/// decisions are refused rather than given unlogged.
struct DecisionLogFailureTests {
    @Test func anUnwritableLogRefusesDecisionsInsteadOfDroppingThem() async throws {
        let server = try ServerProcess(
            policies: RepositoryPaths.path("Policies/authzen-todo"),
            arguments: ["--decision-log", "/dev/full", "--decision-log-queue-bytes", "4096"])
        defer { server.stop() }
        let body = Todo.request(subject: Todo.morty, action: "can_create_todo")
        var statuses: [Int] = []
        for _ in 0..<40 { statuses.append(try await server.request("POST", "/access/v1/evaluation", body: body).status) }
        #expect(statuses.first == 200)
        #expect(statuses.last == 503)
        let refused = try await server.request("POST", "/access/v1/evaluation", body: body)
        try BadInputTests.expectError(refused, 503, "decision_log_unavailable")
        #expect(try await ServerProcess.eventually { server.stderr.contains("decision log write failed") })
        let metrics = try await server.request("GET", "/metrics").body
        #expect(metrics.contains("kbs_decision_log_write_failures_total "))
        #expect(!metrics.contains("kbs_decision_log_write_failures_total 0\n"))
        #expect(!metrics.contains("kbs_decision_log_refused_total 0\n"))
        #expect(try await server.request("GET", "/healthz").status == 200)
    }
}
