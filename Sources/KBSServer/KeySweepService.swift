import CoreMetrics
import KBSBroker
import Logging
import ServiceLifecycle

/// Runs the broker's ``KeySweeper`` every `[keys] sweep_interval_seconds` beside the HTTP server, until it shuts down:
/// keys past their deletion date are destroyed and KMS keys past their rotation period rotated without waiting for a
/// request to touch them; so are Transit keys past their `auto_rotate_period` (``others``).
///
/// A sweep never stops the server: what fails is logged (key ids and reasons, never key material), counted in
/// `kbs_key_sweeps_total{result="failed"}` and tried again at the next sweep. At shutdown the wait for the next sweep
/// ends at once, and a sweep under way stops before its next key.
struct KeySweepService: Service {
    let sweeper: KeySweeper
    /// Further sweeps run after the key sweeper's (the Vault API's Transit rotations).
    var others: [@Sendable () async -> KeySweep] = []
    let intervalSeconds: Int
    let metrics: ServerMetrics
    let logger: Logger

    func run() async throws {
        guard intervalSeconds > 0 else {
            // Off; still a service of the group until shutdown, since a service that returns early ends the group.
            try? await gracefulShutdown()
            return
        }
        await withTaskGroup(of: Void.self) { group in
            group.addTask {
                while !Task.isCancelled {
                    try? await Task.sleep(for: .seconds(intervalSeconds))
                    if Task.isCancelled { break }
                    await sweepOnce()
                }
            }
            try? await gracefulShutdown()
            group.cancelAll()
        }
    }

    /// One sweep, logged and counted.
    func sweepOnce() async {
        var sweep = await sweeper.sweep()
        for other in others {
            let more = await other()
            sweep.destroyed += more.destroyed
            sweep.rotated += more.rotated
            sweep.failures += more.failures
        }
        for id in sweep.destroyed { logger.notice("key sweep: destroyed a key past its deletion date", metadata: ["key": "\(id)"]) }
        for id in sweep.rotated { logger.notice("key sweep: rotated a key past its rotation period", metadata: ["key": "\(id)"]) }
        for failure in sweep.failures {
            logger.error(
                "key sweep: failed; the next sweep tries again",
                metadata: ["key": "\(failure.key)", "code": "\(failure.code)", "error": "\(failure.message)"])
        }
        metrics.keySweepDestroyed.increment(by: sweep.destroyed.count)
        metrics.keySweepRotated.increment(by: sweep.rotated.count)
        (sweep.failures.isEmpty ? metrics.keySweepsSucceeded : metrics.keySweepsFailed).increment()
    }
}
