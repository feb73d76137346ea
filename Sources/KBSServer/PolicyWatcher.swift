import ServiceLifecycle
import UnixSignals

/// Reloads the policy bundle, the configuration file's identity sections and the TLS certificate when their files change
/// (polled) and on SIGHUP, until the server shuts down.
struct PolicyWatcher: Service {
    let policies: PolicyHolder
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
                    _ = await Blocking.run { policies.reload(trigger: "SIGHUP") }
                    if let kmsPolicies { _ = await Blocking.run { kmsPolicies.reload(trigger: "SIGHUP") } }
                    _ = await Blocking.run { identity.reload(trigger: "SIGHUP") }
                    if let tls { await Blocking.run { tls.reload(trigger: "SIGHUP") } }
                }
            }
            if intervalMilliseconds > 0 {
                group.addTask {
                    while !Task.isCancelled {
                        try? await Task.sleep(for: .milliseconds(intervalMilliseconds))
                        if Task.isCancelled { break }
                        await Blocking.run { policies.reloadIfChanged() }
                        if let kmsPolicies { await Blocking.run { kmsPolicies.reloadIfChanged() } }
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
