import Foundation
import HTTPTypes
import Hummingbird
import KBSBroker
import KBSClaims

/// The admin API for capability tokens under `/kbs/v1/`: issue, verify, revoke, list.
struct TokenAdminRoutes: Sendable {
    let broker: Broker
    let configuration: ServerConfiguration

    /// Adds the routes to `admin`, the `/kbs/v1` group behind ``AdminAuthentication``.
    func add(to admin: RouterGroup<KBSRequestContext>) {
        admin.get("/tokens") { _, _ in try await listTokens() }
        admin.post("/tokens") { request, _ in try await issue(request) }
        admin.post("/tokens/verify") { request, _ in try await verify(request) }
        admin.delete("/tokens/{id}") { _, context in try await revoke(context) }
    }

    /// `{"agent", "capabilities": [...], "ttl_seconds"}` → 201 `{"token","id","expires"}`.
    private func issue(_ request: Request) async throws(ServerError) -> Response {
        let object = try await Self.object(request, members: ["agent", "capabilities", "ttl_seconds"], limit: configuration.maxBodyBytes)
        guard let agent = object.root["agent"]?.stringValue, let capabilities = try? object.strings("capabilities") else {
            throw .badRequest("invalid_request", "a token needs `agent` (a string) and `capabilities` (a list of `action:resource` strings)")
        }
        let lifetime: TimeInterval
        switch object.root["ttl_seconds"] {
        case nil: lifetime = 900
        case let node? where JSONBody.wholeNumber(node) != nil: lifetime = TimeInterval(JSONBody.wholeNumber(node) ?? 0)
        default: throw .badRequest("invalid_request", "`ttl_seconds` must be a whole number of seconds")
        }
        let issued = try await KBSProtocolRoutes.brokering { () async throws(BrokerError) in
            try await broker.capabilities.issue(agent: agent, capabilities: capabilities, lifetime: lifetime, actor: "admin")
        }
        return JSONResponse.make(CapabilityAuthority.json(issued), status: .created, headers: [.cacheControl: "no-store"])
    }

    /// `{"token", "capability"?}` → 200 with what the token allows, or the refusal.
    private func verify(_ request: Request) async throws(ServerError) -> Response {
        let object = try await Self.object(request, members: ["token", "capability"], limit: configuration.maxBodyBytes)
        guard let text = object.root["token"]?.stringValue else { throw .badRequest("invalid_request", "`token` must be a string") }
        let capability: String?
        switch object.root["capability"] {
        case nil: capability = nil
        case let node? where node.stringValue != nil: capability = node.stringValue
        default: throw .badRequest("invalid_request", "`capability` must be a string `action:resource`")
        }
        let verified = try await KBSProtocolRoutes.brokering { () async throws(BrokerError) in
            try await broker.capabilities.verify(text, capability: capability)
        }
        return JSONResponse.make(CapabilityAuthority.json(verified))
    }

    private func revoke(_ context: KBSRequestContext) async throws(ServerError) -> Response {
        let id = context.parameters.get("id") ?? ""
        guard try await KBSProtocolRoutes.brokering({ () async throws(BrokerError) in try await broker.capabilities.revoke(id, actor: "admin") })
        else {
            throw .notFound("no token \(id.prefix(64)) was issued here")
        }
        return Response(status: .noContent)
    }

    private func listTokens() async throws(ServerError) -> Response {
        let all = try await KBSProtocolRoutes.brokering { () async throws(BrokerError) in try await broker.capabilities.tokens() }
        return JSONResponse.make("{\"tokens\":[" + all.map(CapabilityAuthority.json).joined(separator: ",") + "]}")
    }

    /// The body as a JSON object holding only `members`.
    private static func object(_ request: Request, members: Set<String>, limit: Int) async throws(ServerError) -> JSONBody {
        var request = request
        let body = try await request.bodyBytes(limit: limit)
        return try JSONBody(body, members: members, shape: "with " + members.sorted().joined(separator: ", "))
    }
}
