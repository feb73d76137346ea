import Foundation
import KBSPolicyTesting
import Testing

/// Policy edits are picked up without a restart; a broken edit keeps the last good policy serving.
struct HotReloadTests {
    static func decision(_ server: ServerProcess, _ body: String) async throws -> Bool? {
        let response = try await server.request("POST", "/access/v1/evaluation", body: body)
        return try ServerProcess.object(response.body)["decision"] as? Bool
    }

    /// Whether `/metrics` has the sample `name` (with its labels) at `value`.
    static func metric(_ server: ServerProcess, _ sample: String) async throws -> Bool {
        let (name, value) = (sample.split(separator: " ")[0], Double(sample.split(separator: " ")[1])!)
        return try await server.request("GET", "/metrics").body.split(separator: "\n").contains { line in
            let parts = line.split(separator: " ")
            return parts.count == 2 && parts[0] == name && Double(parts[1]) == value
        }
    }

    @Test func editsAreServedAndBrokenEditsAreReported() async throws {
        let bundle = try ServerProcess.copyOfBundle("Policies/authzen-todo")
        let server = try ServerProcess(policies: bundle)
        defer { server.stop() }
        let create = Todo.request(subject: Todo.beth, action: "can_create_todo")
        #expect(try await Self.decision(server, create) == false)

        // Let viewers create todos too.
        let path = bundle + "/todo.policy"
        let original = try String(contentsOfFile: path, encoding: .utf8)
        let edited = original.replacingOccurrences(
            of: #"role in {"editor", "admin", "evil_genius"}"#,
            with: #"role in {"viewer", "editor", "admin", "evil_genius"}"#)
        #expect(edited != original)
        try edited.write(toFile: path, atomically: true, encoding: .utf8)
        #expect(try await ServerProcess.eventually { try await Self.decision(server, create) == true })
        #expect(try await ServerProcess.eventually { try await Self.metric(server, #"kbs_policy_reloads_total{result="ok"} 1"#) })

        // A typo: the server keeps deciding with the edited (last good) policy and says why.
        try edited.replacingOccurrences(of: "action.name == \"can_create_todo\"", with: "action.nmae == \"can_create_todo\"")
            .write(toFile: path, atomically: true, encoding: .utf8)
        #expect(try await ServerProcess.eventually { try await Self.metric(server, #"kbs_policy_reloads_total{result="failed"} 1"#) })
        #expect(try await Self.metric(server, "kbs_policy_reload_failing 1"))
        #expect(try await Self.decision(server, create) == true)
        #expect(server.stderr.contains("policy reload failed"))
        #expect(server.stderr.contains("E0201"))
        let status = try await server.request("GET", "/kbs/v1/policy", admin: true)
        #expect(try ServerProcess.object(status.body)["reload_error"] as? String != nil)

        // Fixing it clears the failure.
        try original.write(toFile: path, atomically: true, encoding: .utf8)
        #expect(try await ServerProcess.eventually { try await Self.metric(server, "kbs_policy_reload_failing 0") })
        #expect(try await Self.decision(server, create) == false)
    }

    @Test func sighupAndTheAdminAPIReloadWithoutWatching() async throws {
        let bundle = try ServerProcess.copyOfBundle("Policies/authzen-todo")
        let server = try ServerProcess(policies: bundle, arguments: ["--reload-interval-ms", "0"])
        defer { server.stop() }
        let read = Todo.request(subject: "someone-else", action: "can_read_user")
        #expect(try await Self.decision(server, read) == true)

        let path = bundle + "/todo.policy"
        let original = try String(contentsOfFile: path, encoding: .utf8)
        try original.replacingOccurrences(of: "action.name == \"can_read_user\"", with: "action.name == \"can_read_user\"\n  known_user")
            .write(toFile: path, atomically: true, encoding: .utf8)
        try await Task.sleep(for: .milliseconds(500))
        #expect(try await Self.decision(server, read) == true, "nothing watches the folder, so nothing changed yet")
        server.signal(SIGHUP)
        #expect(try await ServerProcess.eventually { try await Self.decision(server, read) == false })

        try original.write(toFile: path, atomically: true, encoding: .utf8)
        let reload = try await server.request("POST", "/kbs/v1/reload", admin: true)
        #expect(reload.status == 200)
        #expect(try ServerProcess.object(reload.body)["status"] as? String == "loaded")
        #expect(try await Self.decision(server, read) == true)

        try "permit broken when { nope }".write(toFile: bundle + "/broken.policy", atomically: true, encoding: .utf8)
        let failed = try await server.request("POST", "/kbs/v1/reload", admin: true)
        #expect(failed.status == 422)
        #expect(failed.body.contains("policy_invalid"))
        #expect(try await Self.decision(server, read) == true)
    }
}
