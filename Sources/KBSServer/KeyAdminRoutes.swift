import Foundation
import HTTPTypes
import Hummingbird
import KBSBroker
import KBSClaims
import KBSKeys
import KBSPolicy

/// The key hierarchy under `/kbs/v1/keys` (admin token): what `kbs keys` does, on the server's data directory.
struct KeyAdminRoutes: Sendable {
    let broker: Broker
    let configuration: ServerConfiguration

    /// Adds the routes to `admin`, the `/kbs/v1` group behind ``AdminAuthentication``.
    func add(to admin: RouterGroup<KBSRequestContext>) {
        admin.get("/keys") { _, _ in try await list() }
        admin.post("/keys") { request, _ in try await create(request) }
        admin.get("/keys/{id}") { _, context in try await show(context) }
        admin.post("/keys/{id}/{operation}") { request, context in try await operate(request, context) }
    }

    private func list() async throws(ServerError) -> Response {
        let records = try await KBSProtocolRoutes.brokering { () async throws(BrokerError) in try await broker.keyRecords() }
        return JSONResponse.make("{\"keys\":[" + records.map(BrokerKeys.json).joined(separator: ",") + "]}")
    }

    private func show(_ context: KBSRequestContext) async throws(ServerError) -> Response {
        let id = try Self.id(context)
        let record = try await KBSProtocolRoutes.brokering { () async throws(BrokerError) in try await broker.keyRecord(id) }
        return JSONResponse.make(BrokerKeys.json(record))
    }

    /// `{"id", "parent"?, "required_tier"?, "labels"?, "fallback"?}`: a KEK, or a data key under `parent`.
    private func create(_ request: Request) async throws(ServerError) -> Response {
        var request = request
        let body = try await request.bodyBytes(limit: configuration.maxBodyBytes)
        let object = try JSONBody(
            body, members: ["id", "parent", "required_tier", "labels", "fallback"],
            shape: "{\"id\", \"parent\"?, \"required_tier\"?, \"labels\"?, \"fallback\"?}")
        guard let id = try object.string("id") else { throw .badRequest("invalid_request", "`id` must be a string") }
        let parent = try object.string("parent")
        var tier = PrivacyTier.open
        if object.has("required_tier") {
            guard let number = object.root["required_tier"]?.integer, let parsed = PrivacyTier(rawValue: Int(clamping: number)) else {
                throw .badRequest("invalid_request", "`required_tier` must be an integer from 0 to 4")
            }
            tier = parsed
        }
        let labels = try object.stringMap("labels") ?? [:]
        let fallback = try object.bool("fallback") ?? false
        let platform = PlatformProbe(pkcs11Module: configuration.pkcs11Module)
        let record = try await KBSProtocolRoutes.brokering { () async throws(BrokerError) in
            try await broker.createKey(id: id, parent: parent, requiredTier: tier, labels: labels, platform: fallback ? platform.detect() : nil)
        }
        return JSONResponse.make(BrokerKeys.json(record), status: .created)
    }

    /// `rotate`, `disable`, `enable`, `schedule-deletion` (`{"days": 7-30}`), `cancel-deletion`.
    private func operate(_ request: Request, _ context: KBSRequestContext) async throws(ServerError) -> Response {
        let id = try Self.id(context)
        guard let name = context.parameters.get("operation"), let operation = Broker.KeyOperation(rawValue: name) else {
            throw .notFound(
                "no key operation `\(context.parameters.get("operation") ?? "")`; rotate, disable, enable, schedule-deletion, cancel-deletion")
        }
        var days = 30
        if operation == .scheduleDeletion {
            var request = request
            let body = try await request.bodyBytes(limit: configuration.maxBodyBytes)
            if !body.isEmpty {
                guard let object = try? JSONNode.parse(body), let given = object["days"]?.integer else {
                    throw .badRequest("invalid_request", "schedule-deletion takes {\"days\": 7-30}")
                }
                days = Int(clamping: given)
            }
        }
        let record = try await KBSProtocolRoutes.brokering { () async throws(BrokerError) in
            try await broker.keyOperation(operation, id: id, days: days)
        }
        return JSONResponse.make(BrokerKeys.json(record))
    }

    static func id(_ context: KBSRequestContext) throws(ServerError) -> String {
        guard let id = context.parameters.get("id")?.removingPercentEncoding, !id.isEmpty else {
            throw .badRequest("invalid_request", "the path needs a key id")
        }
        return id
    }
}
