import CoreMetrics
import Foundation
import KBSBroker
import KBSClaims
import KBSIdentity
import KBSStore
import Logging
import Synchronization

/// The identity side in service, and its reloading from the configuration file: a changed file (polled) or SIGHUP
/// reads the file again and swaps in the new `[identity…]` sections; a file that does not load keeps the last good
/// ones serving, reported in the log and in `kbs_config_reload_failing`.
///
/// Only the identity sections take effect on reload; the listener, the store, the data directory and the policies
/// are read at start (the log says so when the file changes them).
final class IdentityHolder: Sendable {
    private struct State {
        var identity: ServerIdentity
        var configuration: ServerConfiguration
        var fingerprint: [UInt8]
    }

    private let state: Mutex<State>
    private let reloading = Mutex(())
    private let sessions: any SessionStore
    private let replay: any ReplayCache
    private let pepper: [UInt8]
    private let broker: Broker
    private let metrics: ServerMetrics
    private let logger: Logger

    /// Builds the identity side of `configuration` over `sessions` and `replay` (on PostgreSQL, shared by every
    /// replica) and the API-key `pepper`; a reload keeps them and changes only the configured verifiers.
    init(
        configuration: ServerConfiguration, sessions: any SessionStore, replay: any ReplayCache, pepper: [UInt8], broker: Broker,
        metrics: ServerMetrics, logger: Logger
    ) throws(ServerError) {
        self.sessions = sessions
        self.replay = replay
        self.pepper = pepper
        self.broker = broker
        self.metrics = metrics
        self.logger = logger
        let identity = try ServerIdentity(configuration: configuration, sessions: sessions, replay: replay, pepper: pepper, broker: broker)
        let fingerprint = configuration.configurationFile.map(IdentityHolder.fingerprint(of:)) ?? []
        state = Mutex(State(identity: identity, configuration: configuration, fingerprint: fingerprint))
    }

    /// The identity side to serve a request with.
    var current: ServerIdentity { state.withLock { $0.identity } }

    /// Reloads when the configuration file's bytes changed since the last attempt.
    func reloadIfChanged() {
        guard let path = state.withLock({ $0.configuration.configurationFile }) else { return }
        let fingerprint = IdentityHolder.fingerprint(of: path)
        guard state.withLock({ $0.fingerprint != fingerprint }) else { return }
        reload(trigger: "file change")
    }

    /// Reads the configuration file again and swaps in its identity sections; false when it failed (and the last
    /// good configuration keeps serving).
    @discardableResult
    func reload(trigger: String) -> Bool {
        reloading.withLock { _ in
            let running = state.withLock { $0.configuration }
            guard let path = running.configurationFile else { return true }
            let fingerprint = IdentityHolder.fingerprint(of: path)
            state.withLock { $0.fingerprint = fingerprint }
            do throws(ServerError) {
                // Over an empty identity: a section taken out of the file is taken out of service.
                var base = running
                base.identity = IdentityConfiguration()
                let loaded = try ConfigurationFile.load(path: path, over: base).get()
                var next = running
                next.identity = loaded.identity
                let identity = try ServerIdentity(configuration: next, sessions: sessions, replay: replay, pepper: pepper, broker: broker)
                state.withLock {
                    $0.identity = identity
                    $0.configuration = next
                }
                metrics.configurationReloadsSucceeded.increment()
                metrics.configurationReloadFailing.record(0)
                logger.notice(
                    "configuration reloaded: identity sections in service", metadata: ["file": "\(path)", "trigger": "\(trigger)"])
                if loaded.host != running.host || loaded.port != running.port || loaded.dataDirectory != running.dataDirectory
                    || loaded.policies != running.policies
                {
                    logger.warning("the file changes settings read only at start; restart to apply them", metadata: ["file": "\(path)"])
                }
                return true
            } catch {
                metrics.configurationReloadsFailed.increment()
                metrics.configurationReloadFailing.record(1)
                logger.error(
                    "configuration reload failed; the last good configuration keeps serving",
                    metadata: ["file": "\(path)", "trigger": "\(trigger)", "diagnostics": "\(error.message)"])
                return false
            }
        }
    }

    /// SHA-256 of the file's bytes (empty when it cannot be read, which a reload then reports).
    static func fingerprint(of path: String) -> [UInt8] {
        guard let data = FileManager.default.contents(atPath: path) else { return [] }
        return SHA256Digest.hash(Array(data))
    }
}
