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
        var text = String(text)
        return text.withUTF8 { decode(utf8: $0, prefix: prefix) }
    }

    /// `decode` for UTF-8 bytes, so that a caller holding the bytes of a JSON string need not make a `String` first.
    @inlinable
    package static func decode(utf8 text: some Collection<UInt8>, prefix: Prefix = .never) -> [UInt8]? {
        if let decoded = text.withContiguousStorageIfAvailable({ decode(utf8: $0, prefix: prefix) }) { return decoded }
        return Array(text).withUnsafeBufferPointer { decode(utf8: $0, prefix: prefix) }
    }

    /// `decode` over contiguous bytes: the one loop every other form calls. Concrete rather than generic, because an
    /// unspecialised generic loop (one call per decision, from the policy's decoder) cost five times the whole
    /// decision in `kbs policy bench`.
    package static func decode(utf8 text: UnsafeBufferPointer<UInt8>, prefix: Prefix = .never) -> [UInt8]? {
        var start = 0
        if prefix != .never {
            // `| 0x20` folds `X` into `x` and leaves `x` as it is.
            if text.count >= 2 && text[0] == UInt8(ascii: "0") && text[1] | 0x20 == UInt8(ascii: "x") {
                start = 2
            } else if prefix == .required {
                return nil
            }
        }
        let count = text.count - start
        guard count % 2 == 0 else { return nil }
        return [UInt8](unsafeUninitializedCapacity: count / 2) { out, initialized in
            var index = start
            while index < text.count {
                guard let high = value(text[index]), let low = value(text[index + 1]) else { return }
                out[initialized] = high << 4 | low
                initialized += 1
                index += 2
            }
        }.checkedCount(count / 2)
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

extension [UInt8] {
    /// Self when it holds `count` bytes; nil when decoding stopped early at a bad digit.
    @usableFromInline
    func checkedCount(_ count: Int) -> [UInt8]? { self.count == count ? self : nil }
}
