import Foundation
import KBSClaims
package import KBSKeys
import Synchronization

/// The key hierarchy, opened on first use: unsealing the master key derives a scrypt key (a second or more), which a
/// server that only answers AuthZEN never needs to pay for. A failed opening is retried on the next use.
package final class KeySource: Sendable {
    private let open: @Sendable () async throws -> KeyHierarchy
    private let state = Mutex<Task<KeyHierarchy, any Error>?>(nil)
    /// Data keys this process has seen exist: keys are never removed but by destruction, after which using one fails
    /// as it would unchecked, so each release need not read the records again only to learn they are there.
    fileprivate let present = Mutex<Set<String>>([])

    /// A source that runs `open` once, when first asked.
    package init(open: @escaping @Sendable () async throws -> KeyHierarchy) {
        self.open = open
    }

    /// A source for a hierarchy already open.
    package convenience init(_ hierarchy: KeyHierarchy) {
        self.init(open: { hierarchy })
    }

    func hierarchy() async throws(BrokerError) -> KeyHierarchy {
        let task = state.withLock { current in
            if let current { return current }
            let made = Task { try await open() }
            current = made
            return made
        }
        do {
            return try await task.value
        } catch {
            state.withLock { if $0 == task { $0 = nil } }
            let reason = (error as? KeyError)?.message ?? "\(error)"
            throw BrokerError(.unavailable, "master_key", "the key hierarchy cannot be opened: \(reason)")
        }
    }
}

extension KeySource {
    /// The hierarchy with data key `id` under key-encryption key `parent` in it, each created when missing; also the
    /// ids this call created, for the caller to audit. Another process may race to create them, and its keys are as
    /// good.
    func hierarchy(dataKey id: String, parent: String, now: Date) async throws(BrokerError) -> (KeyHierarchy, created: [String]) {
        let keys = try await hierarchy()
        if present.withLock({ $0.contains(id) }) { return (keys, []) }
        var created: [String] = []
        do {
            do { _ = try await keys.record(parent) } catch let error where error.reason == .notFound {
                if (try? await keys.createKeyEncryptionKey(id: parent, now: now)) != nil { created.append(parent) }
            }
            do { _ = try await keys.record(id) } catch let error where error.reason == .notFound {
                if (try? await keys.createDataKey(id: id, parent: parent, now: now)) != nil { created.append(id) }
            }
            _ = try await keys.record(id)
        } catch {
            throw BrokerError(.unavailable, "keys", "the key \(id) cannot be prepared: \(error.message)")
        }
        present.withLock { _ = $0.insert(id) }
        return (keys, created)
    }
}
