public import KBSKeys
import Synchronization

/// The key hierarchy, opened on first use: unsealing the master key derives a scrypt key (a second or more), which a
/// server that only answers AuthZEN never needs to pay for. A failed opening is retried on the next use.
public final class KeySource: Sendable {
    private let open: @Sendable () async throws -> KeyHierarchy
    private let state = Mutex<Task<KeyHierarchy, any Error>?>(nil)

    /// A source that runs `open` once, when first asked.
    public init(open: @escaping @Sendable () async throws -> KeyHierarchy) {
        self.open = open
    }

    /// A source for a hierarchy already open.
    public convenience init(_ hierarchy: KeyHierarchy) {
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
