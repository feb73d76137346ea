/// Quotes a string with the escapes JSON and the policy language share; control characters are
/// written by `controlEscape`, since the two notations differ there.
package enum StringEscaper {
    package static func quote(_ text: String, controlEscape: (UInt32) -> String) -> String {
        // Most text needs no escaping; copying it whole is far cheaper than appending scalar by scalar.
        if !text.utf8.contains(where: needsEscape) {
            return "\"" + text + "\""
        }
        var out: [UInt8] = []
        out.reserveCapacity(text.utf8.count + 8)
        append(text, to: &out, controlEscape: controlEscape)
        return String(decoding: out, as: UTF8.self)
    }

    /// `quote` written straight into bytes, for output built as bytes rather than strings (the decision log).
    package static func append(_ text: String, to out: inout [UInt8], controlEscape: (UInt32) -> String) {
        out.append(UInt8(ascii: "\""))
        var text = text
        text.withUTF8 { utf8 in
            // Every byte that needs an escape is ASCII, so the runs between them are copied whole.
            var start = 0
            for (index, byte) in utf8.enumerated() where needsEscape(byte) {
                out.append(contentsOf: UnsafeBufferPointer(rebasing: utf8[start..<index]))
                switch byte {
                case UInt8(ascii: "\""): out += [UInt8(ascii: "\\"), UInt8(ascii: "\"")]
                case UInt8(ascii: "\\"): out += [UInt8(ascii: "\\"), UInt8(ascii: "\\")]
                case UInt8(ascii: "\n"): out += [UInt8(ascii: "\\"), UInt8(ascii: "n")]
                case UInt8(ascii: "\r"): out += [UInt8(ascii: "\\"), UInt8(ascii: "r")]
                case UInt8(ascii: "\t"): out += [UInt8(ascii: "\\"), UInt8(ascii: "t")]
                default: out += Array(controlEscape(UInt32(byte)).utf8)
                }
                start = index + 1
            }
            out.append(contentsOf: UnsafeBufferPointer(rebasing: utf8[start...]))
        }
        out.append(UInt8(ascii: "\""))
    }

    /// Whether `byte` is a quote, a backslash or a control character (C0 or DEL).
    private static func needsEscape(_ byte: UInt8) -> Bool {
        byte < 0x20 || byte == 0x22 || byte == 0x5C || byte == 0x7F
    }
}

/// JSON text output without Foundation: the one JSON string writer, but for two that escape differently on purpose
/// (`JCS`, whose RFC 8785 form is hashed and signed, and KBSKeys' `SecretJSON`, which never makes a `String` of a secret).
package enum JSONString {
    /// `text` as a JSON string literal.
    package static func quote(_ text: String) -> String {
        StringEscaper.quote(text, controlEscape: unicodeEscape)
    }

    /// `text` as a JSON string literal, appended to `bytes`.
    package static func append(_ text: String, to bytes: inout [UInt8]) {
        StringEscaper.append(text, to: &bytes, controlEscape: unicodeEscape)
    }

    /// `\u001f`: JSON has no other form for most control characters.
    private static func unicodeEscape(_ scalar: UInt32) -> String {
        let hex = String(scalar, radix: 16)
        return "\\u" + String(repeating: "0", count: 4 - hex.count) + hex
    }
}
