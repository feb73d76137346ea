import Testing

@testable import KBSKeys

struct GF256Tests {
    @Test func multiplicationMatchesFIPS197Examples() {
        // FIPS-197 §4.2: {57} • {83} = {c1}, {57} • {13} = {fe}.
        #expect(GF256.multiply(0x57, 0x83) == 0xC1)
        #expect(GF256.multiply(0x57, 0x13) == 0xFE)
        #expect(GF256.multiply(0x02, 0x80) == 0x1B)
    }

    /// Schoolbook carry-less multiplication, then reduction modulo 0x11B: slow, obvious, independent.
    func reference(_ a: UInt8, _ b: UInt8) -> UInt8 {
        var product: UInt16 = 0
        for bit in 0..<8 where (b >> bit) & 1 == 1 { product ^= UInt16(a) << bit }
        for bit in stride(from: 15, through: 8, by: -1) where (product >> bit) & 1 == 1 {
            product ^= 0x11B << (bit - 8)
        }
        return UInt8(product)
    }

    @Test func multiplicationMatchesTheReferenceForAllPairsAndIsCommutative() {
        for x in 0...255 {
            let a = UInt8(x)
            #expect(GF256.multiply(a, 1) == a)
            #expect(GF256.multiply(a, 0) == 0)
            for y in 0...255 {
                let b = UInt8(y)
                let product = GF256.multiply(a, b)
                if product != reference(a, b) || product != GF256.multiply(b, a) {
                    Issue.record("\(a) • \(b) = \(product), expected \(reference(a, b))")
                }
            }
        }
    }

    @Test func multiplicationDistributesOverAddition() {
        let triples: [(UInt8, UInt8, UInt8)] = [(0x57, 0x83, 0x13), (0xFF, 0x01, 0xFE), (0x12, 0x34, 0x56), (0xCA, 0x53, 0x9A)]
        for (a, b, c) in triples {
            #expect(GF256.multiply(a, GF256.add(b, c)) == GF256.add(GF256.multiply(a, b), GF256.multiply(a, c)))
        }
    }

    @Test func everyNonZeroElementHasAnInverse() {
        #expect(GF256.inverse(0x53) == 0xCA)  // the AES S-box example
        for a in 1...255 {
            #expect(GF256.multiply(UInt8(a), GF256.inverse(UInt8(a))) == 1)
            #expect(GF256.divide(GF256.multiply(UInt8(a), 0x1D), UInt8(a)) == 0x1D)
        }
    }

    @Test func polynomialEvaluationAtZeroIsTheConstant() {
        #expect(Shamir.evaluate([0x42, 0x11, 0x99], at: 0) == 0x42)
        // 3 + 2x + x² at x = 2 over GF(256): 3 ⊕ 4 ⊕ 4 = 3.
        #expect(Shamir.evaluate([3, 2, 1], at: 2) == 3)
    }
}
