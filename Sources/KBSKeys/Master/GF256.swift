/// Arithmetic in GF(2⁸) with the AES polynomial x⁸ + x⁴ + x³ + x + 1 (0x11B), for Shamir's secret sharing.
///
/// Multiplication is the shift-and-add loop with masks instead of branches or log tables, so its timing does not
/// depend on the (secret) operands; speed is irrelevant for a 32-byte secret.
enum GF256 {
    /// Addition and subtraction are both XOR.
    static func add(_ a: UInt8, _ b: UInt8) -> UInt8 { a ^ b }

    static func multiply(_ a: UInt8, _ b: UInt8) -> UInt8 {
        var a = a
        var b = b
        var product: UInt8 = 0
        for _ in 0..<8 {
            product ^= a & (0 &- (b & 1))
            let carry = 0 &- (a >> 7)
            a = (a << 1) ^ (0x1B & carry)
            b >>= 1
        }
        return product
    }

    /// The multiplicative inverse, a²⁵⁴ (so 0 maps to 0; callers never divide by 0).
    static func inverse(_ a: UInt8) -> UInt8 {
        var result: UInt8 = 1
        var base = a
        var exponent = 254
        while exponent > 0 {
            if exponent & 1 == 1 { result = multiply(result, base) }
            base = multiply(base, base)
            exponent >>= 1
        }
        return result
    }

    static func divide(_ a: UInt8, _ b: UInt8) -> UInt8 {
        precondition(b != 0, "division by zero in GF(256)")
        return multiply(a, inverse(b))
    }
}
