import Crypto
import Foundation
import Synchronization

/// Tokens whose HMAC chain verified recently, by the SHA-256 of their text, so that an agent presenting the same
/// token again skips unwrapping the root key. It holds only that outcome: expiry and revocation are checked on every
/// verification regardless, so a hit never lets a revoked or expired token through.
///
/// Bounded in count and age: a full cache drops expired entries, then the oldest.
final class CapabilityCache: Sendable {
    private struct Entry {
        var token: CapabilityToken
        var added: Date
    }

    let capacity: Int
    let lifetime: TimeInterval
    private let entries = Mutex<[SHA256.Digest: Entry]>([:])

    init(capacity: Int, lifetime: TimeInterval) {
        self.capacity = max(capacity, 0)
        self.lifetime = lifetime
    }

    /// The verified token for `digest`, if it was added within the lifetime before `now`.
    func lookup(_ digest: SHA256.Digest, now: Date) -> CapabilityToken? {
        entries.withLock { entries in
            guard let entry = entries[digest] else { return nil }
            // A clock that went back counts as stale too.
            guard now >= entry.added, now.timeIntervalSince(entry.added) < lifetime else {
                entries[digest] = nil
                return nil
            }
            return entry.token
        }
    }

    func add(_ digest: SHA256.Digest, token: CapabilityToken, now: Date) {
        guard capacity > 0 else { return }
        entries.withLock { entries in
            if entries[digest] == nil, entries.count >= capacity {
                entries = entries.filter { now >= $0.value.added && now.timeIntervalSince($0.value.added) < lifetime }
                if entries.count >= capacity, let oldest = entries.min(by: { $0.value.added < $1.value.added })?.key {
                    entries[oldest] = nil
                }
            }
            entries[digest] = Entry(token: token, added: now)
        }
    }

    var count: Int { entries.withLock { $0.count } }
}
