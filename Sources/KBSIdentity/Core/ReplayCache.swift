import KBSClaims
import Synchronization

/// Remembers single-use values (nonces, assertion ids) until they expire, so a second use is refused.
package protocol ReplayCache: Sendable {
    /// Records `value` in `namespace` until `expiry` (Unix seconds); false when it was already there and unexpired.
    ///
    /// A cache that cannot be read or written throws (reason `configuration`, which the broker answers with 503): a
    /// value that cannot be recorded must not be accepted, and the credential may well be fine.
    func insert(_ value: String, namespace: String, expiry: Int64, now: Int64) async throws(IdentityError) -> Bool
}

/// A ``ReplayCache`` over a store's table of single-use values, kept in milliseconds as the broker's nonces are: the
/// store supplies the one atomic use, this the conversion and the failing closed.
package protocol SingleUseReplayCache: ReplayCache {
    /// Uses `value` once in `namespace` until `expiry` (milliseconds); false when it is already in use.
    func useOnce(_ value: String, namespace: String, expiryMilliseconds: Int64, nowMilliseconds: Int64) async throws -> Bool
}

extension SingleUseReplayCache {
    /// Throws when the store cannot be written: a value that cannot be recorded cannot be accepted.
    package func insert(_ value: String, namespace: String, expiry: Int64, now: Int64) async throws(IdentityError) -> Bool {
        let (expiry, now) = (expiry.multipliedReportingOverflow(by: 1000), now.multipliedReportingOverflow(by: 1000))
        // Times no clock reaches: refused as seen rather than recorded wrapped around.
        guard !expiry.overflow, !now.overflow else { return false }
        do {
            return try await useOnce(value, namespace: namespace, expiryMilliseconds: expiry.partialValue, nowMilliseconds: now.partialValue)
        } catch {
            throw IdentityError(.configuration, "the replay cache failed: \(error)")
        }
    }
}

/// A ``ReplayCache`` in memory: enough for one process (`kbs identity verify`, tests); the server backs it with its
/// store (SQLite or PostgreSQL) so a restart does not forget and every replica sees every use.
package final class MemoryReplayCache: ReplayCache {
    private let seen = Mutex<[String: Int64]>([:])

    /// Creates an empty cache.
    package init() {}

    package func insert(_ value: String, namespace: String, expiry: Int64, now: Int64) async throws(IdentityError) -> Bool {
        seen.withLock { table in
            if table.count > 10_000 { table = table.filter { $0.value > now } }
            let key = namespace + "\u{0}" + value
            if let until = table[key], until > now { return false }
            table[key] = expiry
            return true
        }
    }
}
