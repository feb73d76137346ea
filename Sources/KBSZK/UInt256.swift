/// A 256-bit unsigned integer in four 64-bit limbs, least significant first: the representation every BN254 field
/// element and scalar is built on (fixed width, no allocation, no big-integer library).
struct UInt256: Hashable, Sendable {
    var limbs: (UInt64, UInt64, UInt64, UInt64)

    static let zero = UInt256(0, 0, 0, 0)

    init(_ l0: UInt64, _ l1: UInt64, _ l2: UInt64, _ l3: UInt64) { limbs = (l0, l1, l2, l3) }

    init(_ value: UInt64) { self.init(value, 0, 0, 0) }

    subscript(index: Int) -> UInt64 {
        get {
            switch index {
            case 0: limbs.0
            case 1: limbs.1
            case 2: limbs.2
            default: limbs.3
            }
        }
        set {
            switch index {
            case 0: limbs.0 = newValue
            case 1: limbs.1 = newValue
            case 2: limbs.2 = newValue
            default: limbs.3 = newValue
            }
        }
    }

    static func == (a: UInt256, b: UInt256) -> Bool {
        a.limbs.0 == b.limbs.0 && a.limbs.1 == b.limbs.1 && a.limbs.2 == b.limbs.2 && a.limbs.3 == b.limbs.3
    }

    func hash(into hasher: inout Hasher) {
        hasher.combine(limbs.0)
        hasher.combine(limbs.1)
        hasher.combine(limbs.2)
        hasher.combine(limbs.3)
    }

    var isZero: Bool { limbs.0 | limbs.1 | limbs.2 | limbs.3 == 0 }

    /// Whether `self < other`.
    func isLess(than other: UInt256) -> Bool {
        for index in stride(from: 3, through: 0, by: -1) where self[index] != other[index] { return self[index] < other[index] }
        return false
    }

    /// `self + other` and the carry out.
    func adding(_ other: UInt256) -> (UInt256, carry: Bool) {
        var result = UInt256.zero
        var carry: UInt64 = 0
        for index in 0..<4 {
            let (sum1, overflow1) = self[index].addingReportingOverflow(other[index])
            let (sum2, overflow2) = sum1.addingReportingOverflow(carry)
            result[index] = sum2
            carry = (overflow1 ? 1 : 0) + (overflow2 ? 1 : 0)
        }
        return (result, carry != 0)
    }

    /// `self - other` and the borrow out.
    func subtracting(_ other: UInt256) -> (UInt256, borrow: Bool) {
        var result = UInt256.zero
        var borrow: UInt64 = 0
        for index in 0..<4 {
            let (difference1, overflow1) = self[index].subtractingReportingOverflow(other[index])
            let (difference2, overflow2) = difference1.subtractingReportingOverflow(borrow)
            result[index] = difference2
            borrow = (overflow1 ? 1 : 0) + (overflow2 ? 1 : 0)
        }
        return (result, borrow != 0)
    }

    /// self >> 1.
    var shiftedRightOne: UInt256 {
        UInt256(
            (limbs.0 >> 1) | (limbs.1 << 63), (limbs.1 >> 1) | (limbs.2 << 63), (limbs.2 >> 1) | (limbs.3 << 63), limbs.3 >> 1)
    }

    /// Bit `index` (0 is the least significant).
    func bit(_ index: Int) -> Bool { (self[index / 64] >> UInt64(index % 64)) & 1 == 1 }

    /// The number of significant bits.
    var bitWidth: Int {
        for index in stride(from: 3, through: 0, by: -1) where self[index] != 0 { return index * 64 + 64 - self[index].leadingZeroBitCount }
        return 0
    }

    /// Parses a decimal string of digits only (snarkjs writes every number so); nil for anything else or ≥ 2²⁵⁶.
    init?(decimal text: String) {
        let digits = Array(text.utf8)
        guard !digits.isEmpty, digits.count <= 78, digits.allSatisfy({ $0 >= 0x30 && $0 <= 0x39 }) else { return nil }
        guard digits.count == 1 || digits[0] != 0x30 else { return nil }
        var value = UInt256.zero
        for digit in digits {
            var carry = UInt64(digit - 0x30)
            for index in 0..<4 {
                let (high, low) = value[index].multipliedFullWidth(by: 10)
                let (sum, overflow) = low.addingReportingOverflow(carry)
                value[index] = sum
                carry = high + (overflow ? 1 : 0)
            }
            guard carry == 0 else { return nil }
        }
        self = value
    }

    /// From 32 big-endian bytes.
    init(bigEndian bytes: some Collection<UInt8>) {
        precondition(bytes.count == 32)
        var value = UInt256.zero
        for (offset, byte) in bytes.enumerated() {
            let bitIndex = (31 - offset) * 8
            value[bitIndex / 64] |= UInt64(byte) << UInt64(bitIndex % 64)
        }
        self = value
    }

    /// 32 big-endian bytes.
    var bigEndianBytes: [UInt8] {
        (0..<32).map { offset in
            let bitIndex = (31 - offset) * 8
            return UInt8(truncatingIfNeeded: self[bitIndex / 64] >> UInt64(bitIndex % 64))
        }
    }

    /// The decimal digits.
    var decimal: String {
        if isZero { return "0" }
        var value = self
        var digits: [UInt8] = []
        while !value.isZero {
            var remainder: UInt64 = 0
            for index in stride(from: 3, through: 0, by: -1) {
                let (quotient, rest) = UInt64(10).dividingFullWidth((remainder, value[index]))
                value[index] = quotient
                remainder = rest
            }
            digits.append(UInt8(remainder) + 0x30)
        }
        return String(decoding: digits.reversed(), as: UTF8.self)
    }
}
