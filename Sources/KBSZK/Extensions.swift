/// 𝔽p² = 𝔽p[u]/(u² + 1).
struct Fp2: Equatable, Sendable {
    var c0: Fp
    var c1: Fp

    static let zero = Fp2(c0: .zero, c1: .zero)
    static let one = Fp2(c0: .one, c1: .zero)
    /// ξ = 9 + u, the non-residue the tower and the twist are built on.
    static let xi = Fp2(c0: Fp(small: 9), c1: .one)

    var isZero: Bool { c0.isZero && c1.isZero }

    static func + (a: Fp2, b: Fp2) -> Fp2 { Fp2(c0: a.c0 + b.c0, c1: a.c1 + b.c1) }
    static func - (a: Fp2, b: Fp2) -> Fp2 { Fp2(c0: a.c0 - b.c0, c1: a.c1 - b.c1) }
    static prefix func - (a: Fp2) -> Fp2 { Fp2(c0: -a.c0, c1: -a.c1) }

    static func * (a: Fp2, b: Fp2) -> Fp2 {
        let t0 = a.c0 * b.c0
        let t1 = a.c1 * b.c1
        return Fp2(c0: t0 - t1, c1: (a.c0 + a.c1) * (b.c0 + b.c1) - t0 - t1)
    }

    static func * (a: Fp2, b: Fp) -> Fp2 { Fp2(c0: a.c0 * b, c1: a.c1 * b) }

    var squared: Fp2 { Fp2(c0: (c0 + c1) * (c0 - c1), c1: (c0 * c1).doubled) }
    var doubled: Fp2 { self + self }

    /// The conjugate, which is also the p-power Frobenius.
    var conjugate: Fp2 { Fp2(c0: c0, c1: -c1) }

    /// self·ξ.
    var timesXi: Fp2 {
        let nine0 = c0.doubled.doubled.doubled + c0
        let nine1 = c1.doubled.doubled.doubled + c1
        return Fp2(c0: nine0 - c1, c1: c0 + nine1)
    }

    var inverse: Fp2 {
        let norm = (c0.squared + c1.squared).inverse
        return Fp2(c0: c0 * norm, c1: -(c1 * norm))
    }

    func power(_ exponent: UInt256) -> Fp2 {
        var result = Fp2.one
        for index in stride(from: exponent.bitWidth - 1, through: 0, by: -1) {
            result = result.squared
            if exponent.bit(index) { result = result * self }
        }
        return result
    }
}

/// 𝔽p⁶ = 𝔽p²[v]/(v³ − ξ).
struct Fp6: Equatable, Sendable {
    var c0: Fp2
    var c1: Fp2
    var c2: Fp2

    static let zero = Fp6(c0: .zero, c1: .zero, c2: .zero)
    static let one = Fp6(c0: .one, c1: .zero, c2: .zero)

    var isZero: Bool { c0.isZero && c1.isZero && c2.isZero }

    static func + (a: Fp6, b: Fp6) -> Fp6 { Fp6(c0: a.c0 + b.c0, c1: a.c1 + b.c1, c2: a.c2 + b.c2) }
    static func - (a: Fp6, b: Fp6) -> Fp6 { Fp6(c0: a.c0 - b.c0, c1: a.c1 - b.c1, c2: a.c2 - b.c2) }
    static prefix func - (a: Fp6) -> Fp6 { Fp6(c0: -a.c0, c1: -a.c1, c2: -a.c2) }

    static func * (a: Fp6, b: Fp6) -> Fp6 {
        let t0 = a.c0 * b.c0
        let t1 = a.c1 * b.c1
        let t2 = a.c2 * b.c2
        return Fp6(
            c0: t0 + ((a.c1 + a.c2) * (b.c1 + b.c2) - t1 - t2).timesXi,
            c1: (a.c0 + a.c1) * (b.c0 + b.c1) - t0 - t1 + t2.timesXi,
            c2: (a.c0 + a.c2) * (b.c0 + b.c2) - t0 - t2 + t1)
    }

    /// self·v.
    var timesV: Fp6 { Fp6(c0: c2.timesXi, c1: c0, c2: c1) }

    var inverse: Fp6 {
        let a = c0.squared - (c1 * c2).timesXi
        let b = c2.squared.timesXi - c0 * c1
        let c = c1.squared - c0 * c2
        let norm = (c0 * a + (c2 * b + c1 * c).timesXi).inverse
        return Fp6(c0: a * norm, c1: b * norm, c2: c * norm)
    }
}

/// 𝔽p¹² = 𝔽p⁶[w]/(w² − v), where the pairing takes its values.
struct Fp12: Equatable, Sendable {
    var c0: Fp6
    var c1: Fp6

    static let one = Fp12(c0: .one, c1: .zero)

    static func * (a: Fp12, b: Fp12) -> Fp12 {
        let t0 = a.c0 * b.c0
        let t1 = a.c1 * b.c1
        return Fp12(c0: t0 + t1.timesV, c1: (a.c0 + a.c1) * (b.c0 + b.c1) - t0 - t1)
    }

    var squared: Fp12 {
        let product = c0 * c1
        return Fp12(c0: (c0 + c1) * (c0 + c1.timesV) - product - product.timesV, c1: product + product)
    }

    /// The conjugate, which is also the p⁶-power Frobenius.
    var conjugate: Fp12 { Fp12(c0: c0, c1: -c1) }

    var inverse: Fp12 {
        let norm = (c0 * c0 - (c1 * c1).timesV).inverse
        return Fp12(c0: c0 * norm, c1: -(c1 * norm))
    }

    /// The p-power Frobenius. Written as Σ gᵢ·wⁱ (gᵢ in 𝔽p², i < 6; v = w²), (gᵢ·wⁱ)^p = conj(gᵢ)·ξ^(i(p−1)/6)·wⁱ.
    var frobenius: Fp12 {
        let gamma = Fp12.frobeniusCoefficients
        return Fp12(
            c0: Fp6(c0: c0.c0.conjugate, c1: c0.c1.conjugate * gamma[2], c2: c0.c2.conjugate * gamma[4]),
            c1: Fp6(c0: c1.c0.conjugate * gamma[1], c1: c1.c1.conjugate * gamma[3], c2: c1.c2.conjugate * gamma[5]))
    }

    /// The p²-power Frobenius: gᵢ ↦ gᵢ·ξ^(i(p²−1)/6).
    var frobeniusSquared: Fp12 {
        let gamma = Fp12.frobeniusSquaredCoefficients
        return Fp12(
            c0: Fp6(c0: c0.c0, c1: c0.c1 * gamma[2], c2: c0.c2 * gamma[4]),
            c1: Fp6(c0: c1.c0 * gamma[1], c1: c1.c1 * gamma[3], c2: c1.c2 * gamma[5]))
    }

    /// ξ^(i(p−1)/6) for i = 0…5, computed once.
    static let frobeniusCoefficients: [Fp2] = {
        let sixth = Fp.modulus.subtracting(UInt256(1)).0.quotientAndRemainder(dividingBy: 6).quotient
        let gamma1 = Fp2.xi.power(sixth)
        var powers = [Fp2.one]
        for _ in 1..<6 { powers.append(powers[powers.count - 1] * gamma1) }
        return powers
    }()

    /// ξ^(i(p²−1)/6) = γᵢ·conj(γᵢ), computed once.
    static let frobeniusSquaredCoefficients: [Fp2] = frobeniusCoefficients.map { $0 * $0.conjugate }

    /// self^u for u = 0x44e992b44a6909f1, BN254's parameter.
    var powerU: Fp12 { power(limbs: [0x44e9_92b4_4a69_09f1]) }

    /// self^exponent, the exponent as 64-bit limbs, least significant first.
    func power(limbs exponent: [UInt64]) -> Fp12 {
        var result = Fp12.one
        var started = false
        for limb in exponent.reversed() {
            for bit in stride(from: 63, through: 0, by: -1) {
                if started { result = result.squared }
                if (limb >> UInt64(bit)) & 1 == 1 {
                    result = started ? result * self : self
                    started = true
                }
            }
        }
        return result
    }
}
