import Foundation
import Hummingbird
import HTTPTypes
import KBSBroker
import KBSClaims
import KBSKeys
import KBSPolicy

/// The key hierarchy under `/kbs/v1/keys` (admin token): what `kbs keys` does, on the server's data directory.
struct KeyAdminRoutes: Sendable {
    let broker: Broker
    let configuration: ServerConfiguration
    let token: AdminToken

    func add(to router: Router<BasicRequestContext>) {
        let admin = router.group("/kbs/v1").add(middleware: AdminAuthentication(token: token))
        admin.get("/keys") { _, _ in try await list() }
        admin.post("/keys") { request, _ in try await create(request) }
        admin.get("/keys/{id}") { _, context in try await show(context) }
        admin.post("/keys/{id}/{operation}") { request, context in try await operate(request, context) }
    }

    private func list() async throws(ServerError) -> Response {
        let records = try await KBSProtocolRoutes.brokering { () async throws(BrokerError) in try await broker.keyRecords() }
        return JSONResponse.make("{\"keys\":[" + records.map(BrokerKeys.json).joined(separator: ",") + "]}")
    }

    private func show(_ context: BasicRequestContext) async throws(ServerError) -> Response {
        let id = try Self.id(context)
        let record = try await KBSProtocolRoutes.brokering { () async throws(BrokerError) in try await broker.keyRecord(id) }
        return JSONResponse.make(BrokerKeys.json(record))
    }

    /// `{"id", "parent"?, "required_tier"?, "labels"?, "fallback"?}`: a KEK, or a data key under `parent`.
    private func create(_ request: Request) async throws(ServerError) -> Response {
        var request = request
        let body = try await request.bodyBytes(limit: configuration.maxBodyBytes)
        guard let object = (try? JSONSerialization.jsonObject(with: Data(body))) as? [String: Any] else {
            throw .badRequest("invalid_json", "the body must be a JSON object {\"id\", \"parent\"?, \"required_tier\"?, \"labels\"?}")
        }
        for member in object.keys where !["id", "parent", "required_tier", "labels", "fallback"].contains(member) {
            throw .badRequest("invalid_request", "unknown member `\(member)`; a key has id, parent, required_tier, labels and fallback")
        }
        guard let id = object["id"] as? String else { throw .badRequest("invalid_request", "`id` must be a string") }
        let parent = object["parent"] as? String
        if object["parent"] != nil && parent == nil { throw .badRequest("invalid_request", "`parent` must be a string") }
        var tier = PrivacyTier.open
        if let given = object["required_tier"] {
            guard let number = given as? Int, let parsed = PrivacyTier(rawValue: number) else {
                throw .badRequest("invalid_request", "`required_tier` must be an integer from 0 to 4")
            }
            tier = parsed
        }
        var labels: [String: String] = [:]
        if let given = object["labels"] {
            guard let map = given as? [String: String] else { throw .badRequest("invalid_request", "`labels` must be an object of strings") }
            labels = map
        }
        let fallback = object["fallback"] as? Bool ?? false
        let platform = PlatformProbe(pkcs11Module: configuration.pkcs11Module)
        let record = try await KBSProtocolRoutes.brokering { () async throws(BrokerError) in
            try await broker.createKey(id: id, parent: parent, requiredTier: tier, labels: labels, platform: fallback ? platform.detect() : nil)
        }
        return JSONResponse.make(BrokerKeys.json(record), status: .created)
    }

    /// `rotate`, `disable`, `enable`, `schedule-deletion` (`{"days": 7-30}`), `cancel-deletion`.
    private func operate(_ request: Request, _ context: BasicRequestContext) async throws(ServerError) -> Response {
        let id = try Self.id(context)
        guard let name = context.parameters.get("operation"), let operation = Broker.KeyOperation(rawValue: name) else {
            throw .notFound("no key operation `\(context.parameters.get("operation") ?? "")`; rotate, disable, enable, schedule-deletion, cancel-deletion")
        }
        var days = 30
        if operation == .scheduleDeletion {
            var request = request
            let body = try await request.bodyBytes(limit: configuration.maxBodyBytes)
            if !body.isEmpty {
                guard let object = (try? JSONSerialization.jsonObject(with: Data(body))) as? [String: Any], let given = object["days"] as? Int else {
                    throw .badRequest("invalid_request", "schedule-deletion takes {\"days\": 7-30}")
                }
                days = given
            }
        }
        let record = try await KBSProtocolRoutes.brokering { () async throws(BrokerError) in
            try await broker.keyOperation(operation, id: id, days: days)
        }
        return JSONResponse.make(BrokerKeys.json(record))
    }

    static func id(_ context: BasicRequestContext) throws(ServerError) -> String {
        guard let id = context.parameters.get("id")?.removingPercentEncoding, !id.isEmpty else {
            throw .badRequest("invalid_request", "the path needs a key id")
        }
        return id
    }
}
