/// TOML's integers and floats, from the token the parser collected (`1_000`, `-0x…` refused, `6.02e23`, `inf`).
enum TOMLNumber {
    /// What a token turned out to be.
    enum Parsed: Equatable {
        case number(TOML.Value.Kind)
        /// Digits in a valid form, but more than 64 bits hold.
        case outOfRange
        case invalid
    }

    static func parse(_ token: String) -> Parsed {
        switch token {
        case "inf", "+inf": return .number(.float(.infinity))
        case "-inf": return .number(.float(-.infinity))
        case "nan", "+nan", "-nan": return .number(.float(.nan))
        default: break
        }
        // Only decimal integers take a sign; hexadecimal, octal and binary ones are unsigned.
        for (prefix, radix) in [("0x", 16), ("0o", 8), ("0b", 2)] where token.hasPrefix(prefix) {
            guard let digits = digits(token.dropFirst(2), radix: radix) else { return .invalid }
            return Int64(digits, radix: radix).map { .number(.integer($0)) } ?? .outOfRange
        }
        var body = Substring(token)
        var sign = ""
        if let first = body.first, first == "+" || first == "-" {
            sign = first == "-" ? "-" : ""
            body = body.dropFirst()
        }
        if body.contains(where: { $0 == "." || $0 == "e" || $0 == "E" }) {
            return float(body, sign: sign).map { .number(.float($0)) } ?? .invalid
        }
        guard let digits = wholeDigits(body) else { return .invalid }
        return Int64(sign + digits).map { .number(.integer($0)) } ?? .outOfRange
    }

    /// Whether the token starts like a date (`1979-05-27`) or a time (`07:32`), which this parser does not read.
    static func looksLikeDateOrTime(_ token: String) -> Bool {
        let bytes = Array(token.utf8)
        func digits(_ range: Range<Int>) -> Bool { range.allSatisfy { $0 < bytes.count && (0x30...0x39).contains(bytes[$0]) } }
        return (digits(0..<4) && bytes.count > 4 && bytes[4] == UInt8(ascii: "-"))
            || (digits(0..<2) && bytes.count > 2 && bytes[2] == UInt8(ascii: ":"))
    }

    private static func float(_ body: Substring, sign: String) -> Double? {
        let exponentStart = body.firstIndex { $0 == "e" || $0 == "E" }
        let parts = body[..<(exponentStart ?? body.endIndex)].split(separator: ".", omittingEmptySubsequences: false)
        guard parts.count <= 2, let whole = wholeDigits(parts[0]) else { return nil }
        var text = sign + whole
        if parts.count == 2 {
            guard let fraction = digits(parts[1], radix: 10) else { return nil }
            text += "." + fraction
        }
        if let exponentStart {
            var exponent = body[body.index(after: exponentStart)...]
            var exponentSign = ""
            if let first = exponent.first, first == "+" || first == "-" {
                exponentSign = String(first)
                exponent = exponent.dropFirst()
            }
            guard let power = digits(exponent, radix: 10) else { return nil }
            text += "e" + exponentSign + power
        }
        return Double(text)
    }

    /// Decimal digits without a leading zero (`0` itself aside), as integers and the whole part of floats need.
    private static func wholeDigits(_ text: Substring) -> String? {
        guard let digits = digits(text, radix: 10), digits == "0" || !digits.hasPrefix("0") else { return nil }
        return digits
    }

    /// The digits without their underscores, each of which must stand between two digits.
    private static func digits(_ text: Substring, radix: Int) -> String? {
        guard let first = text.first, let last = text.last, first != "_", last != "_" else { return nil }
        guard !zip(text, text.dropFirst()).contains(where: { $0 == "_" && $1 == "_" }) else { return nil }
        guard text.allSatisfy({ $0 == "_" || ($0.isASCII && ($0.hexDigitValue ?? radix) < radix) }) else { return nil }
        return String(text.filter { $0 != "_" })
    }
}
