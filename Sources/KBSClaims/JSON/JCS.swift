/// RFC 8785 JSON Canonicalization Scheme: the bytes a report-data binding hashes.
///
/// Members sorted by their UTF-16 code units at every level, no whitespace, strings with the minimal escapes,
/// numbers in ECMAScript's shortest round-trip form (so `1E3`, `1000.0` and `1000` all become `1000`).
public enum JCS {
    /// The canonical form of the JSON text `bytes`; duplicate member names, non-finite numbers and trailing
    /// content are errors.
    public static func canonicalize(_ bytes: [UInt8]) throws(JCSError) -> [UInt8] {
        let node: JSONNode
        do { node = try JSONNode.parse(bytes) } catch { throw JCSError(message: "\(error.message) at byte \(error.offset)") }
        var out: [UInt8] = []
        out.reserveCapacity(bytes.count)
        try write(node, to: &out)
        return out
    }

    /// The canonical form of a document already parsed (or built from parsed parts, as a runtime-data object is).
    package static func canonicalize(_ node: JSONNode) throws(JCSError) -> [UInt8] {
        var out: [UInt8] = []
        try write(node, to: &out)
        return out
    }

    private static func write(_ node: JSONNode, to out: inout [UInt8]) throws(JCSError) {
        switch node.value {
        case .null: out += Array("null".utf8)
        case .bool(let value): out += Array((value ? "true" : "false").utf8)
        case .number(_, let text): out += Array(try number(text).utf8)
        case .string(let text): appendString(text, to: &out)
        case .array(let elements):
            out.append(UInt8(ascii: "["))
            for (index, element) in elements.enumerated() {
                if index > 0 { out.append(UInt8(ascii: ",")) }
                try write(element, to: &out)
            }
            out.append(UInt8(ascii: "]"))
        case .object(let members):
            out.append(UInt8(ascii: "{"))
            let sorted = members.sorted { $0.key.utf16.lexicographicallyPrecedes($1.key.utf16) }
            for (index, member) in sorted.enumerated() {
                if index > 0 { out.append(UInt8(ascii: ",")) }
                appendString(member.key, to: &out)
                out.append(UInt8(ascii: ":"))
                try write(member.value, to: &out)
            }
            out.append(UInt8(ascii: "}"))
        }
    }

    /// A JSON string with only `"`, `\` and control characters escaped (the short forms where JSON has them): the
    /// RFC 8785 form, also what the audit chain hashes.
    public static func appendString(_ text: String, to out: inout [UInt8]) {
        out.append(UInt8(ascii: "\""))
        for byte in text.utf8 {
            switch byte {
            case 0x22: out += [0x5C, 0x22]
            case 0x5C: out += [0x5C, 0x5C]
            case 0x08: out += [0x5C, UInt8(ascii: "b")]
            case 0x09: out += [0x5C, UInt8(ascii: "t")]
            case 0x0A: out += [0x5C, UInt8(ascii: "n")]
            case 0x0C: out += [0x5C, UInt8(ascii: "f")]
            case 0x0D: out += [0x5C, UInt8(ascii: "r")]
            case ..<0x20:
                let digits = Array("0123456789abcdef".utf8)
                out += Array("\\u00".utf8) + [digits[Int(byte >> 4)], digits[Int(byte & 0x0F)]]
            default: out.append(byte)
            }
        }
        out.append(UInt8(ascii: "\""))
    }

    /// ECMAScript `Number.prototype.toString` of the double nearest to the JSON number `text`.
    public static func number(_ text: some StringProtocol) throws(JCSError) -> String {
        guard let value = Double(String(text)), value.isFinite else {
            throw JCSError(message: "number \(text) is not a finite IEEE 754 double")
        }
        if value == 0 { return "0" }
        let negative = value < 0
        // Swift's description is the shortest digit string that round-trips; only its layout differs from ES's.
        let (digits, exponent) = decompose(abs(value).description)
        let k = digits.count
        let n = exponent  // value = 0.d1…dk × 10^n
        var body: String
        if k <= n && n <= 21 {
            body = digits + String(repeating: "0", count: n - k)
        } else if 0 < n && n <= 21 {
            body = String(digits.prefix(n)) + "." + String(digits.dropFirst(n))
        } else if -6 < n && n <= 0 {
            body = "0." + String(repeating: "0", count: -n) + digits
        } else {
            let e = n - 1
            let mantissa = k == 1 ? digits : String(digits.prefix(1)) + "." + String(digits.dropFirst(1))
            body = mantissa + "e" + (e < 0 ? "-" : "+") + String(abs(e))
        }
        return negative ? "-" + body : body
    }

    /// Significant digits (no leading or trailing zeros) and the exponent n with value = 0.digits × 10^n.
    private static func decompose(_ description: String) -> (String, Int) {
        var mantissa = Substring(description)
        var exponent = 0
        if let e = description.firstIndex(where: { $0 == "e" || $0 == "E" }) {
            mantissa = description[..<e]
            exponent = Int(description[description.index(after: e)...]) ?? 0
        }
        var integerPart = mantissa
        var fraction: Substring = ""
        if let dot = mantissa.firstIndex(of: ".") {
            integerPart = mantissa[..<dot]
            fraction = mantissa[mantissa.index(after: dot)...]
        }
        var digits = String(integerPart) + String(fraction)
        var n = integerPart.count + exponent
        while digits.hasPrefix("0") {
            digits.removeFirst()
            n -= 1
        }
        while digits.hasSuffix("0") { digits.removeLast() }
        return (digits, n)
    }
}

/// Why a text could not be canonicalised.
public struct JCSError: Error, Sendable {
    /// What was wrong, with the byte offset where that is known.
    public var message: String
}
