/// The claims one producer (an evidence verifier, an identity verifier) emits, as a named record type.
///
/// A policy bundle refers to a registered schema by its type name, e.g. `evidence: Attestation`, and
/// the checker then knows every attribute, its type and whether it is optional.
public struct ClaimSchema: Hashable, Sendable {
    /// The type name policies use, e.g. `Attestation` or `SNPClaims`.
    public var typeName: String
    /// What produces these claims, in a few words.
    public var summary: String
    /// The record type of the claims, named `typeName`.
    public var record: RecordType

    /// Creates a schema.
    public init(typeName: String, summary: String, fields: [RecordType.Field]) {
        self.typeName = typeName
        self.summary = summary
        self.record = RecordType(name: typeName, fields: fields)
    }
}

/// The claim schemas known to the policy checker, by type name.
///
/// Verifiers register their schemas here; the policy language imports nothing from them.
public struct ClaimSchemaRegistry: Sendable {
    /// The registered schemas, keyed by type name.
    public private(set) var schemas: [String: ClaimSchema] = [:]

    /// Creates a registry holding `schemas`.
    public init(_ schemas: [ClaimSchema] = []) {
        for schema in schemas { register(schema) }
    }

    /// Adds or replaces the schema registered under `schema.typeName`.
    public mutating func register(_ schema: ClaimSchema) {
        schemas[schema.typeName] = schema
    }

    /// The schema registered as `typeName`, if any.
    public subscript(typeName: String) -> ClaimSchema? { schemas[typeName] }

    /// The schemas every policy can name without a verifier registering anything.
    public static let standard = ClaimSchemaRegistry([.attestation])
}

extension ClaimSchema {
    /// Normalised attestation claims every evidence verifier fills in, whatever the TEE.
    ///
    /// Kind-specific claims hang off optional attributes that each verifier registers.
    public static let attestation = ClaimSchema(
        typeName: "Attestation",
        summary: "normalised claims common to every kind of attestation evidence",
        fields: [
            .init("kind", .string, doc: "the evidence kind: snp, tdx, sgx, nvidia, cca, az-snp-vtpm, az-tdx-vtpm, tpm, sim"),
            .init("measurement", .hex, doc: "the launch measurement of the workload"),
            .init("debug", .bool, doc: "whether the TEE allows debugging (its memory can be read by the host)"),
            .init("tcb_svn", .int, doc: "the security version of the trusted computing base"),
            .init("report_data", .hex, optional: true, doc: "the caller-chosen data bound into the report"),
            .init("host_data", .hex, optional: true, doc: "host-provided data bound at launch (SNP HOST_DATA, TDX MRCONFIGID)"),
            .init("tcb_status", .string, optional: true, doc: "the vendor's TCB status: UpToDate, OutOfDate, …"),
            .init(
                "revocation_checked", .bool, optional: true,
                doc: "whether vendor CRLs covered the certificate chain (snp, tdx, sgx and the Azure kinds wrapping them)"),
        ]
    )
}
