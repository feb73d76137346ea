package import KBSClaims

/// The claim schemas of verified evidence, registered with the policy checker.
///
/// `Attestation` keeps the normalised claims every verifier fills in and gains one optional member per kind, named
/// by ``EvidenceKind/claimKey`` (`evidence.snp.vmpl`), the shape ``VerifiedEvidence/json`` prints. A policy that
/// reads a kind with no verifier, or a claim a kind does not have, fails `kbs policy check`.
package enum EvidenceSchemas {
    /// `Attestation` with every registered kind's record, then each kind's record under its own type name.
    package static var all: [ClaimSchema] {
        let kinds = EvidenceVerifiers.all.map { ($0.kind, $0.schema) }
        var fields = ClaimSchema.attestation.record.fields
        for (kind, schema) in kinds {
            fields.append(.init(kind.claimKey, .record(schema.record), optional: true, doc: "present when kind is \(kind.rawValue)"))
        }
        let attestation = ClaimSchema(typeName: ClaimSchema.attestation.typeName, summary: ClaimSchema.attestation.summary, fields: fields)
        return [attestation] + kinds.map(\.1)
    }

    /// `registry` with every evidence schema added (replacing the bare `Attestation`).
    package static func register(into registry: ClaimSchemaRegistry) -> ClaimSchemaRegistry {
        var result = registry
        for schema in all { result.register(schema) }
        return result
    }
}
