import Foundation
import KBSPolicyTesting
import Testing

/// Entities and roles through the admin API, and their survival across `kill -9`.
struct AdminAPITests {
    static let summerEmail = "summer@the-smiths.com"
    static let newcomer = "CiRuZXdjb21lcg"

    static func decision(_ server: ServerProcess, _ body: String) async throws -> Bool? {
        try ServerProcess.object(try await server.request("POST", "/access/v1/evaluation", body: body).body)["decision"] as? Bool
    }

    @Test func writesSurviveKillNine() async throws {
        let data = ServerProcess.temporaryDirectory("kbs-data")
        let policies = RepositoryPaths.path("Policies/authzen-todo")
        let create = Todo.request(subject: Self.newcomer, action: "can_create_todo")
        do {
            let server = try ServerProcess(policies: policies, dataDirectory: data)
            #expect(try await Self.decision(server, create) == false)
            let made = try await server.request(
                "POST", "/kbs/v1/entities",
                body: #"{"type":"User","id":"\#(Self.newcomer)","attributes":{"email":"new@example.com","name":"New"},"roles":["editor"]}"#,
                admin: true)
            #expect(made.status == 201, "\(made.body)")
            #expect(try await Self.decision(server, create) == true)
            // Beth is promoted through the roles endpoint.
            let promoted = try await server.request("POST", "/kbs/v1/entities/User/\(Todo.beth)/roles", body: #"{"role":"editor"}"#, admin: true)
            #expect(promoted.status == 200, "\(promoted.body)")
            server.kill9()
        }
        let restarted = try ServerProcess(policies: policies, dataDirectory: data)
        defer { restarted.stop() }
        #expect(try await Self.decision(restarted, create) == true)
        #expect(try await Self.decision(restarted, Todo.request(subject: Todo.beth, action: "can_create_todo")) == true)
        let entity = try await restarted.request("GET", "/kbs/v1/entities/User/\(Self.newcomer)", admin: true)
        #expect(entity.status == 200)
        #expect(try ServerProcess.object(entity.body)["source"] as? String == "admin")
    }

    @Test func entityAndRoleLifecycle() async throws {
        let server = try ServerProcess(policies: RepositoryPaths.path("Policies/authzen-todo"))
        defer { server.stop() }
        // The bundle's users were imported into the store.
        let listed = try await server.request("GET", "/kbs/v1/entities?type=User&limit=2", admin: true)
        let page = try ServerProcess.object(listed.body)
        #expect((page["entities"] as? [Any])?.count == 2)
        let next = try #require(page["next"] as? [String: String])
        let rest = try await server.request("GET", "/kbs/v1/entities?type=User&after_id=\(next["after_id"]!)", admin: true)
        #expect((try ServerProcess.object(rest.body)["entities"] as? [Any])?.count == 3)

        // What the bundle provides changes in the bundle: the API refuses, rather than be undone by the next import.
        let rick = "CiRmZDA2MTRkMy1jMzlhLTQ3ODEtYjdiZC04Yjk2ZjVhNTEwMGQSBWxvY2Fs"
        let refused = try await server.request("DELETE", "/kbs/v1/entities/User/\(rick)/roles?role=evil_genius", admin: true)
        #expect(refused.status == 409)
        #expect(try ServerProcess.errorCode(refused.body) == "bundle_owned")
        #expect(try await server.request("DELETE", "/kbs/v1/entities/User/\(rick)", admin: true).status == 409)
        #expect(
            try await server.request(
                "POST", "/kbs/v1/entities",
                body: #"{"type":"User","id":"\#(rick)","attributes":{"email":"x@example.com","name":"X"}}"#, admin: true
            ).status == 409)

        // Ids with slashes travel percent-encoded.
        let spiffe = "spiffe://hanzo.example/todo"
        let encoded = spiffe.addingPercentEncoding(withAllowedCharacters: .alphanumerics)!
        let made = try await server.request(
            "POST", "/kbs/v1/entities",
            body: #"{"type":"User","id":"\#(spiffe)","attributes":{"email":"svc@example.com","name":"Service"}}"#, admin: true)
        #expect(made.status == 201)
        let again = try await server.request(
            "POST", "/kbs/v1/entities",
            body: #"{"type":"User","id":"\#(spiffe)","attributes":{"email":"svc@example.com","name":"Service 2"}}"#, admin: true)
        #expect(again.status == 200)
        let fetched = try ServerProcess.object(try await server.request("GET", "/kbs/v1/entities/User/\(encoded)", admin: true).body)
        #expect((fetched["attributes"] as? [String: String])?["name"] == "Service 2")

        let granted = try await server.request(
            "POST", "/kbs/v1/entities/User/\(encoded)/roles",
            body: #"{"role":"editor","scope":"todos/**"}"#, admin: true)
        #expect(granted.status == 200)
        let roles = try ServerProcess.object(try await server.request("GET", "/kbs/v1/entities/User/\(encoded)/roles", admin: true).body)
        #expect((roles["roles"] as? [[String: String]]) == [["role": "editor", "scope": "todos/**"]])
        #expect(try await server.request("DELETE", "/kbs/v1/entities/User/\(encoded)/roles?role=editor", admin: true).status == 404)
        #expect(try await server.request("DELETE", "/kbs/v1/entities/User/\(encoded)/roles?role=editor&scope=todos%2F**", admin: true).status == 204)
        #expect(try await server.request("DELETE", "/kbs/v1/entities/User/\(encoded)", admin: true).status == 204)
        #expect(try await server.request("GET", "/kbs/v1/entities/User/\(encoded)", admin: true).status == 404)

        // A role granted and revoked through the API takes effect on the next decision.
        let update = Todo.request(subject: "summer", action: "can_update_todo", owner: "summer@the-citadel.com")
        #expect(try await Self.decision(server, update) == false)
        #expect(
            try await server.request(
                "POST", "/kbs/v1/entities",
                body: #"{"type":"User","id":"summer","attributes":{"email":"summer@the-citadel.com","name":"Summer"},"roles":["editor"]}"#,
                admin: true
            ).status == 201)
        #expect(try await Self.decision(server, update) == true)
        #expect(try await server.request("DELETE", "/kbs/v1/entities/User/summer/roles?role=editor", admin: true).status == 204)
        #expect(try await Self.decision(server, update) == false)

        // Explain names the failing condition; it is not a decision, so it is not logged.
        let explained = try ServerProcess.object(try await server.request("POST", "/kbs/v1/explain", body: update, admin: true).body)
        #expect(explained["decision"] as? String == "deny")
        #expect((explained["failures"] as? [Any])?.isEmpty == false)
    }

    @Test func evaluationsSemanticsAndDiscovery() async throws {
        let server = try ServerProcess(policies: RepositoryPaths.path("Policies/authzen-todo"), arguments: ["--public-url", "https://pdp.example"])
        defer { server.stop() }
        let items = #"[{"action":{"name":"can_read_todos"}},{"action":{"name":"can_create_todo"}},{"action":{"name":"can_read_user"}}]"#
        func run(_ semantic: String?) async throws -> [Bool?] {
            let options = semantic.map { #","options":{"evaluations_semantic":"\#($0)"}"# } ?? ""
            let body = #"{"subject":{"type":"user","id":"\#(Todo.beth)"},"resource":{"type":"todo","id":"1"},"evaluations":\#(items)\#(options)}"#
            let response = try await server.request("POST", "/access/v1/evaluations", body: body, headers: ["X-Request-ID": "req-42"])
            #expect(response.headers["x-request-id"] == "req-42")
            return try #require(try ServerProcess.object(response.body)["evaluations"] as? [[String: Any]]).map { $0["decision"] as? Bool }
        }
        #expect(try await run(nil) == [true, false, true])
        #expect(try await run("execute_all") == [true, false, true])
        #expect(try await run("deny_on_first_deny") == [true, false])
        #expect(try await run("permit_on_first_permit") == [true])

        let metadata = try ServerProcess.object(try await server.request("GET", "/.well-known/authzen-configuration").body)
        #expect(metadata["policy_decision_point"] as? String == "https://pdp.example")
        #expect(metadata["access_evaluation_endpoint"] as? String == "https://pdp.example/access/v1/evaluation")
        #expect(metadata["access_evaluations_endpoint"] as? String == "https://pdp.example/access/v1/evaluations")
        #expect(try await server.request("GET", "/readyz").status == 200)
    }

    @Test func aGeneratedAdminTokenIsPrivateAndStable() async throws {
        let data = ServerProcess.temporaryDirectory("kbs-data")
        let policies = RepositoryPaths.path("Policies/authzen-todo")
        let first = try ServerProcess(policies: policies, dataDirectory: data, token: nil)
        first.stop()
        let path = data + "/admin-token"
        let attributes = try FileManager.default.attributesOfItem(atPath: path)
        #expect((attributes[.posixPermissions] as? Int) == 0o600)
        let token = try String(contentsOfFile: path, encoding: .utf8).trimmingCharacters(in: .whitespacesAndNewlines)
        #expect(token.count == 64)
        let second = try ServerProcess(policies: policies, dataDirectory: data, token: nil)
        defer { second.stop() }
        let listed = try await second.request("GET", "/kbs/v1/entities", headers: ["Authorization": "Bearer \(token)"])
        #expect(listed.status == 200)
        #expect(try String(contentsOfFile: path, encoding: .utf8).contains(token))
    }

    @Test func anAdminTokenFileOthersCanReadIsRefused() throws {
        let data = ServerProcess.temporaryDirectory("kbs-data")
        let path = data + "/admin-token"
        _ = FileManager.default.createFile(
            atPath: path, contents: Data("a-token-that-leaked-0123456789\n".utf8),
            attributes: [.posixPermissions: 0o644])
        do {
            let server = try ServerProcess(policies: RepositoryPaths.path("Policies/authzen-todo"), dataDirectory: data, token: nil)
            server.stop()
            Issue.record("the server started with a world-readable admin token")
        } catch {
            #expect("\(error)".contains("chmod 600"), "\(error)")
            #expect(!"\(error)".contains("a-token-that-leaked"))
        }
    }
}
