import ServiceLifecycle
import UnixSignals

/// Reloads the policy bundle and the configuration file's identity sections when their files change (polled) and on
/// SIGHUP, until the server shuts down.
struct PolicyWatcher: Service {
    let policies: PolicyHolder
    let identity: IdentityHolder
    let intervalMilliseconds: Int

    func run() async throws {
        await withTaskGroup(of: Void.self) { group in
            group.addTask {
                for await _ in await UnixSignalsSequence(trapping: .sighup) {
                    _ = await Blocking.run { policies.reload(trigger: "SIGHUP") }
                    _ = await Blocking.run { identity.reload(trigger: "SIGHUP") }
                }
            }
            if intervalMilliseconds > 0 {
                group.addTask {
                    while !Task.isCancelled {
                        try? await Task.sleep(for: .milliseconds(intervalMilliseconds))
                        if Task.isCancelled { break }
                        await Blocking.run { policies.reloadIfChanged() }
                        await Blocking.run { identity.reloadIfChanged() }
                    }
                }
            }
            try? await gracefulShutdown()
            group.cancelAll()
        }
    }
}
