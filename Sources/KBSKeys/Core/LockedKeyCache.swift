import Dispatch
import Glibc
import Synchronization

/// Unwrapped data keys kept for reuse in one locked, wiped region of memory, each for at most ``maximumAge``.
///
/// Unwrapping a data key goes through its key-encryption key and the master key provider, which for an HSM or a
/// remote KMS is a round trip per release. An entry is found only under the exact record revisions it was unwrapped
/// at (the data key's and its parent's), so a rotation, disabling or deletion, committed by any process, makes it
/// unreachable at once; this process's own changes also wipe it at once (``drop(_:)``). The region is `mlock`ed (never
/// swapped out) and excluded from core dumps; where the system refuses the lock, nothing is cached.
final class LockedKeyCache: Sendable {
    /// What an entry is found by: the key, its version, and the record revisions it was unwrapped under.
    struct Name: Hashable, Sendable {
        var id: String
        var version: UInt32
        var revision: Int
        var parent: String
        var parentRevision: Int
    }

    /// The longest an entry lives, in seconds.
    static let maximumAge: UInt64 = 300
    /// Bytes a slot holds; longer keys are not cached.
    static let slotBytes = 64
    /// Slots in the region.
    static let capacity = 64

    private struct Slot {
        var name: Name
        var count: Int
        var expires: UInt64
    }

    private struct State: @unchecked Sendable {
        // The region is owned by this cache and touched only under the lock.
        var region: UnsafeMutableRawBufferPointer?
        var slots: [Int: Slot] = [:]
        var free: [Int] = []
    }

    private let state: Mutex<State>

    /// Maps and locks the region; a cache whose region cannot be locked holds nothing.
    init() {
        let size = Self.slotBytes * Self.capacity
        var state = State()
        if let base = mmap(nil, size, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0), base != UnsafeMutableRawPointer(bitPattern: -1) {
            if mlock(base, size) == 0 {
                _ = madvise(base, size, Int32(MADV_DONTDUMP))
                state.region = UnsafeMutableRawBufferPointer(start: base, count: size)
                state.free = Array((0..<Self.capacity).reversed())
            } else {
                munmap(base, size)
            }
        }
        self.state = Mutex(state)
    }

    deinit {
        state.withLock { state in
            guard let region = state.region else { return }
            wipe(region)
            munlock(region.baseAddress, region.count)
            munmap(region.baseAddress, region.count)
        }
    }

    /// Whether the region could be locked (else nothing is ever cached).
    var isLocked: Bool { state.withLock { $0.region != nil } }

    /// A copy of the key named `name`, if cached and younger than ``maximumAge``.
    func key(_ name: Name) -> SecretBytes? {
        let now = Self.now
        return state.withLock { state -> SecretBytes? in
            Self.sweep(&state, now: now)
            guard let region = state.region, let (index, slot) = state.slots.first(where: { $0.value.name == name }) else { return nil }
            return SecretBytes(copying: UnsafeRawBufferPointer(rebasing: region[(index * Self.slotBytes)..<(index * Self.slotBytes + slot.count)]))
        }
    }

    /// Keeps a copy of `key` under `name`, replacing any entry of the same key id and version at other revisions.
    func keep(_ key: borrowing SecretBytes, as name: Name) {
        guard key.count <= Self.slotBytes else { return }
        let now = Self.now
        state.withLock { state in
            guard let region = state.region else { return }
            Self.sweep(&state, now: now)
            Self.remove(&state) { $0.id == name.id && $0.version == name.version }
            if state.free.isEmpty, let oldest = state.slots.min(by: { $0.value.expires < $1.value.expires }) {
                Self.release(&state, oldest.key)
            }
            guard let index = state.free.popLast() else { return }
            let slot = UnsafeMutableRawBufferPointer(rebasing: region[(index * Self.slotBytes)..<((index + 1) * Self.slotBytes)])
            key.withUnsafeBytes { bytes in slot.copyMemory(from: bytes) }
            state.slots[index] = Slot(name: name, count: key.count, expires: now + Self.maximumAge * 1_000_000_000)
        }
        // Wiped on time even if nothing touches the cache again.
        DispatchQueue.global(qos: .utility).asyncAfter(deadline: .now() + .seconds(Int(Self.maximumAge))) { [weak self] in self?.sweep() }
    }

    /// Wipes every entry of key `id`, and of the data keys it wraps.
    func drop(_ id: String) {
        state.withLock { state in Self.remove(&state) { $0.id == id || $0.parent == id } }
    }

    /// Wipes the entries past their age.
    func sweep() {
        let now = Self.now
        state.withLock { Self.sweep(&$0, now: now) }
    }

    /// How many entries are held.
    var count: Int { state.withLock { $0.slots.count } }

    private static func sweep(_ state: inout State, now: UInt64) {
        for (index, slot) in state.slots where slot.expires <= now { release(&state, index) }
    }

    private static func remove(_ state: inout State, where matches: (Name) -> Bool) {
        for (index, slot) in state.slots where matches(slot.name) { release(&state, index) }
    }

    private static func release(_ state: inout State, _ index: Int) {
        guard let region = state.region else { return }
        wipe(UnsafeMutableRawBufferPointer(rebasing: region[(index * slotBytes)..<((index + 1) * slotBytes)]))
        state.slots[index] = nil
        state.free.append(index)
    }

    private static var now: UInt64 { DispatchTime.now().uptimeNanoseconds }
}
