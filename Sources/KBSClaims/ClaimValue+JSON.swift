extension ClaimValue {
    /// A JSON value read without a schema, as an attestation token carries claims back: strings stay strings (only a
    /// schema tells hex or a time from text, and the policy's encoder applies it), integers are ints, objects are
    /// records in their order. Nil for `null` and for numbers that are not 64-bit integers, which no verifier emits.
    package init?(json node: JSONNode) {
        switch node.value {
        case .null: return nil
        case .bool(let value): self = .bool(value)
        case .number(let integer, _):
            guard let integer else { return nil }
            self = .int(integer)
        case .string(let text): self = .string(text)
        case .array(let items): self = .list(items.compactMap { ClaimValue(json: $0) })
        case .object(let members):
            var record = ClaimRecord()
            for member in members {
                if let value = ClaimValue(json: member.value) { record[member.key] = value }
            }
            self = .record(record)
        }
    }
}
