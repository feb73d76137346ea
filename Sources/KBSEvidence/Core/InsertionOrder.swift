/// The order in which a bounded cache's keys went in, so that the oldest is dropped first when it is full.
///
/// A key inserted again gets a new serial; its earlier place in the order is then stale and skipped.
struct InsertionOrder<Key: Hashable> {
    private var order: [(key: Key, serial: UInt64)] = []
    private var head = 0
    private var nextSerial: UInt64 = 0

    /// Records `key` as inserted now and returns its serial, to be kept with the entry.
    mutating func record(_ key: Key) -> UInt64 {
        let serial = nextSerial
        nextSerial += 1
        order.append((key, serial))
        return serial
    }

    /// Drops the oldest of `entries` until at most `capacity` are left; `serial` reads an entry's serial.
    mutating func trim<Value>(_ entries: inout [Key: Value], to capacity: Int, serial: (Value) -> UInt64) {
        while entries.count > capacity, head < order.count {
            let oldest = order[head]
            head += 1
            if let entry = entries[oldest.key], serial(entry) == oldest.serial { entries[oldest.key] = nil }
        }
        // Compact once the dropped prefix is as long as the cache, so the order list stays O(capacity).
        if head > capacity {
            order.removeFirst(head)
            head = 0
        }
    }
}
