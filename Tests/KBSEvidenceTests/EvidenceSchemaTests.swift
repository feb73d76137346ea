import Foundation
import KBSClaims
import KBSEvidence
import KBSPolicy
import Testing

/// The evidence claim schemas, as the policy checker sees them.
struct EvidenceSchemaTests {
    static var registry: ClaimSchemaRegistry { EvidenceSchemas.register(into: .standard) }

    /// Compiles a one-rule bundle whose condition is `condition`; the diagnostics' codes when it fails.
    static func check(_ condition: String) throws -> [String]? {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("kbs-schema-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        let source = """
            input {
              action: string
              evidence: Attestation
            }

            permit release when {
              \(condition)
            }
            """
        try source.write(to: directory.appendingPathComponent("p.policy"), atomically: true, encoding: .utf8)
        switch PolicySet.load(directory: directory.path, registry: registry) {
        case .success: return nil
        case .failure(let error): return error.diagnostics.map { "\($0.id): \($0.message)" }
        }
    }

    @Test func normalisedClaimsCheck() throws {
        #expect(try Self.check("evidence.kind == \"snp\" and evidence.debug == false") == nil)
    }

    /// A kind that has no verifier is not a member of `Attestation`: the bundle does not compile.
    @Test func aKindWithoutAVerifierFailsTheCheck() throws {
        let diagnostics = try Self.check("has evidence.quantum and evidence.quantum.level == 3")
        #expect(diagnostics?.contains { $0.contains("has no attribute `quantum`") } == true, "\(diagnostics ?? [])")
    }

    /// Every registered kind's record hangs off `Attestation` under its claim key, and each of its fields is readable
    /// once guarded; a misspelt field of a real kind fails.
    @Test func everyRegisteredKindIsReadable() throws {
        for verifier in EvidenceVerifiers.all {
            let key = verifier.kind.claimKey
            #expect(EvidenceSchemas.all.contains { $0.typeName == verifier.schema.typeName })
            for field in verifier.schema.record.fields {
                let guardFirst = field.isOptional ? " and has evidence.\(key).\(field.name)" : ""
                let diagnostics = try Self.check("has evidence.\(key)\(guardFirst)")
                #expect(diagnostics == nil, "\(key).\(field.name): \(diagnostics ?? [])")
            }
            let misspelt = try Self.check("has evidence.\(key) and has evidence.\(key).no_such_claim")
            #expect(misspelt?.contains { $0.contains("no attribute `no_such_claim`") } == true, "\(misspelt ?? [])")
        }
    }

    /// What a verifier emits matches what it declares: every detail field is in the schema with its type.
    static func conforms(_ record: ClaimRecord, to type: RecordType, path: String) -> [String] {
        var problems: [String] = []
        for field in record.fields {
            guard let declared = type.fields.first(where: { $0.name == field.name }) else {
                problems.append("\(path).\(field.name) is not in the schema")
                continue
            }
            problems += conforms(field.value, to: declared.type, path: path + "." + field.name)
        }
        for declared in type.fields where !declared.isOptional && record[declared.name] == nil {
            problems.append("\(path).\(declared.name) is required but missing")
        }
        return problems
    }

    static func conforms(_ value: ClaimValue, to type: ClaimType, path: String) -> [String] {
        switch (value, type) {
        case (.bool, .bool), (.int, .int), (.string, .string), (.hex, .hex), (.time, .time): return []
        case (.string, .version): return []
        case (.list(let values), .list(let element)), (.list(let values), .set(let element)):
            return values.enumerated().flatMap { conforms($1, to: element, path: "\(path)[\($0)]") }
        case (.record(let record), .record(let recordType)): return conforms(record, to: recordType, path: path)
        default: return ["\(path) is \(value) but declared \(type)"]
        }
    }
}
