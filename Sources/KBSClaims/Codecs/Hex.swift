/// Lower-case hexadecimal text for bytes, and bytes back from hex of either case: the one hex codec of the package.
///
/// Inlinable because the policy engine decodes `hex` input and `hex()` arguments with it on every decision.
package enum Hex {
    /// Whether `decode` takes a `0x` (or `0X`) in front of the digits.
    package enum Prefix: Sendable {
        /// Digits only, as the policy language and stored values write hex.
        case never
        /// `0x` may come first, as TEE tools and evidence JSON write hex either way.
        case allowed
        /// `0x` must come first, as Ethereum writes addresses, signatures and byte strings.
        case required
    }

    /// `bytes` as lower-case hex, two digits a byte, no prefix.
    @inlinable
    package static func encode(_ bytes: some Sequence<UInt8>) -> String {
        var out: [UInt8] = []
        out.reserveCapacity(bytes.underestimatedCount * 2)
        for byte in bytes {
            out.append(digit(byte >> 4))
            out.append(digit(byte & 0x0F))
        }
        return String(decoding: out, as: UTF8.self)
    }

    /// The bytes of the hex digits in `text` (either case), or nil when it has an odd number of digits, anything but
    /// digits after the prefix, or a prefix other than `prefix` allows.
    @inlinable
    package static func decode(_ text: some StringProtocol, prefix: Prefix = .never) -> [UInt8]? {
        decode(utf8: text.utf8, prefix: prefix)
    }

    /// `decode` for UTF-8 bytes, so that a caller holding the bytes of a JSON string need not make a `String` first.
    @inlinable
    package static func decode(utf8 text: some Collection<UInt8>, prefix: Prefix = .never) -> [UInt8]? {
        var digits = text[...]
        if prefix != .never {
            // `| 0x20` folds `X` into `x` and leaves `x` as it is.
            let marked = digits.first == UInt8(ascii: "0") && digits.dropFirst().first.map { $0 | 0x20 == UInt8(ascii: "x") } == true
            if marked {
                digits = digits.dropFirst(2)
            } else if prefix == .required {
                return nil
            }
        }
        guard digits.count % 2 == 0 else { return nil }
        var out: [UInt8] = []
        out.reserveCapacity(digits.count / 2)
        var iterator = digits.makeIterator()
        while let first = iterator.next(), let second = iterator.next() {
            guard let high = value(first), let low = value(second) else { return nil }
            out.append(high << 4 | low)
        }
        return out
    }

    /// The hex digit for a value below 16.
    @inlinable
    @inline(__always)
    static func digit(_ value: UInt8) -> UInt8 {
        value < 10 ? UInt8(ascii: "0") + value : UInt8(ascii: "a") - 10 + value
    }

    /// The value of one hex digit of either case, or nil.
    @inlinable
    @inline(__always)
    static func value(_ digit: UInt8) -> UInt8? {
        switch digit {
        case UInt8(ascii: "0")...UInt8(ascii: "9"): digit - UInt8(ascii: "0")
        case UInt8(ascii: "a")...UInt8(ascii: "f"): digit - UInt8(ascii: "a") + 10
        case UInt8(ascii: "A")...UInt8(ascii: "F"): digit - UInt8(ascii: "A") + 10
        default: nil
        }
    }
}
