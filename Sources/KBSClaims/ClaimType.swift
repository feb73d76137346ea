/// The type of a claim or of any value a policy reads.
///
/// Verifiers describe what they emit with these types, and the policy checker types every
/// expression against them, so a misspelt attribute or a type mismatch is a compile error.
public indirect enum ClaimType: Hashable, Sendable {
    case bool
    case int
    case string
    /// Bytes, written in JSON as a hex string (case-insensitive) and compared as bytes.
    case hex
    /// An instant, written in JSON as an RFC 3339 string.
    case time
    /// A length of time, written in JSON as a number of seconds or a string such as `"5m"`.
    case duration
    /// A dotted version such as `1.2.10`, compared numerically part by part.
    case version
    /// A privacy tier (0–4), ordered.
    case tier
    case list(ClaimType)
    case set(ClaimType)
    /// A map from strings to values of one type.
    case map(ClaimType)
    case record(RecordType)
    /// An entity of the named entity type, looked up by id through an entity provider.
    case entity(String)

    /// Whether `<`, `<=`, `>` and `>=` apply to values of this type.
    public var isOrdered: Bool {
        switch self {
        case .int, .time, .duration, .version, .tier, .string: true
        default: false
        }
    }

    /// Whether values of this type can be members of a set or keys of an index.
    public var isHashable: Bool {
        switch self {
        case .bool, .int, .string, .hex, .time, .duration, .version, .tier: true
        default: false
        }
    }
}

extension ClaimType: CustomStringConvertible {
    /// The type as a policy author writes it.
    public var description: String {
        switch self {
        case .bool: "bool"
        case .int: "int"
        case .string: "string"
        case .hex: "hex"
        case .time: "time"
        case .duration: "duration"
        case .version: "version"
        case .tier: "tier"
        case .list(let element): "list<\(element)>"
        case .set(let element): "set<\(element)>"
        case .map(let value): "map<\(value)>"
        case .record(let record): record.name ?? record.description
        case .entity(let name): name
        }
    }
}

/// A record type: named fields, each required or optional.
public struct RecordType: Hashable, Sendable {
    /// One field of a record.
    public struct Field: Hashable, Sendable {
        /// The name policies use for the field.
        public var name: String
        /// The type of the field's value.
        public var type: ClaimType
        /// Whether the field may be absent; policies must guard optional fields before use.
        public var isOptional: Bool
        /// One line for hover help and generated docs.
        public var doc: String

        /// Creates a field.
        public init(_ name: String, _ type: ClaimType, optional: Bool = false, doc: String = "") {
            self.name = name
            self.type = type
            self.isOptional = optional
            self.doc = doc
        }
    }

    /// The name the type was declared under, if any; used only in messages.
    public var name: String?
    /// The fields in declaration order.
    public var fields: [Field]

    /// Creates a record type from its fields, in declaration order.
    public init(name: String? = nil, fields: [Field]) {
        self.name = name
        self.fields = fields
    }

    /// The field called `name`, if there is one.
    public func field(named name: String) -> Field? {
        fields.first { $0.name == name }
    }

    /// The position of the field called `name`, if there is one.
    public func index(of name: String) -> Int? {
        fields.firstIndex { $0.name == name }
    }
}

extension RecordType: CustomStringConvertible {
    /// The record as a policy author writes it.
    public var description: String {
        "{ " + fields.map { "\($0.name)\($0.isOptional ? "?" : ""): \($0.type)" }.joined(separator: ", ") + " }"
    }
}
