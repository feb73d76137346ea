import Foundation
import HTTPTypes
import Hummingbird
import KBSBroker
import KBSClaims

/// `/kbs/v1/api-keys` (admin): create (the secret shown once), list, show, revoke.
struct APIKeyRoutes: Sendable {
    let identity: IdentityHolder
    let configuration: ServerConfiguration

    private var apiKeys: APIKeyAuthority { identity.current.apiKeys }

    func add(to admin: RouterGroup<KBSRequestContext>) {
        admin.post("/api-keys") { request, _ in try await create(request) }
        admin.get("/api-keys") { _, _ in try await list() }
        admin.get("/api-keys/{id}") { _, context in try await show(context) }
        admin.delete("/api-keys/{id}") { _, context in try await revoke(context) }
    }

    private func create(_ request: Request) async throws(ServerError) -> Response {
        var request = request
        let body = try await request.bodyBytes(limit: configuration.maxBodyBytes)
        let fields = try JSONBody(body, members: ["subject", "name"], shape: "{\"name\": \"…\", \"subject\"?: \"…\"}")
        guard let name = try fields.string("name") else { throw .badRequest("invalid_request", "`name` is required") }
        let subject = try fields.string("subject")
        let (key, secret) = try await KBSProtocolRoutes.brokering { () async throws(BrokerError) in
            try await apiKeys.create(subject: subject, name: name, actor: "admin")
        }
        var writer = JSONWriter()
        writer.object { root in
            root.member("id", key.keyID)
            root.member("secret", secret)
            Self.describe(key, into: &root)
        }
        return JSONResponse.make(String(decoding: writer.bytes, as: UTF8.self), status: .created, headers: [.cacheControl: "no-store"])
    }

    private func list() async throws(ServerError) -> Response {
        let keys = try await KBSProtocolRoutes.brokering { () async throws(BrokerError) in try await apiKeys.list() }
        var writer = JSONWriter()
        writer.object { root in
            root.key("api_keys")
            root.array { list in
                for key in keys {
                    list.object { item in
                        item.member("id", key.keyID)
                        Self.describe(key, into: &item)
                    }
                }
            }
        }
        return JSONResponse.make(String(decoding: writer.bytes, as: UTF8.self))
    }

    private func show(_ context: KBSRequestContext) async throws(ServerError) -> Response {
        let id = context.parameters.get("id") ?? ""
        guard let key = try await KBSProtocolRoutes.brokering({ () async throws(BrokerError) in try await apiKeys.key(id) }) else {
            throw .notFound("no API key `\(id.prefix(64))`")
        }
        var writer = JSONWriter()
        writer.object { root in
            root.member("id", key.keyID)
            Self.describe(key, into: &root)
        }
        return JSONResponse.make(String(decoding: writer.bytes, as: UTF8.self))
    }

    private func revoke(_ context: KBSRequestContext) async throws(ServerError) -> Response {
        let id = context.parameters.get("id") ?? ""
        guard try await KBSProtocolRoutes.brokering({ () async throws(BrokerError) in try await apiKeys.revoke(id, actor: "admin") }) else {
            throw .notFound("no API key `\(id.prefix(64))`")
        }
        return Response(status: .noContent)
    }

    /// What may be shown of a key: never its secret or hash.
    static func describe(_ key: StoredAPIKey, into object: inout JSONWriter) {
        object.member("name", key.name)
        object.member("subject", key.subject)
        object.member("created", Timestamp.rfc3339(key.createdAt * 1_000_000_000))
        if let expires = key.expiresAt { object.member("expires", Timestamp.rfc3339(expires * 1_000_000_000)) }
        if let revoked = key.revokedAt { object.member("revoked", Timestamp.rfc3339(revoked * 1_000_000_000)) }
    }
}
