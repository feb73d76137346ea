import Synchronization

/// One evaluation frame kept between decisions, taken and given back with one atomic exchange each.
///
/// Bounded at one frame: a decision that finds the slot empty (another thread holds the frame) makes its own, and a
/// frame given back to a full slot is dropped. Nothing in a kept frame outlives the next decision but storage.
final class FramePool: Sendable {
    private let slot = Atomic<UInt>(0)
    private let inputFields: Int
    private let locals: Int

    init(inputFields: Int, locals: Int) {
        self.inputFields = inputFields
        self.locals = locals
    }

    deinit {
        let bits = slot.exchange(0, ordering: .acquiring)
        if let pointer = UnsafeRawPointer(bitPattern: bits) { Unmanaged<Frame>.fromOpaque(pointer).release() }
    }

    /// The kept frame, or a new one when another decision holds it.
    @inline(__always)
    func take() -> Frame {
        let bits = slot.exchange(0, ordering: .acquiring)
        guard let pointer = UnsafeRawPointer(bitPattern: bits) else { return Frame(inputFields: inputFields, slots: locals) }
        return Unmanaged<Frame>.fromOpaque(pointer).takeRetainedValue()
    }

    /// Keeps `frame` for the next decision, after clearing what must not carry over.
    @inline(__always)
    func giveBack(_ frame: Frame) {
        frame.finish()
        let bits = UInt(bitPattern: Unmanaged.passRetained(frame).toOpaque())
        if !slot.compareExchange(expected: 0, desired: bits, ordering: .releasing).exchanged {
            Unmanaged<Frame>.fromOpaque(UnsafeRawPointer(bitPattern: bits)!).release()
        }
    }
}
