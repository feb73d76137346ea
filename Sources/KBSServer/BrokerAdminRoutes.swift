import Foundation
import HTTPTypes
import Hummingbird
import KBSBroker
import KBSClaims
import KBSKeys
import KBSPolicy

/// The admin API for the broker under `/kbs/v1/`: resources (sealed secrets) and reference values.
struct BrokerAdminRoutes: Sendable {
    let broker: Broker
    let configuration: ServerConfiguration

    /// Adds the routes to `admin`, the `/kbs/v1` group behind ``AdminAuthentication``.
    func add(to admin: RouterGroup<KBSRequestContext>) {
        admin.get("/resources") { _, _ in try await listResources() }
        admin.post("/resources/{repo}/{type}/{tag}") { request, context in try await putResource(request, context) }
        admin.delete("/resources/{repo}/{type}/{tag}") { _, context in try await deleteResource(context) }
        admin.get("/reference-values") { _, _ in try await listReferenceValues() }
        admin.post("/reference-values") { request, _ in try await addReferenceValues(request) }
        admin.delete("/reference-values") { request, _ in try await removeReferenceValues(request) }
    }

    /// `{"value": "<base64>", "required_tier": N, "labels": {…}}`.
    private func putResource(_ request: Request, _ context: KBSRequestContext) async throws(ServerError) -> Response {
        let path = try KBSProtocolRoutes.path(context)
        var request = request
        var body = try await request.bodyBytes(limit: configuration.maxBodyBytes)
        defer { SecretBytes.wipe(&body) }
        let object = try JSONBody(body, members: ["value", "required_tier", "labels"], shape: "{\"value\", \"required_tier\", \"labels\"}")
        guard let encoded = object.root["value"]?.stringValue, var decoded = Data(base64Encoded: encoded).map(Array.init) else {
            throw .badRequest("invalid_request", "`value` must be the secret as standard base64")
        }
        defer { SecretBytes.wipe(&decoded) }
        let tier: Int
        switch object.root["required_tier"] {
        case nil: tier = configuration.defaultPrivacyTier
        case let node? where JSONBody.wholeNumber(node) != nil: tier = Int(clamping: JSONBody.wholeNumber(node) ?? -1)
        case let node? where node.stringValue != nil:
            let text = node.stringValue ?? ""
            guard let parsed = PrivacyTier(text: text) else { throw .badRequest("invalid_request", "`required_tier` `\(text)` is not a tier") }
            tier = parsed.rawValue
        default: throw .badRequest("invalid_request", "`required_tier` must be an integer from 0 to 4")
        }
        let labels = try object.stringMap("labels") ?? [:]
        let value = SecretBytes(copying: decoded)
        let info = try await KBSProtocolRoutes.brokering { () async throws(BrokerError) in
            try await broker.vault.putResource(path: path, value: value, requiredTier: tier, labels: labels, actor: "admin")
        }
        return JSONResponse.make(Self.render(info), status: info.created ? .created : .ok)
    }

    private func deleteResource(_ context: KBSRequestContext) async throws(ServerError) -> Response {
        let path = try KBSProtocolRoutes.path(context)
        let deleted = try await KBSProtocolRoutes.brokering { () async throws(BrokerError) in
            try await broker.vault.deleteResource(path: path, actor: "admin")
        }
        guard deleted else { throw .notFound("no resource at \(path)") }
        return Response(status: .noContent)
    }

    private func listResources() async throws(ServerError) -> Response {
        let all = try await KBSProtocolRoutes.brokering { () async throws(BrokerError) in try await broker.vault.resources() }
        return JSONResponse.make("{\"resources\":[" + all.map(Self.render).joined(separator: ",") + "]}")
    }

    /// `{"kind": "snp", "name": "measurement", "values": ["<hex>", …]}`.
    private func addReferenceValues(_ request: Request) async throws(ServerError) -> Response {
        let (kind, name, values) = try await Self.referenceValues(request, limit: configuration.maxBodyBytes)
        let added = try await KBSProtocolRoutes.brokering { () async throws(BrokerError) in
            try await broker.vault.addReferenceValues(kind: kind, name: name, values: values, actor: "admin")
        }
        return JSONResponse.make(
            "{\"kind\":\(JSONText.quote(kind)),\"name\":\(JSONText.quote(name)),\"added\":\(added)}", status: added > 0 ? .created : .ok)
    }

    /// The same body as adding; 200 with `{kind, name, removed}`.
    private func removeReferenceValues(_ request: Request) async throws(ServerError) -> Response {
        let (kind, name, values) = try await Self.referenceValues(request, limit: configuration.maxBodyBytes)
        let removed = try await KBSProtocolRoutes.brokering { () async throws(BrokerError) in
            try await broker.vault.removeReferenceValues(kind: kind, name: name, values: values, actor: "admin")
        }
        return JSONResponse.make("{\"kind\":\(JSONText.quote(kind)),\"name\":\(JSONText.quote(name)),\"removed\":\(removed)}")
    }

    /// `{"kind", "name", "values"}` of a reference-value request.
    private static func referenceValues(_ request: Request, limit: Int) async throws(ServerError) -> (kind: String, name: String, values: [String]) {
        var request = request
        let body = try await request.bodyBytes(limit: limit)
        let object = try JSONBody(body, members: ["kind", "name", "values"], shape: "{\"kind\", \"name\", \"values\"}")
        guard let kind = object.root["kind"]?.stringValue, let name = object.root["name"]?.stringValue,
            case .array(let items)? = object.root["values"]?.value, let values = Optional(items.compactMap(\.stringValue)),
            values.count == items.count
        else {
            throw .badRequest("invalid_request", "reference values need `kind` and `name` strings and `values`, a list of hex strings")
        }
        return (kind, name, values)
    }

    private func listReferenceValues() async throws(ServerError) -> Response {
        let all = try await KBSProtocolRoutes.brokering { () async throws(BrokerError) in try await broker.vault.referenceValues() }
        var writer = JSONWriter()
        writer.object { root in
            root.key("reference_values")
            root.object { kinds in
                for (kind, names) in all.sorted(by: { $0.key < $1.key }) {
                    kinds.key(kind)
                    kinds.object { claims in
                        for (name, values) in names.sorted(by: { $0.key < $1.key }) {
                            claims.key(name)
                            claims.array { list in for value in values { list.string(value) } }
                        }
                    }
                }
            }
        }
        return JSONResponse.make(writer.text)
    }

    static func render(_ info: ResourceVault.ResourceInfo) -> String {
        "{\"path\":\(JSONText.quote(info.path)),\"required_tier\":\(info.requiredTier),\"labels\":\(info.labelsJSON)}"
    }
}
