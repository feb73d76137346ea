/// The optimal ate pairing e: G1 × G2 → 𝔽p¹² on BN254, as EIP-197 and snarkjs define it.
enum Pairing {
    /// 6u + 2, the Miller loop's length.
    static let loopCount = UInt256(0x9d79_7039_be76_3ba8, 0x1, 0, 0)
    /// ξ^((p−1)/3) and ξ^((p−1)/2): the p-power Frobenius on the twist.
    static let frobeniusX: Fp2 = Fp2.xi.power(exponent(divisor: 3))
    static let frobeniusY: Fp2 = Fp2.xi.power(exponent(divisor: 2))
    /// (p − 1)/divisor.
    private static func exponent(divisor: UInt64) -> UInt256 {
        Fp.modulus.subtracting(UInt256(1)).0.quotientAndRemainder(dividingBy: divisor).quotient
    }

    /// ∏ e(pᵢ, qᵢ): one Miller loop per pair and one final exponentiation. Pairs with a point at infinity count as 1.
    static func product(_ pairs: [(G1, G2)]) -> Fp12 {
        var f = Fp12.one
        for (p, q) in pairs where !p.isInfinity && !q.isInfinity { f = f * millerLoop(p, q) }
        return finalExponentiation(f)
    }

    static func millerLoop(_ p: G1, _ q: G2) -> Fp12 {
        var f = Fp12.one
        var t = q
        for index in stride(from: loopCount.bitWidth - 2, through: 0, by: -1) {
            let current = t
            f = f.squared * line(&t, current, p)
            if loopCount.bit(index) { f = f * line(&t, q, p) }
        }
        let q1 = G2(x: q.x.conjugate * frobeniusX, y: q.y.conjugate * frobeniusY)
        let q2 = G2(x: q.x * frobeniusX * frobeniusX.conjugate, y: -(q.y * frobeniusY * frobeniusY.conjugate))
        f = f * line(&t, q1, p)
        f = f * line(&t, q2, p)
        return f
    }

    /// The line through `t` and `r` (the tangent when they are equal) evaluated at `p`, with `t` moved to t + r.
    ///
    /// The twist point (x, y) is (x·w², y·w³) on the curve over 𝔽p¹², so a slope λ on the twist is λ·w there and the
    /// line at p is yₚ − λ·xₚ·w + (λ·x − y)·w³; a vertical line is xₚ − x·w².
    private static func line(_ t: inout G2, _ r: G2, _ p: G1) -> Fp12 {
        let slope: Fp2
        if t.x == r.x {
            guard t.y == r.y, !t.y.isZero else {
                let value = Fp12(c0: Fp6(c0: Fp2(c0: p.x, c1: .zero), c1: -t.x, c2: .zero), c1: .zero)
                t = .infinity
                return value
            }
            let x2 = t.x.squared
            slope = (x2.doubled + x2) * t.y.doubled.inverse
        } else {
            slope = (r.y - t.y) * (r.x - t.x).inverse
        }
        let value = Fp12(
            c0: Fp6(c0: Fp2(c0: p.y, c1: .zero), c1: .zero, c2: .zero),
            c1: Fp6(c0: -(slope * p.x), c1: slope * t.x - t.y, c2: .zero))
        let x3 = slope.squared - t.x - r.x
        let y3 = slope * (t.x - x3) - t.y
        t = G2(x: x3, y: y3)
        return value
    }

    /// f^((p¹² − 1)/r): the easy part f^((p⁶ − 1)(p² + 1)) with a conjugation, an inversion and a Frobenius, then the
    /// hard part f^((p⁴ − p² + 1)/r) written in base p with coefficients polynomial in u (Scott, Benger, Charlemagne,
    /// Dominguez Perez and Kachisa, "On the final exponentiation for calculating pairings on ordinary elliptic
    /// curves"): three powers by u and a short chain of products, exactly the same value as the plain power.
    static func finalExponentiation(_ f: Fp12) -> Fp12 {
        var t = f.conjugate * f.inverse
        t = t.frobeniusSquared * t
        let fp = t.frobenius
        let fp2 = t.frobeniusSquared
        let fp3 = fp2.frobenius
        let fu = t.powerU
        let fu2 = fu.powerU
        let fu3 = fu2.powerU
        let y0 = fp * fp2 * fp3
        let y1 = t.conjugate
        let y2 = fu2.frobeniusSquared
        let y3 = fu.frobenius.conjugate
        let y4 = (fu * fu2.frobenius).conjugate
        let y5 = fu2.conjugate
        let y6 = (fu3 * fu3.frobenius).conjugate
        var t0 = y6.squared * y4 * y5
        var t1 = y3 * y5 * t0
        t0 = t0 * y2
        t1 = (t1.squared * t0).squared
        t0 = t1 * y1
        t1 = t1 * y0
        return t0.squared * t1
    }
}
