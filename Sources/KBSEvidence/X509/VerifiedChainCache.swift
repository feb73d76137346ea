import Crypto
package import Foundation
import Synchronization

/// Certificate facts already established — a chain verified to an anchor, a link's signature, a CRL applied — by the
/// SHA-256 of what they are about, so that a known device costs only its report signature and binding checks.
///
/// Every key covers the SHA-256 fingerprint of each certificate (and CRL, and signed body) involved, so a changed
/// certificate or a new CRL is a different key and is checked in full. Each entry holds the window in which the
/// fact stands (from the latest `notBefore`/`thisUpdate` to the earliest `notAfter`/`nextUpdate`) and answers only
/// at a time inside it — the verifier's time, never the system clock, so a pinned `--at` or a test moves it. Only
/// successes are stored: a revoked, expired or broken chain is never served from here.
///
/// Bounded: past `capacity` entries the oldest is dropped.
package final class VerifiedChainCache: Sendable {
    /// The process-wide cache the verifiers use.
    package static let shared = VerifiedChainCache(capacity: 4096)

    /// A fact's identity: SHA-256 over its domain and the fingerprints of what it is about.
    package struct Key: Hashable, Sendable {
        let digest: SHA256.Digest

        /// The key for `domain` ("chain", "link", "crl"…) over `parts` in order.
        package init(_ domain: String, _ parts: [[UInt8]]) {
            var hasher = SHA256()
            hasher.update(data: Array(domain.utf8) + [0])
            for part in parts {
                // Length-prefixed, so that parts cannot run into one another.
                withUnsafeBytes(of: UInt32(part.count).bigEndian) { hasher.update(bufferPointer: $0) }
                hasher.update(data: part)
            }
            digest = hasher.finalize()
        }
    }

    private struct Entry {
        var validFrom: Date
        var validUntil: Date
        var value: [UInt8]
        var serial: UInt64
    }

    private struct State {
        var entries: [Key: Entry] = [:]
        var order = InsertionOrder<Key>()
    }

    /// The most entries kept.
    package let capacity: Int
    private let state = Mutex(State())

    /// Creates an empty cache of at most `capacity` entries.
    package init(capacity: Int) { self.capacity = max(capacity, 0) }

    /// How many entries are held.
    package var count: Int { state.withLock { $0.entries.count } }

    /// The value stored for `key` when `time` is inside its window; nil otherwise (an entry whose window has passed
    /// is dropped).
    package func value(for key: Key, at time: Date) -> [UInt8]? {
        state.withLock { state in
            guard let entry = state.entries[key] else { return nil }
            if time > entry.validUntil { state.entries[key] = nil }
            guard entry.validFrom <= time, time <= entry.validUntil else { return nil }
            return entry.value
        }
    }

    /// Whether `key` holds at `time`.
    package func contains(_ key: Key, at time: Date) -> Bool { value(for: key, at: time) != nil }

    /// Remembers `key` as holding from `validFrom` to `validUntil`, with `value` (e.g. the anchor's fingerprint).
    package func insert(_ key: Key, value: [UInt8] = [], validFrom: Date, validUntil: Date) {
        guard capacity > 0, validFrom <= validUntil else { return }
        state.withLock { state in
            let serial = state.order.record(key)
            state.entries[key] = Entry(validFrom: validFrom, validUntil: validUntil, value: value, serial: serial)
            state.order.trim(&state.entries, to: capacity) { $0.serial }
        }
    }
}
