import Synchronization

/// Remembers single-use values (nonces, assertion ids) until they expire, so a second use is refused.
package protocol ReplayCache: Sendable {
    /// Records `value` in `namespace` until `expiry` (Unix seconds); false when it was already there and unexpired.
    func insert(_ value: String, namespace: String, expiry: Int64, now: Int64) -> Bool
}

/// A ``ReplayCache`` in memory: enough for one process (`kbs identity verify`, tests); the server backs it with
/// SQLite so a restart does not forget.
package final class MemoryReplayCache: ReplayCache {
    private let seen = Mutex<[String: Int64]>([:])

    /// Creates an empty cache.
    package init() {}

    package func insert(_ value: String, namespace: String, expiry: Int64, now: Int64) -> Bool {
        seen.withLock { table in
            if table.count > 10_000 { table = table.filter { $0.value > now } }
            let key = namespace + "\u{0}" + value
            if let until = table[key], until > now { return false }
            table[key] = expiry
            return true
        }
    }
}
