/// What the curve arithmetic needs of a field: 𝔽p for G1, 𝔽p² for G2.
protocol CurveField: Equatable, Sendable {
    static var zero: Self { get }
    static var one: Self { get }
    var isZero: Bool { get }
    var squared: Self { get }
    var doubled: Self { get }
    var inverse: Self { get }
    static func + (a: Self, b: Self) -> Self
    static func - (a: Self, b: Self) -> Self
    static func * (a: Self, b: Self) -> Self
    static prefix func - (a: Self) -> Self
}

extension Fp: CurveField {}
extension Fp2: CurveField {}

/// The coefficient b of y² = x³ + b for a curve over `F`.
protocol CurveParameters: Sendable {
    associatedtype Field: CurveField
    static var b: Field { get }
}

/// BN254's G1: y² = x³ + 3 over 𝔽p (prime order r, cofactor 1).
enum G1Curve: CurveParameters {
    static let b = Fp(small: 3)
}

/// BN254's G2, on the sextic D-type twist y² = x³ + 3/ξ over 𝔽p² (order r subgroup of a larger group).
enum G2Curve: CurveParameters {
    static let b = Fp2(c0: Fp(small: 3), c1: .zero) * Fp2.xi.inverse
}

/// A point in affine coordinates, or the point at infinity.
struct AffinePoint<Curve: CurveParameters>: Equatable, Sendable {
    var x: Curve.Field
    var y: Curve.Field
    var isInfinity: Bool

    static var infinity: AffinePoint { AffinePoint(x: .zero, y: .zero, isInfinity: true) }

    init(x: Curve.Field, y: Curve.Field) {
        self.x = x
        self.y = y
        isInfinity = false
    }

    private init(x: Curve.Field, y: Curve.Field, isInfinity: Bool) {
        self.x = x
        self.y = y
        self.isInfinity = isInfinity
    }

    /// Whether the point satisfies the curve equation (the point at infinity does).
    var isOnCurve: Bool { isInfinity || y.squared == x.squared * x + Curve.b }

    var negated: AffinePoint { isInfinity ? self : AffinePoint(x: x, y: -y) }

    var jacobian: JacobianPoint<Curve> { isInfinity ? .infinity : JacobianPoint(x: x, y: y, z: .one) }
}

/// A point in Jacobian coordinates (x/z², y/z³); z = 0 is the point at infinity.
struct JacobianPoint<Curve: CurveParameters>: Sendable {
    var x: Curve.Field
    var y: Curve.Field
    var z: Curve.Field

    static var infinity: JacobianPoint { JacobianPoint(x: .one, y: .one, z: .zero) }

    var isInfinity: Bool { z.isZero }

    var affine: AffinePoint<Curve> {
        guard !isInfinity else { return .infinity }
        let zInverse = z.inverse
        let zInverse2 = zInverse.squared
        return AffinePoint(x: x * zInverse2, y: y * zInverse2 * zInverse)
    }

    /// 2·self (a = 0: dbl-2009-l).
    var doubled: JacobianPoint {
        guard !isInfinity, !y.isZero else { return .infinity }
        let a = x.squared
        let b = y.squared
        let c = b.squared
        let d = ((x + b).squared - a - c).doubled
        let e = a.doubled + a
        let f = e.squared
        let x3 = f - d.doubled
        let y3 = e * (d - x3) - c.doubled.doubled.doubled
        let z3 = (y * z).doubled
        return JacobianPoint(x: x3, y: y3, z: z3)
    }

    /// self + other (add-2007-bl, falling back to doubling for equal points).
    static func + (p: JacobianPoint, q: JacobianPoint) -> JacobianPoint {
        if p.isInfinity { return q }
        if q.isInfinity { return p }
        let z1z1 = p.z.squared
        let z2z2 = q.z.squared
        let u1 = p.x * z2z2
        let u2 = q.x * z1z1
        let s1 = p.y * q.z * z2z2
        let s2 = q.y * p.z * z1z1
        let h = u2 - u1
        let r = (s2 - s1).doubled
        if h.isZero { return r.isZero ? p.doubled : .infinity }
        let i = h.doubled.squared
        let j = h * i
        let v = u1 * i
        let x3 = r.squared - j - v.doubled
        let y3 = r * (v - x3) - (s1 * j).doubled
        let z3 = ((p.z + q.z).squared - z1z1 - z2z2) * h
        return JacobianPoint(x: x3, y: y3, z: z3)
    }

    /// scalar·self, by double-and-add (public inputs only: not constant time).
    func multiplied(by scalar: UInt256) -> JacobianPoint {
        var result = JacobianPoint.infinity
        for index in stride(from: scalar.bitWidth - 1, through: 0, by: -1) {
            result = result.doubled
            if scalar.bit(index) { result = result + self }
        }
        return result
    }
}

typealias G1 = AffinePoint<G1Curve>
typealias G2 = AffinePoint<G2Curve>

enum BN254 {
    /// The order r of G1 and G2.
    static let order = UInt256(0x43e1_f593_f000_0001, 0x2833_e848_79b9_7091, 0xb850_45b6_8181_585d, 0x3064_4e72_e131_a029)

    /// G1's generator (1, 2).
    static let g1 = G1(x: .one, y: Fp(small: 2))

    /// G2's generator, as EIP-197 and snarkjs use it.
    static let g2 = G2(
        x: Fp2(
            c0: fp("1800deef121f1e76426a00665e5c4479674322d4f75edadd46debd5cd992f6ed"),
            c1: fp("198e9393920d483a7260bfb731fb5d25f1aa493335a9e71297e485b7aef312c2")),
        y: Fp2(
            c0: fp("12c85ea5db8c6deb4aab71808dcb408fe3d1e7690c43d37b4ce6cc0166fa7daa"),
            c1: fp("090689d0585ff075ec9e99ad690c3395bc4b313370b38ef355acdadcd122975b")))

    /// A constant from 64 hex digits (big-endian); only for literals that are known to be in the field.
    static func fp(_ hex: String) -> Fp {
        let bytes = stride(from: 0, to: 64, by: 2).map { offset -> UInt8 in
            let start = hex.utf8.index(hex.utf8.startIndex, offsetBy: offset)
            return UInt8(String(hex[start..<hex.index(start, offsetBy: 2)]), radix: 16) ?? 0
        }
        return Fp(UInt256(bigEndian: bytes)) ?? .zero
    }

    /// Whether a G2 point is in the order-r subgroup (the twist's group has a cofactor, so being on the curve is not
    /// enough).
    static func inSubgroup(_ point: G2) -> Bool {
        point.isOnCurve && point.jacobian.multiplied(by: order).isInfinity
    }
}
