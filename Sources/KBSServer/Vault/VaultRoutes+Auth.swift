import Foundation
import HTTPTypes
import Hummingbird
import KBSBroker
import KBSClaims
import KBSIdentity

extension VaultRoutes {
    // MARK: sys/

    /// `sys/health`, `sys/seal-status` (both open, as in Vault), `sys/mounts` and `sys/internal/ui/mounts/:path`.
    func system(_ call: Call, _ path: String, operation: inout String) async throws(ServerError) -> Reply {
        switch path {
        case "health":
            operation = "sys:health"
            guard call.method == "GET" || call.method == "HEAD" else { throw Self.unsupported(call) }
            // Sealed means the master key cannot unwrap: Vault's 503, with the same body.
            let sealed = await vault.isSealed()
            let body = Self.object { out in
                out.key("initialized")
                out.bool(true)
                out.key("sealed")
                out.bool(sealed)
                out.key("standby")
                out.bool(false)
                out.key("performance_standby")
                out.bool(false)
                out.member("replication_performance_mode", "disabled")
                out.member("replication_dr_mode", "disabled")
                out.member("server_time_utc", Int64(Date().timeIntervalSince1970))
                out.member("version", Self.version)
                out.member("cluster_name", "kbs")
                out.member("cluster_id", "kbs")
            }
            return Reply(status: sealed ? .serviceUnavailable : .ok, raw: body)
        case "seal-status":
            operation = "sys:seal-status"
            guard call.method == "GET" else { throw Self.unsupported(call) }
            let sealed = await vault.isSealed()
            return Reply(
                raw: Self.object { out in
                    out.member("type", "kbs")
                    out.key("initialized")
                    out.bool(true)
                    out.key("sealed")
                    out.bool(sealed)
                    out.member("t", 1)
                    out.member("n", 1)
                    out.member("progress", 0)
                    out.member("nonce", "")
                    out.member("version", Self.version)
                    out.key("migration")
                    out.bool(false)
                    out.member("cluster_name", "kbs")
                    out.member("cluster_id", "kbs")
                    out.key("recovery_seal")
                    out.bool(false)
                    out.member("storage_type", "kbs")
                })
        case "mounts":
            operation = "sys:mounts"
            guard call.method == "GET" else { throw Self.unsupported(call) }
            _ = try await caller(call)
            let mounts = Self.object { out in
                out.key("secret/")
                out.raw(Array(Self.mount("kv", description: "key/value secret storage (KV v2)").utf8))
                out.key("transit/")
                out.raw(Array(Self.mount("transit", description: "encryption as a service").utf8))
            }
            // Vault repeats the mounts at the top level beside `data`; clients read either.
            let envelope = Self.object { out in
                out.member("request_id", UUID().uuidString.lowercased())
                out.key("data")
                out.raw(Array(mounts.utf8))
                out.key("secret/")
                out.raw(Array(Self.mount("kv", description: "key/value secret storage (KV v2)").utf8))
                out.key("transit/")
                out.raw(Array(Self.mount("transit", description: "encryption as a service").utf8))
            }
            return Reply(raw: envelope)
        case let path where path.hasPrefix("internal/ui/mounts/"):
            operation = "sys:ui-mounts"
            _ = try await caller(call)
            let mount = path.dropFirst("internal/ui/mounts/".count)
            let type: String
            if mount == "secret" || mount.hasPrefix("secret/") {
                type = "kv"
            } else if mount == "transit" || mount.hasPrefix("transit/") {
                type = "transit"
            } else {
                throw ServerError(.notFound, "not_found", "")
            }
            return .data(
                Self.object { out in
                    out.member("path", type == "kv" ? "secret/" : "transit/")
                    out.member("type", type)
                    out.key("options")
                    if type == "kv" { out.raw(Array(#"{"version":"2"}"#.utf8)) } else { out.null() }
                    out.member("accessor", type == "kv" ? "kv_kbs" : "transit_kbs")
                    out.member("description", "")
                })
        default: throw Self.noRoute(call.path)
        }
    }

    /// A mount as `sys/mounts` lists it.
    static func mount(_ type: String, description: String) -> String {
        object { out in
            out.member("type", type)
            out.member("description", description)
            out.member("accessor", type + "_kbs")
            out.key("options")
            if type == "kv" { out.raw(Array(#"{"version":"2"}"#.utf8)) } else { out.null() }
            out.key("config")
            out.raw(Array(#"{"default_lease_ttl":0,"max_lease_ttl":0,"force_no_cache":false}"#.utf8))
            out.key("local")
            out.bool(false)
            out.key("seal_wrap")
            out.bool(false)
        }
    }

    // MARK: auth/

    /// Token auth on the caller's own token, `auth/jwt/login` and `auth/kbs/login`.
    func auth(_ call: Call, _ path: String, operation: inout String) async throws(ServerError) -> Reply {
        switch path {
        case "token/lookup-self":
            operation = "token:lookup-self"
            guard call.method == "GET" || call.method == "POST" else { throw Self.unsupported(call) }
            let caller = try await caller(call)
            let entry = try await brokering { () async throws(BrokerError) in try await vault.lookupSelf(caller) }
            return .data(Self.lookup(entry, token: call.token ?? ""))
        case "token/renew-self":
            operation = "token:renew-self"
            guard call.method == "POST" else { throw Self.unsupported(call) }
            let caller = try await caller(call)
            let increment = try call.body.duration("increment")
            let entry = try await brokering { () async throws(BrokerError) in try await vault.renew(caller, increment: increment) }
            return Reply(auth: Self.auth(entry, token: call.token ?? ""))
        case "token/revoke-self":
            operation = "token:revoke-self"
            guard call.method == "POST" else { throw Self.unsupported(call) }
            let caller = try await caller(call)
            try await brokering { () async throws(BrokerError) in try await vault.revoke(caller) }
            return .noContent
        case "jwt/login":
            operation = "jwt:login"
            guard call.method == "POST" else { throw Self.unsupported(call) }
            let role = try call.body.string("role", required: true)!
            let jwt = try call.body.string("jwt", required: true)!
            // Only a JWT of a configured OIDC issuer: API keys and capability tokens have logins of their own.
            guard !jwt.hasPrefix("kbs_k_"), !jwt.hasPrefix("kbsc1."), jwt.utf8.count <= 16 * 1024 else {
                throw ServerError(.badRequest, "invalid_request", "jwt must be a JWT of a configured OIDC issuer")
            }
            let identity: CallerIdentity
            do { identity = try await self.identity.current.authenticator.identify(.bearer(jwt)) } catch {
                throw ServerError(.badRequest, "invalid_request", "error validating token: \(error.message)")
            }
            let issued = try await brokering { () async throws(BrokerError) in try await vault.loginJWT(role: role, identity: identity) }
            return Reply(auth: Self.auth(issued.entry, token: issued.token))
        case "kbs/login":
            operation = "kbs:login"
            guard call.method == "POST" else { throw Self.unsupported(call) }
            let given = try call.body.string("token")
            let alternative = try call.body.string("jwt")
            guard let token = given ?? alternative else {
                throw ServerError(.badRequest, "invalid_request", "missing required parameter token (an attestation token of this server)")
            }
            let issued = try await brokering { () async throws(BrokerError) in try await vault.loginAttested(token) }
            return Reply(auth: Self.auth(issued.entry, token: issued.token))
        default: throw Self.noRoute(call.path)
        }
    }

    /// `auth/token/lookup-self`'s `data`.
    static func lookup(_ entry: VaultTokenEntry, token: String) -> String {
        object { out in
            out.member("accessor", entry.accessor)
            out.member("creation_time", entry.issuedAt)
            out.member("creation_ttl", entry.ttl)
            out.member("display_name", entry.displayName)
            out.member("entity_id", "")
            out.member("expire_time", time(milliseconds: entry.expiresAt * 1000))
            out.member("explicit_max_ttl", entry.maximumExpiry - entry.issuedAt)
            out.member("id", token)
            out.member("issue_time", time(milliseconds: entry.issuedAt * 1000))
            out.key("meta")
            out.object { meta in for (name, value) in entry.meta.sorted(by: { $0.key < $1.key }) { meta.member(name, value) } }
            out.member("num_uses", 0)
            out.key("orphan")
            out.bool(true)
            out.member("path", entry.path)
            out.key("policies")
            out.array { list in for policy in entry.policies { list.string(policy) } }
            out.key("renewable")
            out.bool(entry.renewable)
            out.member("ttl", max(0, entry.expiresAt - Int64(Date().timeIntervalSince1970)))
            out.member("type", "service")
        }
    }

    /// The `auth` block of a login, a token creation or a renewal.
    static func auth(_ entry: VaultTokenEntry, token: String) -> String {
        object { out in
            out.member("client_token", token)
            out.member("accessor", entry.accessor)
            out.key("policies")
            out.array { list in for policy in entry.policies { list.string(policy) } }
            out.key("token_policies")
            out.array { list in for policy in entry.policies { list.string(policy) } }
            out.key("metadata")
            out.object { meta in for (name, value) in entry.meta.sorted(by: { $0.key < $1.key }) { meta.member(name, value) } }
            out.member("lease_duration", max(0, entry.expiresAt - Int64(Date().timeIntervalSince1970)))
            out.key("renewable")
            out.bool(entry.renewable)
            out.member("entity_id", "")
            out.member("token_type", "service")
            out.key("orphan")
            out.bool(true)
        }
    }
}

/// `POST /kbs/v1/vault-tokens` (admin): a Vault token as Vault's `auth/token/create` answers it.
struct VaultTokenAdminRoutes: Sendable {
    let vault: VaultService
    let configuration: ServerConfiguration

    /// Adds the route to `admin`, the `/kbs/v1` group behind ``AdminAuthentication``.
    func add(to admin: RouterGroup<KBSRequestContext>) {
        admin.post("/vault-tokens") { request, _ in try await create(request) }
    }

    /// `{"subject"?, "policies"?: [...], "ttl"?: "1h", "display_name"?}` → 200 `{"auth": {"client_token", …}}`.
    private func create(_ request: Request) async throws(ServerError) -> Response {
        let body: [UInt8]
        do { body = Array(try await request.body.collect(upTo: configuration.maxBodyBytes).readableBytesView) } catch {
            throw .badRequest("invalid_request", "the body exceeds \(configuration.maxBodyBytes) bytes")
        }
        let members: Set<String> = ["subject", "policies", "ttl", "display_name"]
        if !body.isEmpty { _ = try JSONBody(body, members: members, shape: "{subject?, policies?, ttl?, display_name?}") }
        let input = try VaultInput(body)
        let subject = try input.string("subject")
        let policies = try input.strings("policies")
        let ttl = try input.duration("ttl")
        let displayName = try input.string("display_name")
        let issued: VaultIssuedToken
        do { issued = try await vault.createToken(subject: subject, policies: policies, ttl: ttl, displayName: displayName, actor: "admin") } catch {
            throw VaultRoutes.from(error)
        }
        return VaultRoutes.response(VaultRoutes.Reply(auth: VaultRoutes.auth(issued.entry, token: issued.token)))
    }
}
