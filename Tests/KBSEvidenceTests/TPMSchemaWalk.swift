import KBSClaims
import KBSEvidence

/// Walks a details record against a schema record: every value must be declared with its type (lists' elements
/// too), and every required field must be present. Returns the violations, empty when the record fits.
func tpmSchemaViolations(_ record: ClaimRecord, _ type: RecordType, path: String = "") -> [String] {
    var problems: [String] = []
    for field in record.fields {
        let name = path.isEmpty ? field.name : "\(path).\(field.name)"
        guard let declared = type.field(named: field.name) else {
            problems.append("\(name) is not in the schema")
            continue
        }
        problems += tpmValueViolations(field.value, declared.type, path: name)
    }
    for field in type.fields where !field.isOptional && record[field.name] == nil {
        problems.append("\(path.isEmpty ? field.name : "\(path).\(field.name)") is required but missing")
    }
    return problems
}

private func tpmValueViolations(_ value: ClaimValue, _ type: ClaimType, path: String) -> [String] {
    switch (value, type) {
    case (.bool, .bool), (.int, .int), (.string, .string), (.hex, .hex), (.time, .time): return []
    case (.list(let elements), .list(let element)):
        return elements.enumerated().flatMap { tpmValueViolations($0.element, element, path: "\(path)[\($0.offset)]") }
    case (.record(let record), .record(let recordType)): return tpmSchemaViolations(record, recordType, path: path)
    default: return ["\(path) is \(value) but the schema says \(type)"]
    }
}
