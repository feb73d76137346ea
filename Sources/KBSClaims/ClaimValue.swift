public import Foundation

/// A verified claim value, typed as the claim schemas describe it: what evidence verifiers and identity verifiers
/// yield, and what the broker hands the policy as input.
public enum ClaimValue: Sendable, Equatable {
    case bool(Bool)
    case int(Int64)
    case string(String)
    /// Bytes; JSON shows them as lower-case hex.
    case hex([UInt8])
    case time(Date)
    case list([ClaimValue])
    case record(ClaimRecord)

    /// Compact JSON for the value.
    public var json: String {
        var out = ""
        write(to: &out)
        return out
    }

    func write(to out: inout String) {
        switch self {
        case .bool(let value): out += value ? "true" : "false"
        case .int(let value): out += String(value)
        case .string(let value): out += JSONString.quote(value)
        case .hex(let bytes):
            out += "\""
            out += Hex.encode(bytes)
            out += "\""
        case .time(let date):
            let nanos = Int64((date.timeIntervalSince1970 * 1_000_000_000).rounded())
            out += JSONString.quote(Timestamp.rfc3339(nanos))
        case .list(let values):
            out += "["
            for (index, value) in values.enumerated() {
                if index > 0 { out += "," }
                value.write(to: &out)
            }
            out += "]"
        case .record(let record):
            out += "{"
            for (index, field) in record.fields.enumerated() {
                if index > 0 { out += "," }
                out += JSONString.quote(field.name)
                out += ":"
                field.value.write(to: &out)
            }
            out += "}"
        }
    }
}

/// Named claim values in the order a verifier set them.
public struct ClaimRecord: Sendable, Equatable {
    /// One named value.
    public struct Field: Sendable, Equatable {
        /// The claim name.
        public var name: String
        /// The claim's value.
        public var value: ClaimValue
    }

    /// The fields in the order their names were first set; each name appears once.
    public private(set) var fields: [Field] = []

    /// An empty record.
    public init() {}

    /// A record of `fields` in this order; a repeated name keeps its first place and its last value.
    public init(_ fields: [(String, ClaimValue)]) {
        for (name, value) in fields { self[name] = value }
    }

    /// The value named `name`; setting `nil` removes it, setting an existing name replaces it in place.
    public subscript(name: String) -> ClaimValue? {
        get { fields.first { $0.name == name }?.value }
        set {
            if let index = fields.firstIndex(where: { $0.name == name }) {
                if let newValue { fields[index].value = newValue } else { fields.remove(at: index) }
            } else if let newValue {
                fields.append(Field(name: name, value: newValue))
            }
        }
    }

    /// Follows a dotted path of record members (`"policy.debug"`).
    public func value(at path: String) -> ClaimValue? {
        var current: ClaimValue = .record(self)
        for part in path.split(separator: ".") {
            guard case .record(let record) = current, let next = record[String(part)] else { return nil }
            current = next
        }
        return current
    }
}
