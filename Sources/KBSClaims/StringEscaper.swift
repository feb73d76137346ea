/// Quotes a string with the escapes JSON and the policy language share; control characters are
/// written by `controlEscape`, since the two notations differ there.
package enum StringEscaper {
    package static func quote(_ text: String, controlEscape: (UInt32) -> String) -> String {
        // Most text needs no escaping; copying it whole is far cheaper than appending scalar by scalar.
        if !text.utf8.contains(where: { $0 < 0x20 || $0 == 0x22 || $0 == 0x5C || $0 == 0x7F }) {
            return "\"" + text + "\""
        }
        var out = "\""
        for scalar in text.unicodeScalars {
            switch scalar {
            case "\"": out += "\\\""
            case "\\": out += "\\\\"
            case "\n": out += "\\n"
            case "\r": out += "\\r"
            case "\t": out += "\\t"
            default:
                if scalar.value < 0x20 || scalar.value == 0x7F {
                    out += controlEscape(scalar.value)
                } else {
                    out.unicodeScalars.append(scalar)
                }
            }
        }
        return out + "\""
    }
}

/// JSON text output without Foundation.
package enum JSONString {
    /// `text` as a JSON string literal.
    package static func quote(_ text: String) -> String {
        StringEscaper.quote(text) { scalar in
            let hex = String(scalar, radix: 16)
            return "\\u" + String(repeating: "0", count: 4 - hex.count) + hex
        }
    }
}
