import Foundation
import KBSPolicyTesting
import Testing

/// `ENABLE_TEE=false`: nothing attests, identity-only release serves tiers 0 and 1; `PRIVACY_TIER` is the tier a
/// resource created without one requires.
@Suite(.serialized)
struct TEEDisabledTests {
    @Test("ENABLE_TEE=false answers the RCAR routes 404 tee_disabled; PRIVACY_TIER=0 lets an anonymous caller have a key put without a tier")
    func identityOnly() async throws {
        let server = try ServerProcess(
            policies: RepositoryPaths.path("Policies/default"), environment: ["ENABLE_TEE": "false", "PRIVACY_TIER": "0"])
        defer { server.stop() }
        for (method, path) in [("POST", "/kbs/v0/auth"), ("POST", "/kbs/v0/attest"), ("GET", "/kbs/v0/resource/a/b/c")] {
            let response = try await server.request(method, path, body: method == "POST" ? "{}" : nil)
            let code = try ServerProcess.errorCode(response.body)
            #expect(response.status == 404 && code == "tee_disabled", "\(path): \(response.body)")
        }
        let put = try await server.request(
            "POST", "/kbs/v1/resources/demo/keys/open", body: #"{"value":"\#(Data("open".utf8).base64EncodedString())"}"#, admin: true)
        #expect(put.status == 201 && put.body.contains(#""required_tier":0"#), "\(put.body)")
        let recipient =
            #"{"kty":"EC","crv":"P-256","x":"OAhpKBNaNpEepLlQWj7gwX3KfELxcn8KbNQAINit0jo","y":"gy_2tC2WwTnz6mE9CwVboDf81puVFKo5jLXNV81QQHc"}"#
        let released = try await server.request("POST", "/kbs/v1/release/demo/keys/open", body: #"{"recipient":\#(recipient)}"#)
        #expect(released.status == 200 && released.body.contains("\"ciphertext\""), "an anonymous caller gets a tier-0 key: \(released.body)")
        #expect(!released.body.contains(Data("open".utf8).base64EncodedString()))
    }

    @Test("the API key admin routes refuse bad bodies with 4xx JSON and never show a secret again")
    func apiKeyAdminBadInput() async throws {
        let server = try ServerProcess(policies: RepositoryPaths.path("Policies/default"))
        defer { server.stop() }
        for body in [
            "", "{", "[]", #"{"name":1}"#, #"{"name":"x","subject":""}"#, #"{"name":"x","extra":1}"#, #"{"subject":"s"}"#,
            #"{"name":"\#(String(repeating: "n", count: 300))"}"#,
        ] {
            let response = try await server.request("POST", "/kbs/v1/api-keys", body: body, admin: true)
            #expect(
                (400..<500).contains(response.status) && (try? ServerProcess.errorCode(response.body)) != nil, "\(body.prefix(20)): \(response.body)")
        }
        #expect(try await server.request("POST", "/kbs/v1/api-keys", body: #"{"name":"ci"}"#).status == 401, "admin only")
        #expect(try await server.request("GET", "/kbs/v1/api-keys/nope", admin: true).status == 404)
        #expect(try await server.request("DELETE", "/kbs/v1/api-keys/nope", admin: true).status == 404)
        let created = try await server.request("POST", "/kbs/v1/api-keys", body: #"{"name":"ci"}"#, admin: true)
        let secret = try #require(try ServerProcess.object(created.body)["secret"] as? String)
        let listed = try await server.request("GET", "/kbs/v1/api-keys", admin: true)
        #expect(listed.status == 200 && listed.body.contains("\"api_keys\"") && !listed.body.contains(secret))
        #expect(try await server.request("GET", "/healthz").status == 200)
    }
}
