import Logging
import ServiceLifecycle
import UnixSignals

/// Reloads the policy bundle, the configuration file's identity sections and the TLS certificate when their files change
/// (polled) and on SIGHUP, and the entities when another replica changed them (polled), until the server shuts down.
struct PolicyWatcher: Service {
    let policies: PolicyHolder
    /// The entities in memory: each poll reloads them when the store's generation moved, so a write on one replica
    /// reaches every other within one interval.
    let entities: EntityView
    let logger: Logger
    /// The KMS API's bundle, when one is served.
    let kmsPolicies: PolicyHolder?
    let identity: IdentityHolder
    /// The TLS certificate and key, when serving HTTPS.
    let tls: TLSCertificates?
    let intervalMilliseconds: Int

    func run() async throws {
        await withTaskGroup(of: Void.self) { group in
            group.addTask {
                for await _ in await UnixSignalsSequence(trapping: .sighup) {
                    await policies.reload(trigger: "SIGHUP")
                    if let kmsPolicies { await kmsPolicies.reload(trigger: "SIGHUP") }
                    _ = await Blocking.run { identity.reload(trigger: "SIGHUP") }
                    if let tls { await Blocking.run { tls.reload(trigger: "SIGHUP") } }
                }
            }
            if intervalMilliseconds > 0 {
                group.addTask {
                    while !Task.isCancelled {
                        try? await Task.sleep(for: .milliseconds(intervalMilliseconds))
                        if Task.isCancelled { break }
                        await policies.reloadIfChanged()
                        if let kmsPolicies { await kmsPolicies.reloadIfChanged() }
                        do throws(ServerError) {
                            try await entities.refreshIfChanged()
                        } catch {
                            // The view keeps serving what it last loaded; the next poll tries again.
                            logger.error("entity refresh failed", metadata: ["error": "\(error.message)"])
                        }
                        await Blocking.run { identity.reloadIfChanged() }
                        if let tls { await Blocking.run { tls.reloadIfChanged() } }
                    }
                }
            }
            try? await gracefulShutdown()
            group.cancelAll()
        }
    }
}
