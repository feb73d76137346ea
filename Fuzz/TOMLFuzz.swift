// libFuzzer entry for the configuration file's TOML parser (Sources/KBSServer/Configuration/TOML*.swift).
//
// Not a SwiftPM target: Tools/fuzz compiles this file together with those sources, which import nothing, into one
// module. Invariants: nothing traps, every refusal has a line and column inside the input, and a document that
// parses prints (as inline TOML) to one that parses back to the same keys and values.

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzTOML(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    let bytes = Array(UnsafeBufferPointer(start: data, count: size))
    let table: TOML.Table
    do {
        table = try TOML.parse(bytes)
    } catch {
        let lines = bytes.reduce(1) { $0 + ($1 == UInt8(ascii: "\n") ? 1 : 0) }
        precondition(error.line >= 1 && error.line <= lines && error.column >= 1, "diagnostic outside the input: \(error)")
        return 0
    }
    let printed = table.entries.map { quoted($0.key) + " = " + inline($0.value) }.joined(separator: "\n")
    guard let reparsed = try? TOML.parse(printed) else { preconditionFailure("the printed document does not parse:\n\(printed)") }
    precondition(same(.table(table), .table(reparsed)), "the printed document parses to other values:\n\(printed)")
    return 0
}

/// A value as inline TOML: strings quoted with escapes, tables as `{…}`.
private func inline(_ value: TOML.Value) -> String {
    switch value.kind {
    case .string(let text): quoted(text)
    case .integer(let number): String(number)
    case .float(let number): number.isNaN ? "nan" : number.isInfinite ? (number < 0 ? "-inf" : "inf") : "\(number)"
    case .boolean(let flag): flag ? "true" : "false"
    case .array(let items): "[" + items.map(inline).joined(separator: ", ") + "]"
    case .table(let table): "{" + table.entries.map { quoted($0.key) + " = " + inline($0.value) }.joined(separator: ", ") + "}"
    }
}

/// A basic string, escaping what TOML requires (quotes, backslashes, control characters).
private func quoted(_ text: String) -> String {
    var result = "\""
    for scalar in text.unicodeScalars {
        switch scalar {
        case "\"": result += "\\\""
        case "\\": result += "\\\\"
        case _ where scalar.value < 0x20 || scalar.value == 0x7F:
            let hex = String(scalar.value, radix: 16, uppercase: true)
            result += "\\u" + String(repeating: "0", count: 4 - hex.count) + hex
        default: result.unicodeScalars.append(scalar)
        }
    }
    return result + "\""
}

/// Equality of kinds, ignoring where values were written (and counting NaN equal to NaN).
private func same(_ left: TOML.Value.Kind, _ right: TOML.Value.Kind) -> Bool {
    switch (left, right) {
    case (.float(let a), .float(let b)): a == b || (a.isNaN && b.isNaN)
    case (.array(let a), .array(let b)): a.count == b.count && zip(a, b).allSatisfy { same($0.kind, $1.kind) }
    case (.table(let a), .table(let b)):
        a.entries.count == b.entries.count && zip(a.entries, b.entries).allSatisfy { $0.key == $1.key && same($0.value.kind, $1.value.kind) }
    default: left == right
    }
}
