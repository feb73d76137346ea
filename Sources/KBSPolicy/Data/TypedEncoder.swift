import Foundation
import KBSClaims

/// Claim values into typed policy values, checked against the input schema exactly as ``TypedDecoder`` checks JSON:
/// the broker hands the policy what the verifiers verified, with no JSON text in between.
///
/// The coercions are the decoder's: a hex field takes bytes or hex text, a time takes a time or RFC 3339 text, a tier an
/// integer 0–4 or a tier name, a map takes a record, a set a list. Fields no rule reads are skipped; a required field
/// that is missing, or any value of the wrong type, is an error the decision reports (and so denies).
enum TypedEncoder {
    static func encode(_ record: ClaimRecord, as plan: RecordPlan) throws(DecodeError) -> Record {
        var slots = [Value](repeating: .absent, count: plan.names.count)
        for field in record.fields {
            var name = field.name
            let found = name.withUTF8 { plan.index(of: $0) }
            guard let index = found, plan.used[index] else { continue }
            do {
                slots[index] = try encode(field.value, as: plan.plans[index])
            } catch var error {
                error.path.insert(plan.displayNames[index], at: 0)
                throw error
            }
        }
        for index in slots.indices where plan.used[index] && plan.required[index] {
            if case .absent = slots[index] {
                throw DecodeError(message: "missing required attribute `\(plan.displayNames[index])`", offset: 0, path: [])
            }
        }
        return Record(slots)
    }

    static func encode(_ value: ClaimValue, as plan: DecodePlan) throws(DecodeError) -> Value {
        switch (plan, value) {
        case (.bool, .bool(let flag)): return .bool(flag)
        case (.int, .int(let number)): return .int(number)
        case (.string, .string(let text)), (.entityID, .string(let text)): return .string(text)
        case (.hex, .hex(let bytes)): return .bytes(bytes)
        case (.hex, .string(let text)):
            guard let bytes = Hex.decode(text) else { throw mismatch("a hex string", value) }
            return .bytes(bytes)
        case (.time, .time(let date)):
            return .time(Int64((date.timeIntervalSince1970 * 1_000_000_000).rounded()))
        case (.time, .string(let text)):
            guard let nanos = Timestamp.parse(text) else { throw mismatch("an RFC 3339 time", value) }
            return .time(nanos)
        case (.duration, .int(let seconds)):
            let (nanos, overflow) = seconds.multipliedReportingOverflow(by: 1_000_000_000)
            guard !overflow else { throw DecodeError(message: "duration is out of range", offset: 0, path: []) }
            return .duration(nanos)
        case (.duration, .string(let text)):
            guard let nanos = DurationParser.parse(text) else { throw mismatch("a duration such as \"90s\"", value) }
            return .duration(nanos)
        case (.version, .string(let text)):
            guard let version = Version(text) else { throw mismatch("a version string such as \"1.2.3\"", value) }
            return .version(version)
        case (.tier, .int(let number)):
            guard (0...4).contains(number) else {
                throw DecodeError(message: "privacy tier \(number) is out of range 0–4", offset: 0, path: [])
            }
            return .tier(Int(number))
        case (.tier, .string(let text)):
            guard let tier = PrivacyTier(text: text) else { throw mismatch("a privacy tier (0–4 or a tier name)", value) }
            return .tier(tier.rawValue)
        case (.list(let element), .list(let items)):
            return .list(try elements(items, as: element))
        case (.set(let element), .list(let items)):
            return .set(Set(try elements(items, as: element)))
        case (.map(let element), .record(let record)):
            var map: [String: Value] = [:]
            map.reserveCapacity(record.fields.count)
            for field in record.fields {
                do { map[field.name] = try encode(field.value, as: element) } catch var error {
                    error.path.insert(field.name, at: 0)
                    throw error
                }
            }
            return .map(map)
        case (.record(let nested), .record(let record)):
            return .record(try encode(record, as: nested))
        default:
            throw mismatch(expected(plan), value)
        }
    }

    private static func elements(_ items: [ClaimValue], as plan: DecodePlan) throws(DecodeError) -> [Value] {
        var values: [Value] = []
        values.reserveCapacity(items.count)
        for (index, item) in items.enumerated() {
            do { values.append(try encode(item, as: plan)) } catch var error {
                error.path.insert("[\(index)]", at: 0)
                throw error
            }
        }
        return values
    }

    private static func mismatch(_ expected: String, _ value: ClaimValue) -> DecodeError {
        let found =
            switch value {
            case .bool: "a boolean"
            case .int: "a number"
            case .string: "a string"
            case .hex: "bytes"
            case .time: "a time"
            case .list: "an array"
            case .record: "an object"
            }
        return DecodeError(message: "expected \(expected), found \(found)", offset: 0, path: [])
    }

    private static func expected(_ plan: DecodePlan) -> String {
        switch plan {
        case .bool: "a boolean"
        case .int: "an integer"
        case .string, .entityID: "a string"
        case .hex: "a hex string"
        case .time: "an RFC 3339 time"
        case .duration: "a duration"
        case .version: "a version string"
        case .tier: "a privacy tier"
        case .list, .set: "an array"
        case .map, .record: "an object"
        }
    }
}
