import Testing

@testable import KBSZK

/// The field, the curves and the pairing against their defining properties.
@Suite struct PairingTests {
    @Test("field arithmetic: inverses, the modulus, decimal round trips")
    func field() throws {
        let a = try #require(UInt256(decimal: "1234567890123456789012345678901234567890").flatMap(Fp.init))
        #expect(a * a.inverse == .one)
        #expect(a + (-a) == .zero)
        #expect(a.integer.decimal == "1234567890123456789012345678901234567890")
        #expect(Fp(Fp.modulus) == nil)
        #expect((Fp.zero - .one).integer == Fp.modulus.subtracting(UInt256(1)).0)
        let b = Fp2(c0: a, c1: Fp(small: 7))
        #expect(b * b.inverse == .one)
        let c = Fp12(c0: Fp6(c0: b, c1: .xi, c2: b.squared), c1: Fp6(c0: .one, c1: b, c2: .zero))
        #expect(c * c.inverse == .one)
        #expect(c.squared == c * c)
    }

    @Test("the generators are on their curves and of order r")
    func generators() {
        #expect(BN254.g1.isOnCurve)
        #expect(BN254.g1.jacobian.multiplied(by: BN254.order).isInfinity)
        #expect(BN254.g2.isOnCurve)
        #expect(BN254.inSubgroup(BN254.g2))
    }

    @Test("the pairing is bilinear and not degenerate")
    func bilinear() {
        let p = BN254.g1
        let q = BN254.g2
        let e = Pairing.product([(p, q)])
        #expect(e != .one)
        #expect(e.power(limbs: [BN254.order[0], BN254.order[1], BN254.order[2], BN254.order[3]]) == .one)
        let twoP = p.jacobian.doubled.affine
        let threeQ = q.jacobian.multiplied(by: UInt256(3)).affine
        let e6 = Pairing.product([(twoP, threeQ)])
        #expect(e6 == e.power(limbs: [6]))
        // e(a·P, Q) · e(−P, a·Q) = 1.
        let a = UInt256(0x1234_5678_9abc_def0, 0x0fed_cba9_8765_4321, 0, 7)
        let aP = p.jacobian.multiplied(by: a).affine
        let aQ = q.jacobian.multiplied(by: a).affine
        #expect(Pairing.product([(aP, q), (p.negated, aQ)]) == .one)
        #expect(Pairing.product([(aP, q), (p, aQ)]) != .one)
    }
}

/// The constants and shortcuts against their definitions.
@Suite struct PairingShortcutTests {
    @Test("the Montgomery constants are what their definitions give")
    func constants() {
        var inverse: UInt64 = 1
        for _ in 0..<6 { inverse = inverse &* (2 &- Fp.modulus[0] &* inverse) }
        #expect(Fp.inverseNegated == 0 &- inverse)
        #expect(Fp.one.integer == UInt256(1))
        #expect(Fp(small: 2) + Fp(small: 3) == Fp(small: 5))
        let seven = Fp(small: 7)
        #expect(seven.inverse * seven == .one)
        #expect(seven.inverse == seven.power(Fp.modulus.subtracting(UInt256(2)).0))
    }

    @Test("the fast final exponentiation equals the plain power (p⁶ − 1)·(p⁶ + 1)/r")
    func finalExponentiation() {
        // (p⁶ + 1)/r, least significant limb first.
        let hex =
            "fd14cc52f5b83fbdea556c23998e4150e578c5084015bb37f601919667af5051c6d1aa5afdd1707409206c82d647ec2d1ea74a391cae91d2e5726e39276a1ca64"
            + "c0fd82eb59e1df6d76bdcf51b0d8a733cd65b14bb3b5c901bf1887c6042c758e4408ecc9952c0fcc420e48c3454c42ad1f5e50ef364494f69f6b84e09bf6a8ce2"
            + "533be36c7a2d1138bf54d5bd1d4a5635f15967890515250a54036e3f812"
        var limbs: [UInt64] = []
        var end = hex.endIndex
        while end > hex.startIndex {
            let start = hex.index(end, offsetBy: -16, limitedBy: hex.startIndex) ?? hex.startIndex
            limbs.append(UInt64(hex[start..<end], radix: 16) ?? 0)
            end = start
        }
        let f = Pairing.millerLoop(BN254.g1, BN254.g2)
        #expect(Pairing.finalExponentiation(f) == (f.conjugate * f.inverse).power(limbs: limbs))
        let other = Fp12(
            c0: Fp6(c0: .xi, c1: .one, c2: Fp2(c0: Fp(small: 5), c1: Fp(small: 11))),
            c1: Fp6(c0: Fp2(c0: Fp(small: 3), c1: .zero), c1: .xi.squared, c2: .one))
        #expect(Pairing.finalExponentiation(other) == (other.conjugate * other.inverse).power(limbs: limbs))
        // The Frobenius maps are the p- and p²-powers.
        let p = Fp.modulus
        #expect(other.frobenius == other.power(limbs: [p[0], p[1], p[2], p[3]]))
        #expect(other.frobeniusSquared == other.frobenius.frobenius)
    }
}
