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

    @inline(__always)
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
    @inline(__always)
    func isLess(than other: UInt256) -> Bool { subtracting(other).borrow }

    /// `self + other` and the carry out.
    @inline(__always)
    func adding(_ other: UInt256) -> (UInt256, carry: Bool) {
        let (s0, c0) = limbs.0.addingReportingOverflow(other.limbs.0)
        let (t1, c1a) = limbs.1.addingReportingOverflow(other.limbs.1)
        let (s1, c1b) = t1.addingReportingOverflow(c0 ? 1 : 0)
        let (t2, c2a) = limbs.2.addingReportingOverflow(other.limbs.2)
        let (s2, c2b) = t2.addingReportingOverflow(c1a || c1b ? 1 : 0)
        let (t3, c3a) = limbs.3.addingReportingOverflow(other.limbs.3)
        let (s3, c3b) = t3.addingReportingOverflow(c2a || c2b ? 1 : 0)
        return (UInt256(s0, s1, s2, s3), c3a || c3b)
    }

    /// `self - other` and the borrow out.
    @inline(__always)
    func subtracting(_ other: UInt256) -> (UInt256, borrow: Bool) {
        let (d0, b0) = limbs.0.subtractingReportingOverflow(other.limbs.0)
        let (t1, b1a) = limbs.1.subtractingReportingOverflow(other.limbs.1)
        let (d1, b1b) = t1.subtractingReportingOverflow(b0 ? 1 : 0)
        let (t2, b2a) = limbs.2.subtractingReportingOverflow(other.limbs.2)
        let (d2, b2b) = t2.subtractingReportingOverflow(b1a || b1b ? 1 : 0)
        let (t3, b3a) = limbs.3.subtractingReportingOverflow(other.limbs.3)
        let (d3, b3b) = t3.subtractingReportingOverflow(b2a || b2b ? 1 : 0)
        return (UInt256(d0, d1, d2, d3), b3a || b3b)
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

    /// self ÷ divisor and the remainder, for a one-limb divisor.
    func quotientAndRemainder(dividingBy divisor: UInt64) -> (quotient: UInt256, remainder: UInt64) {
        var quotient = self
        var remainder: UInt64 = 0
        for index in stride(from: 3, through: 0, by: -1) {
            (quotient[index], remainder) = divisor.dividingFullWidth((remainder, self[index]))
        }
        return (quotient, remainder)
    }

    /// The decimal digits.
    var decimal: String {
        if isZero { return "0" }
        var value = self
        var digits: [UInt8] = []
        while !value.isZero {
            let (quotient, remainder) = value.quotientAndRemainder(dividingBy: 10)
            digits.append(UInt8(remainder) + 0x30)
            value = quotient
        }
        return String(decoding: digits.reversed(), as: UTF8.self)
    }
}
