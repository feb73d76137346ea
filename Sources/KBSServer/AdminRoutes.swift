import Foundation
import HTTPTypes
import Hummingbird
import KBSBroker
import KBSClaims
import KBSPolicy

/// The admin API under `/kbs/v1/`: entities and their roles, reloading, explaining a decision.
struct AdminRoutes: Sendable {
    let decider: Decider
    /// Where entities live; the decider's view holds them in memory.
    let entities: any EntityRepository
    let configuration: ServerConfiguration

    /// Adds the routes to `admin`, the `/kbs/v1` group behind ``AdminAuthentication``.
    func add(to admin: RouterGroup<KBSRequestContext>) {
        admin.get("/entities") { request, _ in try await listEntities(request) }
        admin.post("/entities") { request, _ in try await putEntity(request) }
        admin.get("/entities/{type}/{id}") { _, context in try await getEntity(context) }
        admin.delete("/entities/{type}/{id}") { _, context in try await deleteEntity(context) }
        admin.get("/entities/{type}/{id}/roles") { _, context in try await listRoles(context) }
        admin.post("/entities/{type}/{id}/roles") { request, context in try await addRole(request, context) }
        admin.delete("/entities/{type}/{id}/roles") { request, context in try await removeRole(request, context) }
        admin.post("/reload") { _, _ in await reload() }
        admin.get("/policy") { _, _ in policyStatus() }
        admin.post("/explain") { request, _ in try await explain(request) }
    }

    // MARK: Entities

    private func listEntities(_ request: Request) async throws(ServerError) -> Response {
        let query = request.uri.queryParameters
        let limit =
            try query["limit"].map { text throws(ServerError) -> Int in
                guard let value = Int(text), (1...1000).contains(value) else {
                    throw .badRequest("invalid_request", "`limit` must be an integer from 1 to 1000")
                }
                return value
            } ?? 100
        var cursor: EntityKey?
        if let afterID = query["after_id"] {
            guard let afterType = query["after_type"] ?? query["type"] else {
                throw .badRequest("invalid_request", "`after_id` needs `after_type` (or `type`)")
            }
            cursor = EntityKey(type: String(afterType), id: String(afterID))
        }
        let type = query["type"].map(String.init)
        let page = try await storing { try await entities.entities(type: type, after: cursor, limit: limit) }
        var text = "{\"entities\":[" + page.map(AdminRoutes.render).joined(separator: ",") + "]"
        if page.count == limit, let last = page.last {
            text += ",\"next\":{\"after_type\":\(JSONText.quote(last.type)),\"after_id\":\(JSONText.quote(last.id))}"
        }
        return JSONResponse.make(text + "}")
    }

    /// `{"type", "id", "attributes"?, "roles"?}`: creates or replaces the entity and grants the roles listed.
    private func putEntity(_ request: Request) async throws(ServerError) -> Response {
        var request = request
        let body = try await request.bodyBytes(limit: configuration.maxBodyBytes)
        let root = try AccessRequest.parseObject(body)
        for member in AdminRoutes.members(of: root) where !["type", "id", "attributes", "roles"].contains(member) {
            throw .badRequest("invalid_request", "unknown member `\(member)`; an entity has type, id, attributes and roles")
        }
        guard let type = root["type"]?.stringValue, let id = root["id"]?.stringValue else {
            throw .badRequest("invalid_request", "an entity needs string members `type` and `id`")
        }
        var attributes = Array("{}".utf8)
        if let node = root["attributes"] {
            guard case .object = node.value else { throw .badRequest("invalid_request", "`attributes` must be an object, not \(node.kindName)") }
            attributes = Array(body[node.range])
        }
        if let problem = decider.policies.current.entityProblem(type: type, attributesJSON: attributes) {
            throw .badRequest("invalid_entity", "\(type) `\(id)`: \(problem)")
        }
        let roles = try AdminRoutes.roles(root["roles"])
        let created = try await storing { try await entities.putEntity(type: type, id: id, attributesJSON: attributes, roles: roles) }
        return try await respondWithEntity(type: type, id: id, status: created ? .created : .ok)
    }

    private func getEntity(_ context: KBSRequestContext) async throws(ServerError) -> Response {
        let (type, id) = try AdminRoutes.identity(context)
        guard let entity = try await storing({ try await entities.entity(type: type, id: id) }) else {
            throw .notFound("no entity \(type) `\(id)`")
        }
        return JSONResponse.make(AdminRoutes.render(entity))
    }

    private func deleteEntity(_ context: KBSRequestContext) async throws(ServerError) -> Response {
        let (type, id) = try AdminRoutes.identity(context)
        guard try await storing({ try await entities.deleteEntity(type: type, id: id) }) else {
            throw .notFound("no entity \(type) `\(id)`")
        }
        try await refresh(type: type, id: id)
        return Response(status: .noContent)
    }

    // MARK: Roles

    private func listRoles(_ context: KBSRequestContext) async throws(ServerError) -> Response {
        let (type, id) = try AdminRoutes.identity(context)
        guard let entity = try await storing({ try await entities.entity(type: type, id: id) }) else {
            throw .notFound("no entity \(type) `\(id)`")
        }
        return JSONResponse.make("{\"roles\":" + AdminRoutes.render(entity.roles) + "}")
    }

    /// `{"role", "scope"?}`: grants a role (idempotent).
    private func addRole(_ request: Request, _ context: KBSRequestContext) async throws(ServerError) -> Response {
        var request = request
        let (type, id) = try AdminRoutes.identity(context)
        let body = try await request.bodyBytes(limit: configuration.maxBodyBytes)
        let root = try AccessRequest.parseObject(body)
        let role = try AdminRoutes.role(root)
        try await storing { try await entities.addRole(type: type, id: id, role) }
        return try await respondWithEntity(type: type, id: id, status: .ok)
    }

    /// `?role=R[&scope=S]`: revokes a role (the router has already percent-decoded the query).
    private func removeRole(_ request: Request, _ context: KBSRequestContext) async throws(ServerError) -> Response {
        let (type, id) = try AdminRoutes.identity(context)
        let query = request.uri.queryParameters
        guard let role = query["role"].map(String.init), !role.isEmpty else {
            throw .badRequest("invalid_request", "name the role to revoke: `?role=NAME[&scope=GLOB]`")
        }
        let binding = StoredRole(role: role, scope: query["scope"].map(String.init))
        guard try await storing({ try await entities.removeRole(type: type, id: id, binding) }) else {
            throw .notFound("\(type) `\(id)` does not hold role `\(role)`\(binding.scope.map { " with scope `\($0)`" } ?? "")")
        }
        try await refresh(type: type, id: id)
        return Response(status: .noContent)
    }

    // MARK: Policy

    private func reload() async -> Response {
        let policies = decider.policies
        switch await policies.reload(trigger: "admin") {
        case .loaded(let hash):
            return JSONResponse.make("{\"status\":\"loaded\",\"policy\":\(JSONText.quote(hash))}")
        case .unchanged(let hash):
            return JSONResponse.make("{\"status\":\"unchanged\",\"policy\":\(JSONText.quote(hash))}")
        case .failed(let report):
            return ServerError(
                .unprocessableContent, "policy_invalid",
                "the bundle does not compile; the last good policy keeps serving:\n\(report)"
            ).jsonResponse()
        }
    }

    private func policyStatus() -> Response {
        let policy = decider.policies.current
        var text = "{\"policy\":\(JSONText.quote(policy.hash)),\"directory\":\(JSONText.quote(policy.directory))"
        text += ",\"rules\":[" + policy.ruleNames.map(JSONText.quote).joined(separator: ",") + "]"
        text += ",\"entity_types\":[" + policy.entityTypeNames.map(JSONText.quote).joined(separator: ",") + "]"
        if let failure = decider.policies.failure { text += ",\"reload_error\":\(JSONText.quote(failure))" }
        return JSONResponse.make(text + "}")
    }

    /// An AuthZEN evaluation request in, the full decision with its explanation out (not logged: nothing is decided).
    private func explain(_ request: Request) async throws(ServerError) -> Response {
        var request = request
        let body = try await request.bodyBytes(limit: configuration.maxBodyBytes)
        _ = try AccessRequest(AccessRequest.parseObject(body))
        let decision = decider.policies.current.decide(
            json: body, options: .init(now: Decider.wallClockNanoseconds(), entities: decider.entities.snapshot(), explain: true))
        return JSONResponse.make(decision.json(explain: true))
    }

    // MARK: Helpers

    private func respondWithEntity(type: String, id: String, status: HTTPResponse.Status) async throws(ServerError) -> Response {
        // The view's refresh reads the entity as stored: the response shows what decisions now see.
        guard let entity = try await decider.entities.refresh(type: type, id: id) else {
            throw .notFound("no entity \(type) `\(id)`")
        }
        return JSONResponse.make(AdminRoutes.render(entity), status: status)
    }

    private func refresh(type: String, id: String) async throws(ServerError) {
        try await decider.entities.refresh(type: type, id: id)
    }

    /// Runs a repository call and maps its refusal onto HTTP.
    private func storing<T>(_ body: () async throws -> T) async throws(ServerError) -> T {
        try await EntityView.mapping(body)
    }

    private static func identity(_ context: KBSRequestContext) throws(ServerError) -> (String, String) {
        guard let type = context.parameters.get("type"), let id = context.parameters.get("id") else {
            throw .badRequest("invalid_request", "the path needs an entity type and id")
        }
        // Ids such as SPIFFE URIs hold `/`: clients percent-encode them in the path.
        guard let decodedType = type.removingPercentEncoding, let decodedID = id.removingPercentEncoding else {
            throw .badRequest("invalid_request", "bad percent-encoding in the entity path")
        }
        return (decodedType, decodedID)
    }

    private static func members(of node: JSONNode) -> [String] {
        guard case .object(let members) = node.value else { return [] }
        return members.map(\.key)
    }

    private static func role(_ node: JSONNode) throws(ServerError) -> StoredRole {
        if let name = node.stringValue, !name.isEmpty { return StoredRole(role: name) }
        guard case .object = node.value, let name = node["role"]?.stringValue, !name.isEmpty else {
            throw .badRequest("invalid_request", "a role is a non-empty string or {\"role\": NAME, \"scope\"?: GLOB}")
        }
        for member in members(of: node) where member != "role" && member != "scope" {
            throw .badRequest("invalid_request", "unknown member `\(member)`; a role has role and scope")
        }
        if let scope = node["scope"] {
            guard let text = scope.stringValue, !text.isEmpty else { throw .badRequest("invalid_request", "`scope` must be a non-empty string") }
            return StoredRole(role: name, scope: text)
        }
        return StoredRole(role: name)
    }

    private static func roles(_ node: JSONNode?) throws(ServerError) -> [StoredRole] {
        guard let node else { return [] }
        guard case .array(let items) = node.value else { throw .badRequest("invalid_request", "`roles` must be an array, not \(node.kindName)") }
        var roles: [StoredRole] = []
        for item in items { roles.append(try role(item)) }
        return roles
    }

    static func render(_ entity: StoredEntity) -> String {
        "{\"type\":\(JSONText.quote(entity.type)),\"id\":\(JSONText.quote(entity.id)),"
            + "\"attributes\":\(String(decoding: entity.attributesJSON, as: UTF8.self)),"
            + "\"roles\":\(render(entity.roles)),\"source\":\"\(entity.source.rawValue)\"}"
    }

    static func render(_ roles: [StoredRole]) -> String {
        "["
            + roles.map { role in
                "{\"role\":\(JSONText.quote(role.role))" + (role.scope.map { ",\"scope\":\(JSONText.quote($0))" } ?? "") + "}"
            }.joined(separator: ",") + "]"
    }
}
