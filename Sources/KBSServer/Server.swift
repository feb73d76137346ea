import CoreMetrics
import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdCore
import HummingbirdHTTP2
import KBSBroker
import KBSClaims
import KBSPolicy
import KBSStore
import KBSStorePostgres
package import Logging
import NIOCore

/// The `kbs serve` server: AuthZEN, the KBS protocol, the admin API, health and metrics on one port.
///
/// `init` opens the store, loads the policy bundle and the admin token, and fails with a reason when any of
/// them cannot be had; `run` serves until SIGTERM or SIGINT.
package final class Server: Sendable {
    // Dependencies the routes share, made once in `init`; `buildRouter` wires them, so tests can serve in-process.
    package let configuration: ServerConfiguration
    /// Where the state lives: the data directory's SQLite store, or PostgreSQL shared by every replica.
    let storage: ServerStorage
    let entities: EntityView
    let policies: PolicyHolder
    /// The bundle the KMS API decides with (`Policies/kms`: the second `--policies`), when one is served.
    let kmsPolicies: PolicyHolder?
    let metrics: ServerMetrics
    let log: DecisionLog
    let token: AdminToken
    /// What `/metrics` requires, when anything.
    let metricsToken: AdminToken?
    let broker: Broker
    /// The AWS KMS API's operations over the broker's key hierarchy.
    let keyService: KeyService
    /// HashiCorp Vault's API over the same key hierarchy and `kms` bundle.
    let vaultService: VaultService
    /// Credentials, logins and API keys, reloaded with the configuration file.
    let identity: IdentityHolder
    /// The certificate and key HTTPS is served with; nil serves plain HTTP.
    let tls: TLSCertificates?
    let logger: Logger

    /// Prepares a server, opening its store (and, on PostgreSQL, the master key); nothing listens until
    /// ``run(onListening:)``.
    package init(configuration: ServerConfiguration, logger: Logger = Logger(label: "kbs")) async throws(ServerError) {
        self.configuration = configuration
        self.logger = logger
        guard configuration.servesTLS || configuration.allowPlainHTTP || ServerSettings.isLoopback(configuration.host) else {
            throw ServerError(
                .internalServerError, "plain_http",
                "refusing plain HTTP on \(configuration.host), which is not loopback: configure [tls] (KBS_TLS_CERTIFICATE, "
                    + "KBS_TLS_PRIVATE_KEY), or set [server] allow_plain_http = true (KBS_ALLOW_PLAIN_HTTP=1) when a TLS proxy is in front")
        }
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: configuration.policies, isDirectory: &isDirectory), isDirectory.boolValue else {
            throw ServerError(.internalServerError, "policy", "no policy bundle folder at \(configuration.policies)")
        }
        do {
            try FileManager.default.createDirectory(
                atPath: configuration.dataDirectory, withIntermediateDirectories: true,
                attributes: [.posixPermissions: 0o700])
        } catch {
            throw ServerError(.internalServerError, "data_dir", "cannot create \(configuration.dataDirectory): \(error.localizedDescription)")
        }
        if let problem = configuration.storeProblem { throw ServerError(.internalServerError, "store", problem) }
        storage = try await ServerStorage.open(configuration: configuration, logger: logger)
        entities = try await EntityView(repository: storage.entities)
        metrics = ServerMetrics()
        policies = try await PolicyHolder(
            directory: configuration.policies, schemas: configuration.claimSchemas, entities: entities, metrics: metrics, logger: logger)
        guard configuration.additionalPolicies.count <= 1 else {
            throw ServerError(
                .internalServerError, "policy",
                "one bundle beside the release policy is served (the KMS API's, e.g. Policies/kms), not "
                    + configuration.additionalPolicies.joined(separator: ", "))
        }
        var kmsHolder: PolicyHolder?
        if let directory = configuration.additionalPolicies.first {
            kmsHolder = try await PolicyHolder(
                directory: directory, schemas: configuration.claimSchemas, entities: nil, metrics: metrics, logger: logger)
        }
        kmsPolicies = kmsHolder
        log = try DecisionLog(path: configuration.decisionLogPath, capacity: configuration.decisionLogQueueBytes) { [metrics, logger] failure in
            metrics.decisionLogWriteFailures.increment()
            logger.error("decision log write failed; lines stay buffered", metadata: ["error": "\(failure)"])
        }
        if let given = configuration.adminToken {
            guard given.utf8.count >= 16 else {
                throw ServerError(.internalServerError, "admin_token", "the admin token needs at least 16 characters")
            }
            token = AdminToken(given)
        } else {
            guard configuration.postgresURL == nil || FileManager.default.fileExists(atPath: configuration.dataDirectory + "/admin-token") else {
                throw ServerError(
                    .internalServerError, "admin_token",
                    "replicas on one PostgreSQL store share the admin token: set KBS_ADMIN_TOKEN (the same on every replica)")
            }
            let (loaded, created) = try AdminToken.load(directory: configuration.dataDirectory)
            token = loaded
            if created {
                logger.notice("generated the admin token", metadata: ["path": "\(configuration.dataDirectory)/admin-token", "mode": "0600"])
            }
        }
        if let file = configuration.metricsTokenFile {
            metricsToken = AdminToken(try SecretFile.read(path: file, code: "metrics_token"))
        } else if let given = configuration.metricsToken {
            guard given.utf8.count >= 16 else {
                throw ServerError(.internalServerError, "metrics_token", "the metrics token needs at least 16 characters")
            }
            metricsToken = AdminToken(given)
        } else {
            metricsToken = nil
        }
        broker = try BrokerSetup.make(
            configuration: configuration, storage: storage, policies: policies, entities: entities, metrics: metrics,
            logger: logger)
        keyService = KeyService(
            broker: broker, repository: storage.kms, policy: { [kmsHolder] in kmsHolder?.current }, recorder: log,
            defaultTier: PrivacyTier(rawValue: configuration.defaultPrivacyTier) ?? .hsm)
        vaultService = VaultService(
            broker: broker, repository: storage.vault, policy: { [kmsHolder] in kmsHolder?.current }, recorder: log,
            defaultTier: PrivacyTier(rawValue: configuration.defaultPrivacyTier) ?? .hsm, jwtRoles: configuration.vaultJWTRoles)
        identity = try IdentityHolder(
            configuration: configuration, sessions: storage.sessions, replay: storage.replay, pepper: storage.apiKeyPepper, broker: broker,
            metrics: metrics, logger: logger)
        if let certificate = configuration.tlsCertificate, let key = configuration.tlsPrivateKey {
            tls = try TLSCertificates(certificatePath: certificate, keyPath: key, metrics: metrics, logger: logger)
        } else {
            tls = nil
        }
    }

    /// The policy set in service.
    package var policyHash: String { policies.current.hash }

    /// Serves until the process receives SIGTERM or SIGINT; `onListening` gets the port actually bound.
    package func run(onListening: @escaping @Sendable (Int) -> Void = { _ in }) async throws {
        let app = try buildApplication(onListening: onListening)
        do {
            try await app.runService()
        } catch {
            await closeLog()
            await storage.close()
            throw error
        }
        await closeLog()
        await storage.close()
    }

    /// Every route on one router: AuthZEN, the KBS protocol, the admin API (one group behind one authentication
    /// middleware), health and metrics. `boundPort` is where AuthZEN's discovery document learns the port.
    func buildRouter(boundPort: BoundPort = BoundPort()) -> Router<KBSRequestContext> {
        let router = Router(context: KBSRequestContext.self)
        let authentication = AdminAuthentication(token: token)
        let admin = router.group("/kbs/v1").add(middleware: authentication)
        let trusteeAdmin = router.group("/kbs/v0").add(middleware: authentication)
        var rcar = router.group("/kbs/v0")
        var logins = router.group("/kbs/v1")
        if configuration.rateLimitPerSecond > 0 {
            // One limiter for RCAR and the login and release routes: a client's attempts count together.
            let limiter = RateLimiter(perSecond: configuration.rateLimitPerSecond, burst: max(1, configuration.rateLimitBurst))
            rcar = rcar.add(middleware: RateLimiting(limiter: limiter, refused: metrics.rateLimited))
            logins = logins.add(middleware: RateLimiting(limiter: limiter, refused: metrics.rateLimited))
        }
        let decider = Decider(policies: policies, entities: entities, log: log, metrics: metrics)
        AuthZENRoutes(decider: decider, configuration: configuration, boundPort: boundPort).add(to: router)
        AdminRoutes(decider: decider, entities: entities.repository, configuration: configuration).add(to: admin)
        KBSProtocolRoutes(broker: broker, identity: identity, configuration: configuration).add(to: router, limited: rcar, admin: trusteeAdmin)
        IdentityRoutes(holder: identity, broker: broker, configuration: configuration).add(to: logins)
        APIKeyRoutes(identity: identity, configuration: configuration).add(to: admin)
        BrokerAdminRoutes(broker: broker, configuration: configuration).add(to: admin)
        KeyAdminRoutes(broker: broker, configuration: configuration).add(to: admin)
        TokenAdminRoutes(broker: broker, configuration: configuration).add(to: admin)
        KMSRoutes(keys: keyService, identity: identity, metrics: metrics).add(to: router)
        VaultRoutes(vault: vaultService, broker: broker, identity: identity, metrics: metrics).add(to: router)
        VaultTokenAdminRoutes(vault: vaultService, configuration: configuration).add(to: admin)
        HealthRoutes(policies: policies, metrics: metrics, metricsToken: metricsToken, store: storage.postgres).add(to: router)
        return router
    }

    /// The application: the router behind the JSON-error and metrics responder, the policy watcher and the key sweeper
    /// beside it.
    /// Under TLS, HTTP/2 and HTTP/1.1 by ALPN; otherwise HTTP/1.1 in the clear.
    func buildApplication(onListening: @escaping @Sendable (Int) -> Void = { _ in }) throws -> some ApplicationProtocol {
        let boundPort = BoundPort()
        let responder = ServerResponder(router: buildRouter(boundPort: boundPort).buildResponder(), metrics: metrics)
        // Vault clients' LIST verb reaches the router only through VaultListMethod (HTTP/1.1's parser refuses it).
        let http1 = HTTP1Channel.Configuration(additionalChannelHandlers: [VaultListMethod.Installer()])
        let server: HTTPServerBuilder =
            try tls.map {
                try .http2Upgrade(tlsConfiguration: $0.serverConfiguration(), configuration: .init(streamConfiguration: http1))
            } ?? .http1(configuration: http1)
        return Application(
            responder: responder,
            server: server,
            configuration: .init(address: .hostname(configuration.host, port: configuration.port), serverName: "kbs"),
            services: [
                PolicyWatcher(
                    policies: policies, entities: entities, logger: logger, kmsPolicies: kmsPolicies, identity: identity, tls: tls,
                    intervalMilliseconds: configuration.reloadIntervalMilliseconds),
                KeySweepService(
                    sweeper: KeySweeper(keys: keyService, records: storage.keyRecords),
                    others: [{ [vaultService, storage] in await vaultService.sweepTransitRotations(records: storage.keyRecords) }],
                    intervalSeconds: configuration.keySweepIntervalSeconds, metrics: metrics, logger: logger),
            ],
            onServerRunning: { channel in
                let port = channel.localAddress?.port ?? 0
                boundPort.set(port)
                onListening(port)
            },
            logger: logger)
    }

    /// Flushes and closes the decision log off the cooperative pool (closing waits for its writer thread).
    func closeLog() async {
        let log = self.log
        await Blocking.run { log.close() }
    }
}

/// `/healthz`, `/readyz` and `/metrics` (behind a bearer token when one is configured; the probes stay open).
struct HealthRoutes: Sendable {
    let policies: PolicyHolder
    let metrics: ServerMetrics
    let metricsToken: AdminToken?
    /// The shared database, whose reachability readiness includes: a replica that cannot reach it fails every request.
    let store: PostgresStore?

    func add(to router: Router<KBSRequestContext>) {
        router.get("/healthz") { _, _ in JSONResponse.make("{\"status\":\"ok\"}") }
        router.get("/readyz") { [store] _, _ in
            // A server exists only with a compiled policy set, so it is ready once it listens and its store answers.
            if let store, await !store.answers() {
                throw ServerError(.serviceUnavailable, "store_unavailable", "the PostgreSQL store does not answer")
            }
            return JSONResponse.make("{\"status\":\"ready\",\"policy\":\(JSONText.quote(policies.current.hash))}")
        }
        router.get("/metrics") { [metricsToken] request, _ in
            // The same constant-time bearer comparison as the admin API, against the metrics token.
            if let metricsToken, !metricsToken.accepts(authorization: request.headers[.authorization]) {
                throw ServerError(.unauthorized, "unauthorized", "/metrics needs `Authorization: Bearer <metrics token>`")
            }
            return Response(
                status: .ok, headers: [.contentType: "text/plain; version=0.0.4; charset=utf-8"],
                body: .init(byteBuffer: ByteBuffer(bytes: metrics.exposition())))
        }
    }
}
