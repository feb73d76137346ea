import Foundation
import Synchronization

/// A clock tests move by hand: what the broker, the capability authority and the stores are given instead of the
/// system's.
final class TestClock: Sendable {
    private let current: Mutex<Date>

    /// Starts at `start`.
    init(_ start: Date = Date()) { current = Mutex(start) }

    var now: Date { current.withLock { $0 } }
    func advance(_ seconds: TimeInterval) { current.withLock { $0 += seconds } }
}
