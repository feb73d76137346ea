import CoreMetrics
import KBSClaims
import KBSKeys
import Metrics
import Prometheus
import Synchronization

/// The server's metrics, through swift-metrics into a Prometheus registry of its own (one per server, so
/// several servers in one process, as in tests, never share counts).
final class ServerMetrics: Sendable {
    private struct RouteKey: Hashable {
        var route: String
        var method: String
        var status: Int
    }

    private let registry = PrometheusCollectorRegistry()
    private let factory: PrometheusMetricsFactory
    private let routes = Mutex<[RouteKey: (requests: Metrics.Counter, latency: Metrics.Timer)]>([:])

    let permits: Metrics.Counter
    let denies: Metrics.Counter
    /// Decisions in which a rule hit a runtime error (each also counts as a deny).
    let policyErrors: Metrics.Counter
    let reloadsSucceeded: Metrics.Counter
    let reloadsFailed: Metrics.Counter
    /// 1 while the newest policy on disk fails to compile and an older one is serving.
    let reloadFailing: Metrics.Gauge
    let configurationReloadsSucceeded: Metrics.Counter
    let configurationReloadsFailed: Metrics.Counter
    /// 1 while the newest configuration file fails to load and the last good one serves.
    let configurationReloadFailing: Metrics.Gauge
    let tlsReloadsSucceeded: Metrics.Counter
    let tlsReloadsFailed: Metrics.Counter
    /// 1 while the newest TLS certificate or key fails to load and the last good pair serves.
    let tlsReloadFailing: Metrics.Gauge
    /// Failed writes of the decision log (the lines stay buffered).
    let decisionLogWriteFailures: Metrics.Counter
    /// Decisions refused with 503 because the decision log's buffer was full.
    let decisionLogRefused: Metrics.Counter

    /// Latency of resource requests (`/kbs/v0/resource`), released or refused.
    let releaseLatency: Metrics.Timer
    /// Resource requests the release policy denied.
    let releaseDenies: Metrics.Counter
    /// Steps refused because their audit record could not be written.
    let auditFailures: Metrics.Counter
    /// Requests refused with 429 by the per-address rate limit.
    let rateLimited: Metrics.Counter
    /// Key sweeps that did everything due, and those in which something failed (retried at the next sweep).
    let keySweepsSucceeded: Metrics.Counter
    let keySweepsFailed: Metrics.Counter
    /// Keys the sweeper destroyed (their deletion date had come) and KMS keys it rotated (their period had passed).
    let keySweepDestroyed: Metrics.Counter
    let keySweepRotated: Metrics.Counter
    private let attestations = Mutex<[String: (Metrics.Counter, Metrics.Timer)]>([:])
    private let keyOperations = Mutex<[String: Metrics.Counter]>([:])

    /// Counts a successful key operation by name (rate() of it is key operations per second).
    func recordKeyOperation(_ operation: String) {
        let counter = keyOperations.withLock { cache in
            if let found = cache[operation] { return found }
            let made = Metrics.Counter(label: "kbs_key_operations_total", dimensions: [("operation", operation)], factory: factory)
            cache[operation] = made
            return made
        }
        counter.increment()
    }

    private let kmsRequests = Mutex<[String: Metrics.Counter]>([:])

    /// Counts one AWS KMS API request by operation and result (`ok`, or the AWS error type it was answered with).
    ///
    /// Both label sets are closed: operations are the served ones (or `unknown`) and results AWS's error types.
    func recordKMS(operation: String, result: String) { count("kbs_kms_requests_total", operation: operation, result: result) }

    /// Counts a Vault API request by operation (`kv:read`, `transit:encrypt`, `token:lookup-self`, …) and result
    /// (`ok` or the HTTP status).
    func recordVault(operation: String, result: String) { count("kbs_vault_requests_total", operation: operation, result: result) }

    private func count(_ label: String, operation: String, result: String) {
        let key = label + " " + operation + " " + result
        let counter = kmsRequests.withLock { cache in
            if let found = cache[key] { return found }
            let made = Metrics.Counter(label: label, dimensions: [("operation", operation), ("result", result)], factory: factory)
            cache[key] = made
            return made
        }
        counter.increment()
    }

    init() {
        var factory = PrometheusMetricsFactory(registry: registry)
        factory.defaultDurationHistogramBuckets = [
            .microseconds(50), .microseconds(100), .microseconds(250), .microseconds(500), .milliseconds(1),
            .microseconds(2500), .milliseconds(5), .milliseconds(10), .milliseconds(50), .milliseconds(250), .seconds(1),
        ]
        self.factory = factory
        permits = Metrics.Counter(label: "kbs_decisions_total", dimensions: [("decision", "permit")], factory: factory)
        denies = Metrics.Counter(label: "kbs_decisions_total", dimensions: [("decision", "deny")], factory: factory)
        policyErrors = Metrics.Counter(label: "kbs_policy_errors_total", factory: factory)
        reloadsSucceeded = Metrics.Counter(label: "kbs_policy_reloads_total", dimensions: [("result", "ok")], factory: factory)
        reloadsFailed = Metrics.Counter(label: "kbs_policy_reloads_total", dimensions: [("result", "failed")], factory: factory)
        reloadFailing = Metrics.Gauge(label: "kbs_policy_reload_failing", factory: factory)
        configurationReloadsSucceeded = Metrics.Counter(label: "kbs_config_reloads_total", dimensions: [("result", "ok")], factory: factory)
        configurationReloadsFailed = Metrics.Counter(label: "kbs_config_reloads_total", dimensions: [("result", "failed")], factory: factory)
        configurationReloadFailing = Metrics.Gauge(label: "kbs_config_reload_failing", factory: factory)
        tlsReloadsSucceeded = Metrics.Counter(label: "kbs_tls_reloads_total", dimensions: [("result", "ok")], factory: factory)
        tlsReloadsFailed = Metrics.Counter(label: "kbs_tls_reloads_total", dimensions: [("result", "failed")], factory: factory)
        tlsReloadFailing = Metrics.Gauge(label: "kbs_tls_reload_failing", factory: factory)
        decisionLogWriteFailures = Metrics.Counter(label: "kbs_decision_log_write_failures_total", factory: factory)
        decisionLogRefused = Metrics.Counter(label: "kbs_decision_log_refused_total", factory: factory)
        releaseLatency = Metrics.Timer(label: "kbs_release_duration_seconds", factory: factory)
        releaseDenies = Metrics.Counter(label: "kbs_release_denies_total", factory: factory)
        rateLimited = Metrics.Counter(label: "kbs_rate_limited_total", factory: factory)
        auditFailures = Metrics.Counter(label: "kbs_audit_failures_total", factory: factory)
        keySweepsSucceeded = Metrics.Counter(label: "kbs_key_sweeps_total", dimensions: [("result", "ok")], factory: factory)
        keySweepsFailed = Metrics.Counter(label: "kbs_key_sweeps_total", dimensions: [("result", "failed")], factory: factory)
        keySweepDestroyed = Metrics.Counter(label: "kbs_key_sweep_destroyed_total", factory: factory)
        keySweepRotated = Metrics.Counter(label: "kbs_key_sweep_rotated_total", factory: factory)
        reloadFailing.record(0)
        configurationReloadFailing.record(0)
    }

    /// What this machine offers (detected at start): 1 or 0 per facility, and the tier keys here can be held at.
    func recordPlatform(_ platform: PlatformCapabilities) {
        let facilities: [(String, Bool)] = [
            ("sev-snp", platform.sevSNPGuest), ("tdx", platform.tdxGuest), ("configfs-tsm", platform.configfsTSM), ("tpm", platform.tpm),
            ("pkcs11", platform.pkcs11Module != nil), ("gpu-cc", platform.gpuConfidentialComputing), ("gpu-tee-io", platform.gpuTEEIO),
        ]
        for (name, present) in facilities {
            Metrics.Gauge(label: "kbs_tee_available", dimensions: [("tee", name)], factory: factory).record(present ? 1 : 0)
        }
        Metrics.Gauge(label: "kbs_platform_tier", factory: factory).record(platform.tier.rawValue)
    }

    /// Counts an attestation by TEE kind and result, with its latency.
    func recordAttestation(kind: String, success: Bool, nanoseconds: UInt64) {
        let result = success ? "success" : "failure"
        let (counter, timer) = attestations.withLock { cache in
            if let found = cache[kind + "/" + result] { return found }
            let made = (
                Metrics.Counter(label: "kbs_attestations_total", dimensions: [("tee", kind), ("result", result)], factory: factory),
                Metrics.Timer(label: "kbs_attestation_duration_seconds", dimensions: [("tee", kind)], factory: factory)
            )
            cache[kind + "/" + result] = made
            return made
        }
        counter.increment()
        timer.recordNanoseconds(Int64(clamping: nanoseconds))
    }

    /// Counts one request and its latency under its route pattern (not its raw path, which would explode the label space).
    func recordRequest(route: String, method: String, status: Int, nanoseconds: Int64) {
        let key = RouteKey(route: route, method: method, status: status)
        let metrics = routes.withLock { cache in
            if let found = cache[key] { return found }
            let dimensions = [("route", route), ("method", method), ("status", String(status))]
            let made = (
                requests: Metrics.Counter(label: "kbs_http_requests_total", dimensions: dimensions, factory: factory),
                latency: Metrics.Timer(label: "kbs_http_request_duration_seconds", dimensions: dimensions, factory: factory)
            )
            cache[key] = made
            return made
        }
        metrics.requests.increment()
        metrics.latency.recordNanoseconds(nanoseconds)
    }

    /// Counts a decision by outcome.
    func recordDecision(permitted: Bool, hadErrors: Bool) {
        (permitted ? permits : denies).increment()
        if hadErrors { policyErrors.increment() }
    }

    /// Everything in the Prometheus text format.
    func exposition() -> [UInt8] {
        registry.emitToBuffer()
    }
}
