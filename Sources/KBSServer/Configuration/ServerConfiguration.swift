import Foundation
package import KBSBroker
package import KBSClaims

/// How `kbs serve` runs: where the policies and data live, where it listens, its limits.
package struct ServerConfiguration: Sendable {
    /// The policy bundle folder.
    package var policies: String
    /// Further bundle folders served beside ``policies`` (a `policies` list in the configuration file, or
    /// `--policies` given more than once), such as `Policies/kms`.
    package var additionalPolicies: [String] = []
    /// Where the SQLite store, the admin token and the decision log live.
    package var dataDirectory: String
    package var host: String
    /// 0 picks a free port; the chosen one is printed when the server listens.
    package var port: Int
    /// Largest accepted request body, in bytes (larger bodies get 413).
    package var maxBodyBytes: Int
    /// Largest number of entries in one `evaluations` request.
    package var maxEvaluations: Int
    /// How often the policy folder is checked for changes, in milliseconds; 0 turns watching off (SIGHUP still reloads).
    package var reloadIntervalMilliseconds: Int
    /// Where decisions are logged, one JSON line each; `-` is standard output. nil means `DATA_DIR/decisions.log`.
    package var decisionLog: String?
    /// Most bytes of decision-log lines held while the file cannot be written; past it decisions get 503.
    package var decisionLogQueueBytes: Int
    /// The URL clients reach the server at (behind a proxy, say), for the AuthZEN `issuer`; nil uses the `Host` header.
    package var publicURL: String?
    /// The admin bearer token; nil reads `DATA_DIR/admin-token`, generating it on first start.
    package var adminToken: String?
    /// The claim schemas policies are checked against: the standard ones plus those of the verifiers the caller links.
    package var claimSchemas: ClaimSchemaRegistry
    /// Where trust in TEE evidence comes from (`TEE_MODE`): vendor roots only, or also the simulator CA.
    package var teeMode: BrokerConfiguration.TEEMode
    /// The environment the master-key provider is chosen from (`KBS_MASTER_KEY`, see `MasterKeySelection`).
    package var environment: [String: String] = [:]
    /// The PKCS#11 module to report as available (`KBS_PKCS11_MODULE`), for the platform's tier.
    package var pkcs11Module: String?
    /// Requests a second each client address may make to RCAR `auth` and `attest` after its burst; 0 turns limiting off.
    package var rateLimitPerSecond: Double = 100
    /// Requests a client address may make at once before the rate applies.
    package var rateLimitBurst: Int = 400
    /// The master key's passphrase; nil reads `DATA_DIR/master-passphrase`, generating it on first start.
    package var masterPassphrase: String?
    /// The bearer token `/metrics` requires (`KBS_METRICS_TOKEN`); with neither this nor ``metricsTokenFile``,
    /// `/metrics` is open, as a loopback default.
    package var metricsToken: String?
    /// A file holding the metrics token (`--metrics-token-file`), which group and others must not be able to read; it
    /// wins over ``metricsToken``.
    package var metricsTokenFile: String?
    /// The configuration file this was read from (`--config`), watched for changes to the identity sections.
    package var configurationFile: String?
    /// Which credentials are accepted and who vouches for them (`[identity…]` in the configuration file).
    package var identity = IdentityConfiguration()
    /// Serve TEE attestation (`ENABLE_TEE`); false serves identity-only releases (tiers 0 and 1) and no `/kbs/v0/attest`.
    package var enableTEE = true
    /// The tier a resource or key created without one requires (`PRIVACY_TIER`).
    package var defaultPrivacyTier = 2
    /// Where the state lives (`KBS_STORE_URL`): nil or `sqlite:DATA_DIR/kbs.sqlite` (the data directory's, one server;
    /// another SQLite path is refused at start, not ignored), or `postgresql://…`, one database for several replicas.
    package var storeURL: String?
    /// The Infisical KMS holding the master key (`KMS_ENDPOINT`); nil keeps it in the local key hierarchy.
    package var kmsEndpoint: String?
    /// The PEM certificate chain to serve HTTPS with (`[tls] certificate`); nil serves plain HTTP.
    package var tlsCertificate: String?
    /// The PEM private key of ``tlsCertificate`` (`[tls] private_key`).
    package var tlsPrivateKey: String?
    /// Serve plain HTTP on an address other than loopback (`[server] allow_plain_http`, `KBS_ALLOW_PLAIN_HTTP`): for
    /// a TLS-terminating proxy in front. Off, such a server needs `[tls]`.
    package var allowPlainHTTP = false
    /// The roles `auth/jwt/login` issues Vault tokens for (`[[vault.jwt_role]]`).
    package var vaultJWTRoles: [VaultJWTRole] = []
    /// Where collateral the endorsements lack comes from (`[collateral]`).
    package var collateral = CollateralConfiguration()
    /// Seconds between sweeps of the key hierarchy (`[keys] sweep_interval_seconds`, `KBS_KEY_SWEEP_INTERVAL_SECONDS`):
    /// each destroys the keys whose deletion date has come and rotates the KMS keys whose rotation period has passed.
    /// 0 turns the sweeper off (a KMS key past its date is then destroyed only when a request next finds it).
    package var keySweepIntervalSeconds = 60

    /// Why ``storeURL`` cannot be served, or nil: the key hierarchy, the audit log and the other files live in the data
    /// directory, so a store URL naming another file would split the state; it is refused rather than ignored until
    /// stores elsewhere are served. The URL itself is not repeated (it may carry a password).
    package var storeProblem: String? {
        if postgresURL != nil, reloadIntervalMilliseconds <= 0 {
            return "on a PostgreSQL store the reload interval must be above 0 (--reload-interval-ms): each poll is how a replica "
                + "learns of entities and roles another replica wrote"
        }
        guard let url = storeURL, !dataDirectory.isEmpty, postgresURL == nil else { return nil }
        let expected = URL(fileURLWithPath: dataDirectory + "/kbs.sqlite").standardizedFileURL.path
        guard url.hasPrefix("sqlite:"), URL(fileURLWithPath: String(url.dropFirst(7))).standardizedFileURL.path == expected else {
            return
                "KBS_STORE_URL ([store] url) names another store than the data directory's \(expected); leave it unset, name that file, or name a PostgreSQL database (postgresql://…)"
        }
        return nil
    }

    /// The PostgreSQL store's URL, when ``storeURL`` names one.
    package var postgresURL: String? {
        guard let url = storeURL, !url.hasPrefix("sqlite:") else { return nil }
        return url
    }

    /// The store in words, for people: a PostgreSQL URL without its user and password.
    package var storeDescription: String {
        guard let url = postgresURL else { return storeURL ?? "sqlite in the data directory" }
        guard let parts = URLComponents(string: url), let host = parts.host else { return "postgresql" }
        return "postgresql://\(host):\(parts.port ?? 5432)\(parts.path)"
    }

    /// Whether HTTPS is served (a certificate and key are configured).
    package var servesTLS: Bool { tlsCertificate != nil && tlsPrivateKey != nil }

    /// Creates a configuration with the defaults for everything but the folders.
    package init(policies: String, dataDirectory: String, host: String = "127.0.0.1", port: Int = 8080) {
        self.policies = policies
        self.dataDirectory = dataDirectory
        self.host = host
        self.port = port
        self.maxBodyBytes = 1 << 20
        self.maxEvaluations = 1000
        self.reloadIntervalMilliseconds = 1000
        self.decisionLog = nil
        self.adminToken = nil
        self.publicURL = nil
        self.decisionLogQueueBytes = 16 << 20
        self.claimSchemas = BrokerSchemas.registry
        self.teeMode = .hardware
        self.masterPassphrase = nil
        self.pkcs11Module = nil
    }

    /// The tier-rules bundle: `tiers/` inside the policy bundle.
    package var tierPolicies: String { policies + "/tiers" }

    /// The decision log path this configuration resolves to.
    package var decisionLogPath: String { decisionLog ?? dataDirectory + "/decisions.log" }
}
