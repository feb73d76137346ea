/// An element of BN254's base field, 𝔽p with p = 36u⁴ + 36u³ + 24u² + 6u + 1 (u = 0x44e992b44a6909f1), kept in
/// Montgomery form (a·2²⁵⁶ mod p), always fully reduced so that equal elements have equal limbs.
struct Fp: Equatable, Hashable, Sendable {
    /// The Montgomery representation, < p.
    var montgomery: UInt256

    static let modulus = UInt256(0x3c20_8c16_d87c_fd47, 0x9781_6a91_6871_ca8d, 0xb850_45b6_8181_585d, 0x3064_4e72_e131_a029)
    /// −p⁻¹ mod 2⁶⁴, for the Montgomery reduction (the tests derive it again by Newton's iteration).
    static let inverseNegated: UInt64 = 0x87d2_0782_e486_6389
    /// 2²⁵⁶ mod p: one, in Montgomery form.
    static let rModP = UInt256(0xd35d_438d_c58f_0d9d, 0x0a78_eb28_f5c7_0b3d, 0x666e_a36f_7879_462c, 0x0e0a_77c1_9a07_df2f)
    /// 2⁵¹² mod p, which brings integers into Montgomery form.
    static let r2ModP = UInt256(0xf32c_fc5b_538a_fa89, 0xb5e7_1911_d445_01fb, 0x47ab_1eff_0a41_7ff6, 0x06d8_9f71_cab8_351f)
    /// 2⁷⁶⁸ mod p, which turns the inverse of a Montgomery form into the Montgomery form of the inverse.
    static let r3ModP = multiply(r2ModP, r2ModP)

    static let zero = Fp(montgomery: .zero)
    static let one = Fp(montgomery: rModP)

    init(montgomery: UInt256) { self.montgomery = montgomery }

    /// The element equal to `value`, which must be < p (nil otherwise: a non-canonical encoding is refused).
    init?(_ value: UInt256) {
        guard value.isLess(than: Fp.modulus) else { return nil }
        montgomery = Fp.multiply(value, Fp.r2ModP)
    }

    /// The small integer `value`.
    init(small value: UInt64) {
        montgomery = Fp.multiply(UInt256(value), Fp.r2ModP)
    }

    /// The integer this element is, < p.
    var integer: UInt256 { Fp.multiply(montgomery, UInt256(1)) }

    var isZero: Bool { montgomery.isZero }

    @inline(__always)
    static func + (a: Fp, b: Fp) -> Fp {
        let (sum, carry) = a.montgomery.adding(b.montgomery)
        let (reduced, borrow) = sum.subtracting(modulus)
        return Fp(montgomery: carry || !borrow ? reduced : sum)
    }

    @inline(__always)
    static func - (a: Fp, b: Fp) -> Fp {
        let (difference, borrow) = a.montgomery.subtracting(b.montgomery)
        return Fp(montgomery: borrow ? difference.adding(modulus).0 : difference)
    }

    static prefix func - (a: Fp) -> Fp { a.isZero ? a : Fp(montgomery: modulus.subtracting(a.montgomery).0) }

    @inline(__always)
    static func * (a: Fp, b: Fp) -> Fp { Fp(montgomery: multiply(a.montgomery, b.montgomery)) }

    var squared: Fp { self * self }
    var doubled: Fp { self + self }

    /// a·b·2⁻²⁵⁶ mod p for a, b < p: coarsely integrated operand scanning (CIOS).
    static func multiply(_ a: UInt256, _ b: UInt256) -> UInt256 {
        var t0: UInt64 = 0
        var t1: UInt64 = 0
        var t2: UInt64 = 0
        var t3: UInt64 = 0
        var t4: UInt64 = 0
        for index in 0..<4 {
            let bi = b[index]
            // t += a·bᵢ
            var carry: UInt64 = 0
            (t0, carry) = multiplyAdd(a.limbs.0, bi, t0, carry)
            (t1, carry) = multiplyAdd(a.limbs.1, bi, t1, carry)
            (t2, carry) = multiplyAdd(a.limbs.2, bi, t2, carry)
            (t3, carry) = multiplyAdd(a.limbs.3, bi, t3, carry)
            let (sum4, overflow4) = t4.addingReportingOverflow(carry)
            t4 = sum4
            let t5: UInt64 = overflow4 ? 1 : 0
            // t = (t + m·p) / 2⁶⁴
            let m = t0 &* inverseNegated
            (_, carry) = multiplyAdd(m, modulus.limbs.0, t0, 0)
            (t0, carry) = multiplyAdd(m, modulus.limbs.1, t1, carry)
            (t1, carry) = multiplyAdd(m, modulus.limbs.2, t2, carry)
            (t2, carry) = multiplyAdd(m, modulus.limbs.3, t3, carry)
            let (sum3, overflow3) = t4.addingReportingOverflow(carry)
            t3 = sum3
            t4 = t5 + (overflow3 ? 1 : 0)
        }
        let result = UInt256(t0, t1, t2, t3)
        let (reduced, borrow) = result.subtracting(modulus)
        return t4 != 0 || !borrow ? reduced : result
    }

    /// a·b + c + carry as (low, high): never overflows 128 bits.
    @inline(__always)
    private static func multiplyAdd(_ a: UInt64, _ b: UInt64, _ c: UInt64, _ carry: UInt64) -> (UInt64, UInt64) {
        let (high, low) = a.multipliedFullWidth(by: b)
        let (sum1, overflow1) = low.addingReportingOverflow(c)
        let (sum2, overflow2) = sum1.addingReportingOverflow(carry)
        return (sum2, high &+ (overflow1 ? 1 : 0) &+ (overflow2 ? 1 : 0))
    }

    /// self^exponent.
    func power(_ exponent: UInt256) -> Fp {
        var result = Fp.one
        for index in stride(from: exponent.bitWidth - 1, through: 0, by: -1) {
            result = result.squared
            if exponent.bit(index) { result = result * self }
        }
        return result
    }

    /// The inverse (zero for zero), by the binary extended Euclidean algorithm on the Montgomery form x = a·2²⁵⁶:
    /// x⁻¹·2⁷⁶⁸ reduced once is a⁻¹·2²⁵⁶. Not constant time: every value inverted here is public.
    var inverse: Fp {
        guard !isZero else { return self }
        let modulus = Fp.modulus
        var u = montgomery
        var v = modulus
        var x1 = UInt256(1)
        var x2 = UInt256.zero
        func halve(_ value: inout UInt256, _ coefficient: inout UInt256) {
            value = value.shiftedRightOne
            // p < 2²⁵⁴, so coefficient + p never overflows.
            coefficient = coefficient.limbs.0 & 1 == 0 ? coefficient.shiftedRightOne : coefficient.adding(modulus).0.shiftedRightOne
        }
        func subtract(_ a: UInt256, _ b: UInt256) -> UInt256 {
            let (difference, borrow) = a.subtracting(b)
            return borrow ? difference.adding(modulus).0 : difference
        }
        let one = UInt256(1)
        while u != one && v != one {
            while u.limbs.0 & 1 == 0 { halve(&u, &x1) }
            while v.limbs.0 & 1 == 0 { halve(&v, &x2) }
            if v.isLess(than: u) || u == v {
                u = u.subtracting(v).0
                x1 = subtract(x1, x2)
            } else {
                v = v.subtracting(u).0
                x2 = subtract(x2, x1)
            }
        }
        return Fp(montgomery: Fp.multiply(u == one ? x1 : x2, Fp.r3ModP))
    }
}
