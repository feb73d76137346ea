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

/// The fields of a record value, in the order of its record type. One allocation: the slot array.
struct Record: Hashable, Sendable {
    let slots: [Value]

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

/// RFC 3339 timestamps to and from nanoseconds since the epoch, without Foundation.
package enum Timestamp {
    /// Nanoseconds since the epoch for an RFC 3339 time, or nil.
    package static func nanoseconds(fromRFC3339 text: String) -> Int64? { parse(text) }

    /// The RFC 3339 text of a time in nanoseconds since the epoch.
    package static func rfc3339(_ nanos: Int64) -> String { format(nanos) }

    /// Parses `2026-01-02T03:04:05Z`, with optional fraction and numeric offset.
    static func parse(_ text: String) -> Int64? {
        let b = Array(text.utf8)
        func digits(_ start: Int, _ count: Int) -> Int? {
            guard start + count <= b.count else { return nil }
            var value = 0
            for i in start..<start + count {
                guard b[i] >= 48, b[i] <= 57 else { return nil }
                value = value * 10 + Int(b[i] - 48)
            }
            return value
        }
        guard b.count >= 20, let year = digits(0, 4), b[4] == UInt8(ascii: "-"), let month = digits(5, 2),
            b[7] == UInt8(ascii: "-"), let day = digits(8, 2), b[10] == UInt8(ascii: "T") || b[10] == UInt8(ascii: "t"),
            let hour = digits(11, 2), b[13] == UInt8(ascii: ":"), let minute = digits(14, 2), b[16] == UInt8(ascii: ":"),
            let second = digits(17, 2)
        else { return nil }
        guard (1...12).contains(month), day >= 1, day <= daysInMonth(year, month), hour < 24, minute < 60, second < 61 else {
            return nil
        }
        var index = 19
        var nanos = 0
        if index < b.count, b[index] == UInt8(ascii: ".") {
            index += 1
            var scale = 100_000_000
            let start = index
            while index < b.count, b[index] >= 48, b[index] <= 57 {
                nanos += Int(b[index] - 48) * scale
                scale /= 10
                index += 1
            }
            guard index > start, index - start <= 9 else { return nil }
        }
        guard index < b.count else { return nil }
        var offset = 0
        if b[index] == UInt8(ascii: "Z") || b[index] == UInt8(ascii: "z") {
            index += 1
        } else if b[index] == UInt8(ascii: "+") || b[index] == UInt8(ascii: "-") {
            guard let oh = digits(index + 1, 2), index + 3 < b.count, b[index + 3] == UInt8(ascii: ":"),
                let om = digits(index + 4, 2), oh < 24, om < 60
            else { return nil }
            offset = (oh * 60 + om) * 60 * (b[index] == UInt8(ascii: "+") ? 1 : -1)
            index += 6
        } else {
            return nil
        }
        guard index == b.count else { return nil }
        let days = daysFromCivil(year, month, day)
        let seconds = Int64(days) * 86_400 + Int64(hour * 3600 + minute * 60 + min(second, 59)) - Int64(offset)
        let (result, overflow) = seconds.multipliedReportingOverflow(by: 1_000_000_000)
        guard !overflow else { return nil }
        return result + Int64(nanos)
    }

    /// Formats as `2026-01-02T03:04:05Z` (with a fraction when there is one).
    static func format(_ nanos: Int64) -> String {
        let seconds = nanos >= 0 ? nanos / 1_000_000_000 : (nanos - 999_999_999) / 1_000_000_000
        let fraction = nanos - seconds * 1_000_000_000
        var days = seconds >= 0 ? seconds / 86_400 : (seconds - 86_399) / 86_400
        let rest = seconds - days * 86_400
        // civil_from_days (Howard Hinnant's algorithm).
        days += 719_468
        let era = (days >= 0 ? days : days - 146_096) / 146_097
        let doe = days - era * 146_097
        let yoe = (doe - doe / 1460 + doe / 36524 - doe / 146_096) / 365
        var year = yoe + era * 400
        let doy = doe - (365 * yoe + yoe / 4 - yoe / 100)
        let mp = (5 * doy + 2) / 153
        let day = doy - (153 * mp + 2) / 5 + 1
        let month = mp < 10 ? mp + 3 : mp - 9
        if month <= 2 { year += 1 }
        func pad(_ value: Int64, _ width: Int) -> String {
            let text = String(value)
            return String(repeating: "0", count: max(0, width - text.count)) + text
        }
        var text = "\(pad(year, 4))-\(pad(month, 2))-\(pad(day, 2))T\(pad(rest / 3600, 2)):\(pad(rest / 60 % 60, 2)):\(pad(rest % 60, 2))"
        if fraction != 0 {
            var digits = pad(fraction, 9)
            while digits.hasSuffix("0") { digits.removeLast() }
            text += "." + digits
        }
        return text + "Z"
    }

    private static func daysInMonth(_ year: Int, _ month: Int) -> Int {
        switch month {
        case 2: (year % 4 == 0 && year % 100 != 0) || year % 400 == 0 ? 29 : 28
        case 4, 6, 9, 11: 30
        default: 31
        }
    }

    private static func daysFromCivil(_ year: Int, _ month: Int, _ day: Int) -> Int {
        let y = month <= 2 ? year - 1 : year
        let era = (y >= 0 ? y : y - 399) / 400
        let yoe = y - era * 400
        let doy = (153 * (month + (month > 2 ? -3 : 9)) + 2) / 5 + day - 1
        let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy
        return era * 146_097 + doe - 719_468
    }
}

/// Durations in the policy's own notation (`90s`, `1h30m`).
enum DurationText {
    static func format(_ nanos: Int64) -> String {
        if nanos == 0 { return "0s" }
        var rest = nanos.magnitude
        var text = nanos < 0 ? "-" : ""
        for (unit, size) in [("d", 86_400_000_000_000 as UInt64), ("h", 3_600_000_000_000), ("m", 60_000_000_000), ("s", 1_000_000_000), ("ms", 1_000_000), ("us", 1_000), ("ns", 1)] where rest >= size {
            text += "\(rest / size)\(unit)"
            rest %= size
        }
        return text
    }
}

/// Lowercase hex to bytes and back.
enum Hex {
    static func decode(_ text: some Collection<UInt8>) -> [UInt8]? {
        guard text.count % 2 == 0 else { return nil }
        var result = [UInt8]()
        result.reserveCapacity(text.count / 2)
        var high: UInt8 = 0
        var isHigh = true
        for byte in text {
            let nibble: UInt8
            switch byte {
            case 48...57: nibble = byte - 48
            case 97...102: nibble = byte - 87
            case 65...70: nibble = byte - 55
            default: return nil
            }
            if isHigh { high = nibble } else { result.append(high << 4 | nibble) }
            isHigh.toggle()
        }
        return result
    }

    static func encode(_ bytes: [UInt8]) -> String {
        let digits = Array("0123456789abcdef".utf8)
        var out = [UInt8]()
        out.reserveCapacity(bytes.count * 2)
        for byte in bytes {
            out.append(digits[Int(byte >> 4)])
            out.append(digits[Int(byte & 0xF)])
        }
        return String(decoding: out, as: UTF8.self)
    }
}
