import Foundation
import KBSPolicyTesting
import Testing

/// `/kbs/v1/keys`: the key hierarchy through the admin API, every change audited and counted.
struct KeyAdminAPITests {
    @Test("create, list, rotate, disable, enable, schedule and cancel deletion; refusals map to 4xx; metrics count operations")
    func lifecycle() async throws {
        let server = try ServerProcess(policies: RepositoryPaths.path("Policies/default"))
        defer { server.stop() }
        #expect(try await server.request("GET", "/kbs/v1/keys").status == 401)

        let kek = try await server.request("POST", "/kbs/v1/keys", body: #"{"id":"team-kek","required_tier":2,"labels":{"team":"a"}}"#, admin: true)
        #expect(kek.status == 201, "\(kek.body)")
        #expect(try ServerProcess.object(kek.body)["kind"] as? String == "kek")
        let dek = try await server.request("POST", "/kbs/v1/keys", body: #"{"id":"team-dek","parent":"team-kek"}"#, admin: true)
        #expect(try ServerProcess.object(dek.body)["parent"] as? String == "team-kek")
        let duplicate = try await server.request("POST", "/kbs/v1/keys", body: #"{"id":"team-kek"}"#, admin: true)
        #expect(duplicate.status == 409)
        #expect(try await server.request("POST", "/kbs/v1/keys", body: #"{"id":"x","colour":"red"}"#, admin: true).status == 400)

        let rotated = try await server.request("POST", "/kbs/v1/keys/team-dek/rotate", admin: true)
        #expect(try ServerProcess.object(rotated.body)["current_version"] as? Int == 2)
        let disabled = try await server.request("POST", "/kbs/v1/keys/team-dek/disable", admin: true)
        #expect(try ServerProcess.object(disabled.body)["state"] as? String == "disabled")
        #expect(try await server.request("POST", "/kbs/v1/keys/team-dek/rotate", admin: true).status == 409, "a disabled key does not rotate")
        #expect(try await server.request("POST", "/kbs/v1/keys/team-dek/enable", admin: true).status == 200)
        let tooSoon = try await server.request("POST", "/kbs/v1/keys/team-dek/schedule-deletion", body: #"{"days":3}"#, admin: true)
        #expect(tooSoon.status == 400)
        let pending = try await server.request("POST", "/kbs/v1/keys/team-dek/schedule-deletion", body: #"{"days":7}"#, admin: true)
        #expect(try ServerProcess.object(pending.body)["state"] as? String == "pending_deletion")
        let cancelled = try await server.request("POST", "/kbs/v1/keys/team-dek/cancel-deletion", admin: true)
        #expect(try ServerProcess.object(cancelled.body)["state"] as? String == "disabled", "cancelling a deletion leaves the key disabled")
        #expect(try await server.request("POST", "/kbs/v1/keys/team-dek/explode", admin: true).status == 404)
        #expect(try await server.request("POST", "/kbs/v1/keys/nobody/rotate", admin: true).status == 404)

        let fallback = try await server.request("POST", "/kbs/v1/keys", body: #"{"id":"gpu-kek","required_tier":4,"fallback":true}"#, admin: true)
        let record = try ServerProcess.object(fallback.body)
        #expect((record["required_tier"] as? Int ?? 9) <= 4)

        let list = try await server.request("GET", "/kbs/v1/keys", admin: true)
        let ids = (try ServerProcess.object(list.body)["keys"] as? [[String: Any]] ?? []).compactMap { $0["id"] as? String }
        #expect(Set(ids).isSuperset(of: ["team-kek", "team-dek", "gpu-kek"]))
        #expect(!list.body.contains("wrapped"), "no key material, wrapped or not, in the API")

        let metrics = try await server.request("GET", "/metrics")
        #expect(metrics.body.contains(#"kbs_key_operations_total{operation="rotate"} 1"#))
        #expect(metrics.body.contains("kbs_platform_tier"))
    }
}
