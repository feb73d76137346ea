/// Base58btc (the Bitcoin alphabet), as multibase prefix `z` uses it.
enum Base58 {
    private static let alphabet = Array("123456789ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz".utf8)
    private static let table: [Int8] = {
        var table = [Int8](repeating: -1, count: 256)
        for (index, byte) in alphabet.enumerated() { table[Int(byte)] = Int8(index) }
        return table
    }()

    /// Decodes base58btc text; nil for characters outside the alphabet. Input is bounded by the caller.
    static func decode(_ text: some Collection<UInt8>) -> [UInt8]? {
        var output: [UInt8] = []  // little-endian base-256 digits
        var leadingZeros = 0
        var seenNonZero = false
        for byte in text {
            let value = table[Int(byte)]
            guard value >= 0 else { return nil }
            if !seenNonZero {
                if value == 0 {
                    leadingZeros += 1
                    continue
                }
                seenNonZero = true
            }
            var carry = Int(value)
            for index in output.indices {
                carry += Int(output[index]) * 58
                output[index] = UInt8(carry & 0xFF)
                carry >>= 8
            }
            while carry > 0 {
                output.append(UInt8(carry & 0xFF))
                carry >>= 8
            }
        }
        return [UInt8](repeating: 0, count: leadingZeros) + output.reversed()
    }

    /// Encodes bytes as base58btc.
    static func encode(_ bytes: [UInt8]) -> String {
        var digits: [UInt8] = []  // little-endian base-58 digits
        for byte in bytes {
            var carry = Int(byte)
            for index in digits.indices {
                carry += Int(digits[index]) << 8
                digits[index] = UInt8(carry % 58)
                carry /= 58
            }
            while carry > 0 {
                digits.append(UInt8(carry % 58))
                carry /= 58
            }
        }
        let zeros = bytes.prefix { $0 == 0 }.count
        return String(decoding: [UInt8](repeating: alphabet[0], count: zeros) + digits.reversed().map { alphabet[Int($0)] }, as: UTF8.self)
    }
}
