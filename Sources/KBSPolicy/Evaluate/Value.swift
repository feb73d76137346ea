import KBSClaims

/// A value during evaluation. Typed by the checker, so evaluation never guesses a type.
enum Value: Hashable, Sendable {
    /// An optional attribute that is not there. Reading it is a runtime error unless guarded by `has`.
    case absent
    case bool(Bool)
    case int(Int64)
    case string(String)
    case bytes([UInt8])
    /// Nanoseconds since 1970-01-01T00:00:00Z.
    case time(Int64)
    /// Nanoseconds.
    case duration(Int64)
    case version(Version)
    case tier(Int)
    case list([Value])
    case set(Set<Value>)
    case map([String: Value])
    case record(Record)
    case entity(EntityReference)

    /// Hashes byte strings in one call: the synthesized form feeds the hasher a byte at a time,
    /// which dominated allow-list lookups of 48-byte measurements.
    func hash(into hasher: inout Hasher) {
        switch self {
        case .absent: hasher.combine(0 as UInt8)
        case .bool(let b): hasher.combine(b)
        case .int(let i): hasher.combine(i)
        case .string(let s): hasher.combine(s)
        case .bytes(let b):
            hasher.combine(b.count)
            b.withUnsafeBytes { hasher.combine(bytes: $0) }
        case .time(let t): hasher.combine(t)
        case .duration(let d): hasher.combine(d)
        case .version(let v): hasher.combine(v)
        case .tier(let t): hasher.combine(t)
        case .list(let l): hasher.combine(l)
        case .set(let s): hasher.combine(s)
        case .map(let m): hasher.combine(m)
        case .record(let r): hasher.combine(r)
        case .entity(let e): hasher.combine(e)
        }
    }
}

/// The fields of a record value, in the order of its record type. One allocation: the slot array, which a pooled
/// frame's decoder writes over in place on the next decision while nothing else holds it.
struct Record: Hashable, Sendable {
    var slots: [Value]

    init(_ slots: [Value]) { self.slots = slots }
}

/// An entity found through the entity provider: its type, id, attributes and role bindings.
final class EntityReference: Hashable, Sendable {
    let type: String
    let id: String
    let attributes: Record
    let roles: [RoleBinding]
    /// The role names as a set, built once: `roles(e)` is often asked several times in one decision.
    let roleNames: Value

    init(type: String, id: String, attributes: Record, roles: [RoleBinding]) {
        self.type = type
        self.id = id
        self.attributes = attributes
        self.roles = roles
        self.roleNames = .set(Set(roles.map { .string($0.role) }))
    }

    static func == (lhs: EntityReference, rhs: EntityReference) -> Bool { lhs.type == rhs.type && lhs.id == rhs.id }
    func hash(into hasher: inout Hasher) {
        hasher.combine(type)
        hasher.combine(id)
    }
}

/// A dotted version such as `1.10.2`, compared numerically part by part; trailing zero parts are ignored,
/// and a pre-release suffix (`-rc1`) sorts before the release.
struct Version: Hashable, Sendable, Comparable, CustomStringConvertible {
    var parts: [UInt64]
    var prerelease: String?

    init?(_ text: String) {
        var body = Substring(text)
        if body.first == "v" || body.first == "V" { body = body.dropFirst() }
        var pre: String?
        if let dash = body.firstIndex(of: "-") {
            pre = String(body[body.index(after: dash)...])
            body = body[..<dash]
            if pre!.isEmpty { return nil }
        }
        var parts: [UInt64] = []
        for part in body.split(separator: ".", omittingEmptySubsequences: false) {
            guard !part.isEmpty, part.count <= 19, part.allSatisfy(\.isASCII), let number = UInt64(part) else { return nil }
            parts.append(number)
        }
        while parts.count > 1, parts.last == 0 { parts.removeLast() }
        self.parts = parts
        self.prerelease = pre
    }

    static func < (lhs: Version, rhs: Version) -> Bool {
        for index in 0..<max(lhs.parts.count, rhs.parts.count) {
            let l = index < lhs.parts.count ? lhs.parts[index] : 0
            let r = index < rhs.parts.count ? rhs.parts[index] : 0
            if l != r { return l < r }
        }
        switch (lhs.prerelease, rhs.prerelease) {
        case (nil, nil), (nil, _): return false
        case (_, nil): return true
        case (let l?, let r?): return l < r
        }
    }

    var description: String { parts.map(String.init).joined(separator: ".") + (prerelease.map { "-\($0)" } ?? "") }
}

/// Durations in the policy's own notation (`90s`, `1h30m`).
enum DurationText {
    static func format(_ nanos: Int64) -> String {
        if nanos == 0 { return "0s" }
        var rest = nanos.magnitude
        var text = nanos < 0 ? "-" : ""
        for (unit, size) in [
            ("d", 86_400_000_000_000 as UInt64), ("h", 3_600_000_000_000), ("m", 60_000_000_000), ("s", 1_000_000_000), ("ms", 1_000_000),
            ("us", 1_000), ("ns", 1),
        ] where rest >= size {
            text += "\(rest / size)\(unit)"
            rest %= size
        }
        return text
    }
}
