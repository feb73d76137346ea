/// The last few byte arrays a cache was asked about, kept whole with their values: a verifier is handed the same anchor
/// and endorsement arrays every call, and comparing an array with itself is immediate (Swift compares buffer identity
/// first), where hashing a PEM bundle or a collateral file per call is not. A different array with equal bytes is
/// compared byte for byte, so only equal bytes ever match.
struct RecentBytes<Value> {
    private var entries: [(domain: String, bytes: [UInt8], value: Value)] = []
    /// How many are kept.
    static var count: Int { 8 }

    /// The value remembered for exactly `bytes` under `domain`.
    func value(of bytes: [UInt8], domain: String) -> Value? {
        entries.first { $0.bytes == bytes && $0.domain == domain }?.value
    }

    /// Remembers `value` for `bytes`, dropping the least recent past ``count``.
    mutating func remember(_ value: Value, of bytes: [UInt8], domain: String) {
        entries.insert((domain, bytes, value), at: 0)
        if entries.count > Self.count { entries.removeLast() }
    }
}
