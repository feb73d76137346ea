import KBSClaims

/// A JSON log line built straight into bytes: serving writes one per decision, so it avoids string building.
struct LogLine {
    private(set) var bytes: [UInt8] = []

    init(capacity: Int = 384) {
        bytes.reserveCapacity(capacity)
    }

    /// Appends JSON text as it is.
    mutating func raw(_ text: StaticString) {
        text.withUTF8Buffer { bytes.append(contentsOf: $0) }
    }

    /// Appends a whole number.
    mutating func number<T: BinaryInteger>(_ value: T) {
        bytes.append(contentsOf: String(value).utf8)
    }

    /// Appends `text` as a JSON string, escaping quotes, backslashes and control characters.
    mutating func quoted(_ text: String) {
        JSONString.append(text, to: &bytes)
    }
}
