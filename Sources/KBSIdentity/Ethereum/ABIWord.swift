/// 32-byte ABI words for EIP-712 atomic values: integers of up to 256 bits in two's complement.
enum ABIWord {
    /// Encodes a decimal (optionally negative) or `0x` hex integer of type `uint<bits>` / `int<bits>`; nil when it
    /// does not parse or does not fit.
    static func integer(_ text: String, bits: Int, signed: Bool) -> [UInt8]? {
        var digits = Substring(text)
        let negative = digits.hasPrefix("-")
        if negative { digits = digits.dropFirst() }
        guard !digits.isEmpty, !(negative && !signed) else { return nil }
        // The magnitude, big-endian, with one spare byte to notice overflow past 256 bits.
        var magnitude = [UInt8](repeating: 0, count: 33)
        func multiplyAdd(_ factor: Int, _ addend: Int) -> Bool {
            var carry = addend
            for index in stride(from: magnitude.count - 1, through: 0, by: -1) {
                let value = Int(magnitude[index]) * factor + carry
                magnitude[index] = UInt8(value & 0xFF)
                carry = value >> 8
            }
            return carry == 0 && magnitude[0] == 0
        }
        if digits.hasPrefix("0x") {
            let hex = digits.dropFirst(2)
            guard !hex.isEmpty else { return nil }
            for character in hex {
                guard let value = character.hexDigitValue, multiplyAdd(16, value) else { return nil }
            }
        } else {
            for character in digits {
                guard let value = character.wholeNumberValue, character.isASCII, multiplyAdd(10, value) else { return nil }
            }
        }
        var word = Array(magnitude.dropFirst())
        let used = word.firstIndex { $0 != 0 }.map { (32 - $0) * 8 - word[$0].leadingZeroBitCount } ?? 0
        if signed {
            // Positive values take at most bits - 1; a negative magnitude may reach exactly 2^(bits-1).
            let isPowerOfTwoLimit =
                used == bits
                && word.firstIndex { $0 != 0 }.map { index in
                    word[index].nonzeroBitCount == 1 && word[(index + 1)...].allSatisfy { $0 == 0 }
                } == true
            guard used < bits || (negative && isPowerOfTwoLimit) else { return nil }
        } else {
            guard used <= bits else { return nil }
        }
        if negative {
            // Two's complement: invert and add one.
            var carry = 1
            for index in stride(from: 31, through: 0, by: -1) {
                let value = Int(~word[index]) + carry
                word[index] = UInt8(value & 0xFF)
                carry = value >> 8
            }
        }
        return word
    }
}
