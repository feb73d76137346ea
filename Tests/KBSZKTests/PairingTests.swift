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
