import Crypto
import Synchronization

/// Values parsed from bytes — collateral JSON, a VEK's extensions, a CRL — by the SHA-256 of exactly those bytes, so
/// that endorsements handed to every verification are parsed once.
///
/// Holds only what is a pure function of the bytes: nothing here is verified or current. Whoever uses a value still
/// checks its signature (through ``VerifiedChainCache``) and its validity window on the verifier's clock each call, so
/// expired collateral is refused whether or not it was parsed before. Bytes that do not parse are not remembered.
///
/// Bounded: past `capacity` entries the oldest is dropped.
final class ParsedCache<Value: Sendable>: Sendable {
    private struct State {
        var entries: [SHA256.Digest: (value: Value, serial: UInt64)] = [:]
        var order = InsertionOrder<SHA256.Digest>()
    }

    /// The most entries kept.
    let capacity: Int
    private let state: Mutex<State>
    /// The last few arrays looked up, answered without hashing them again.
    private let recent = Mutex(RecentBytes<Value>())

    /// Creates an empty cache of at most `capacity` entries.
    init(capacity: Int) {
        self.capacity = max(capacity, 0)
        state = Mutex(State())
    }

    /// How many entries are held.
    var count: Int { state.withLock { $0.entries.count } }

    /// The value of `bytes`, made by `parse` the first time these bytes are seen under `domain` (which keeps apart,
    /// e.g., a file's bytes and a certificate's fingerprint).
    func value(of bytes: [UInt8], domain: String, parse: () throws(EvidenceError) -> Value) throws(EvidenceError) -> Value {
        if let known = recent.withLock({ $0.value(of: bytes, domain: domain) }) { return known }
        var hasher = SHA256()
        hasher.update(data: Array(domain.utf8) + [0])
        hasher.update(data: bytes)
        let value = try value(for: hasher.finalize(), parse: parse)
        recent.withLock { $0.remember(value, of: bytes, domain: domain) }
        return value
    }

    /// The value made from `certificate` alone (its extensions, say), by its fingerprint.
    func value(of certificate: Certificate, domain: String, parse: () throws(EvidenceError) -> Value) throws(EvidenceError) -> Value {
        try value(of: certificate.fingerprint, domain: "certificate " + domain, parse: parse)
    }

    /// The value stored under `key` (a SHA-256 over the bytes the value is a function of), else `parse`'s.
    func value(for key: SHA256.Digest, parse: () throws(EvidenceError) -> Value) throws(EvidenceError) -> Value {
        if let known = state.withLock({ $0.entries[key]?.value }) { return known }
        let parsed = try parse()
        insert(parsed, for: key)
        return parsed
    }

    private func insert(_ value: Value, for key: SHA256.Digest) {
        guard capacity > 0 else { return }
        state.withLock { state in
            state.entries[key] = (value, state.order.record(key))
            state.order.trim(&state.entries, to: capacity) { $0.serial }
        }
    }
}
