import ArgumentParser
import Foundation
import KBSBroker
import KBSServer
import Logging

/// `kbs serve`: AuthZEN, the admin API, health and metrics on one port.
struct ServeCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "serve",
        abstract: "Serve key release (the KBS protocol), AuthZEN decisions and the admin API from a policy bundle and a SQLite store.",
        discussion: """
            The admin bearer token comes from KBS_ADMIN_TOKEN, else from DATA_DIR/admin-token, which is generated \
            (mode 0600) on first start. The master key is sealed in DATA_DIR/master.sealed under KBS_MASTER_PASSPHRASE, \
            else under a passphrase generated into DATA_DIR/master-passphrase (0600; for development). The bundle is reloaded when its files change and on SIGHUP; a bundle that \
            fails to compile is reported and the last good one keeps serving. SIGTERM or SIGINT stop the server. \
            /metrics is open unless --metrics-token-file or KBS_METRICS_TOKEN names a bearer token it then requires. \
            Core dumps are turned off (RLIMIT_CORE 0, not dumpable) before anything else. \
            Settings come from the defaults, then the --config file (TOML; `kbs config check FILE` validates it), then \
            the environment (KBS_HOST, KBS_PORT, KBS_DATA_DIR, KBS_POLICIES, TEE_MODE, ENABLE_TEE, PRIVACY_TIER, \
            KBS_STORE_URL, KMS_ENDPOINT, KBS_TLS_CERTIFICATE, KBS_TLS_PRIVATE_KEY, KBS_ALLOW_PLAIN_HTTP, KBS_KEY_SWEEP_INTERVAL_SECONDS, \
            KBS_COLLATERAL_*), \
            then the flags given here, each later one winning. With [tls] it serves HTTPS (HTTP/2 and HTTP/1.1), \
            re-reading the certificate and key when they change; without it, plain HTTP on a loopback address only, \
            unless allow_plain_http says a TLS proxy is in front. In hardware mode collateral the endorsements lack \
            (VCEKs, TCB info, QE identity, CRLs) is fetched from AMD KDS and Intel PCS and kept in DATA_DIR/collateral \
            ([collateral] in the file; KBS_COLLATERAL_FETCH=false turns it off). Every [keys] sweep_interval_seconds (60; \
            0 is off) keys past their deletion date are destroyed and KMS keys past their rotation period rotated.
            """
    )

    @Option(
        help: ArgumentHelp(
            "A TOML configuration file (see docs/kbs.example.toml); flags given here win over the environment, which wins over the file.",
            valueName: "file"))
    var config: String?

    @Option(
        help: ArgumentHelp(
            "A policy bundle folder; give it again to serve more bundles. Required unless --config or KBS_POLICIES names one.",
            valueName: "dir"))
    var policies: [String] = []

    @Option(
        name: .customLong("data-dir"),
        help: ArgumentHelp(
            "Where the store, admin token and decision log live. Required unless --config or KBS_DATA_DIR names one.", valueName: "dir"))
    var dataDirectory: String?

    @Option(help: "The address to listen on. Default: KBS_HOST, else [server] host, else 127.0.0.1.")
    var host: String?

    @Option(help: "The port to listen on; 0 picks a free one (printed when listening). Default: KBS_PORT, else [server] port, else 8080.")
    var port: Int?

    @Option(name: .customLong("max-body-bytes"), help: "Largest request body accepted; larger ones get 413.")
    var maxBodyBytes = 1 << 20

    @Option(
        name: .customLong("rate-limit"),
        help: "Requests a second each client address may make to /kbs/v0/auth and /kbs/v0/attest after its burst; 0 turns it off.")
    var rateLimit = 100.0

    @Option(name: .customLong("rate-limit-burst"), help: "Requests a client address may make at once before --rate-limit applies.")
    var rateLimitBurst = 400

    @Option(name: .customLong("reload-interval-ms"), help: "How often to check the bundle for changes; 0 turns it off.")
    var reloadIntervalMilliseconds = 1000

    @Option(name: .customLong("decision-log"), help: ArgumentHelp("Decision log file, `-` for standard output.", valueName: "path"))
    var decisionLog: String?

    @Option(name: .customLong("decision-log-queue-bytes"), help: "Decision-log bytes held while the file cannot be written; past it, 503.")
    var decisionLogQueueBytes = 16 << 20

    @Option(
        name: .customLong("tee-mode"),
        help: ArgumentHelp(
            "hardware (the vendor roots shipped with kbs and those in DATA_DIR/trust-anchors) or simulator (also the simulator CA in DATA_DIR/simulator-ca; tests only). Default: TEE_MODE, else [server] tee_mode, else hardware.",
            valueName: "mode"))
    var teeMode: String?

    @Option(name: .customLong("public-url"), help: "The URL clients use, for the AuthZEN issuer (default: from the Host header).")
    var publicURL: String?

    @Option(
        name: .customLong("metrics-token-file"),
        help: ArgumentHelp(
            "A file (mode 0600) holding the bearer token /metrics then requires; wins over KBS_METRICS_TOKEN. Default: /metrics is open.",
            valueName: "path"))
    var metricsTokenFile: String?

    func validate() throws {
        if let port, !(0...65535).contains(port) { throw ValidationError("--port must be from 0 to 65535") }
        if config == nil {
            let environment = ProcessInfo.processInfo.environment
            if policies.isEmpty, EnvironmentVariable.policies.value(in: environment) == nil {
                throw ValidationError("--policies is required without --config (or set KBS_POLICIES)")
            }
            if dataDirectory == nil, EnvironmentVariable.dataDirectory.value(in: environment) == nil {
                throw ValidationError("--data-dir is required without --config (or set KBS_DATA_DIR)")
            }
        }
        guard maxBodyBytes >= 1024 else { throw ValidationError("--max-body-bytes must be at least 1024") }
        guard rateLimit >= 0, rateLimit.isFinite else { throw ValidationError("--rate-limit must be 0 (off) or a positive number") }
        guard rateLimitBurst >= 1 else { throw ValidationError("--rate-limit-burst must be at least 1") }
        guard decisionLogQueueBytes >= 4096 else { throw ValidationError("--decision-log-queue-bytes must be at least 4096") }
        guard reloadIntervalMilliseconds >= 0 else { throw ValidationError("--reload-interval-ms must not be negative") }
        if let teeMode, BrokerConfiguration.TEEMode(rawValue: teeMode) == nil {
            throw ValidationError("--tee-mode must be hardware or simulator, not \(teeMode)")
        }
    }

    func run() async throws {
        // First, before the master key or any secret is read into memory.
        let hardening: ProcessHardening.State
        do { hardening = try ProcessHardening.disableCoreDumps() } catch { throw Refusal(code: error.code, message: error.message) }
        let environment = ProcessInfo.processInfo.environment
        let level = EnvironmentVariable.logLevel.value(in: environment).flatMap(Logger.Level.init(rawValue:)) ?? .info
        LoggingSystem.bootstrap { label in
            var handler = StreamLogHandler.standardError(label: label)
            handler.logLevel = level
            return handler
        }
        Logger(label: "kbs").notice(
            "core dumps disabled",
            metadata: ["rlimit_core": "\(hardening.coreFileLimit)", "dumpable": "\(hardening.dumpable)"])
        var configuration = try settings(environment: environment)
        configuration.maxBodyBytes = maxBodyBytes
        configuration.rateLimitPerSecond = rateLimit
        configuration.rateLimitBurst = rateLimitBurst
        configuration.reloadIntervalMilliseconds = reloadIntervalMilliseconds
        configuration.decisionLog = decisionLog
        configuration.publicURL = publicURL
        configuration.decisionLogQueueBytes = decisionLogQueueBytes
        configuration.claimSchemas = PolicyCommand.registry
        configuration.adminToken = EnvironmentVariable.adminToken.value(in: environment)
        configuration.masterPassphrase = EnvironmentVariable.masterPassphrase.value(in: environment)
        configuration.pkcs11Module = EnvironmentVariable.pkcs11Module.value(in: environment)
        configuration.metricsTokenFile = metricsTokenFile
        configuration.metricsToken = EnvironmentVariable.metricsToken.value(in: environment)
        let server: Server
        do {
            server = try await Server(configuration: configuration)
        } catch {
            throw Refusal(code: error.code, message: error.message)
        }
        let host = configuration.host
        let port = configuration.port
        let hash = server.policyHash
        let scheme = configuration.servesTLS ? "https" : "http"
        do {
            try await server.run { port in
                Console.out("kbs: listening on \(scheme)://\(host):\(port) (policy \(hash))")
            }
        } catch {
            throw Refusal(code: "serve", message: "cannot serve on \(host):\(port): \(error)")
        }
    }

    /// The configuration from the defaults, then `--config`, then the environment, then the flags given here; a file
    /// or variable with mistakes is refused after each is printed as `FILE:LINE: error: …`.
    func settings(environment: [String: String]) throws -> ServerConfiguration {
        var configuration = ServerConfiguration(policies: "", dataDirectory: "")
        if let config {
            configuration = try Self.accept(ConfigurationFile.load(path: config, over: configuration), from: config)
            // Watched while serving: its identity sections reload on change and SIGHUP.
            configuration.configurationFile = URL(fileURLWithPath: config).standardizedFileURL.path
        }
        configuration = try Self.accept(ConfigurationFile.applyingEnvironment(environment, to: configuration), from: "the environment")
        if let first = policies.first {
            configuration.policies = first
            configuration.additionalPolicies = Array(policies.dropFirst())
        }
        if let dataDirectory { configuration.dataDirectory = dataDirectory }
        if let host { configuration.host = host }
        if let port { configuration.port = port }
        if let mode = teeMode.flatMap(BrokerConfiguration.TEEMode.init(rawValue:)) { configuration.teeMode = mode }
        guard !configuration.policies.isEmpty else {
            throw Refusal(code: "usage", message: "no policy bundle: give --policies, KBS_POLICIES or [server] policies in --config")
        }
        guard !configuration.dataDirectory.isEmpty else {
            throw Refusal(code: "usage", message: "no data directory: give --data-dir, KBS_DATA_DIR or [server] data_dir in --config")
        }
        configuration.environment = environment
        // KMS_ENDPOINT names the Infisical instance holding the master key; the explicit Infisical variables win.
        if let endpoint = configuration.kmsEndpoint {
            if EnvironmentVariable.masterKey.value(in: environment) == nil { configuration.environment[MasterKeySelection.variable] = "infisical" }
            if EnvironmentVariable.infisicalAPIURL.value(in: environment) == nil {
                configuration.environment[EnvironmentVariable.infisicalAPIURL.rawValue] = endpoint
            }
        }
        return configuration
    }

    /// The configuration an outcome carries, or a refusal once its diagnostics are printed.
    private static func accept(_ outcome: ConfigurationFile.Outcome, from source: String) throws -> ServerConfiguration {
        switch outcome {
        case .loaded(let configuration): return configuration
        case .rejected(let diagnostics):
            for diagnostic in diagnostics { Console.err(diagnostic.description) }
            throw Refusal(code: "config", message: "\(source) has \(diagnostics.count) error\(diagnostics.count == 1 ? "" : "s")")
        }
    }
}
