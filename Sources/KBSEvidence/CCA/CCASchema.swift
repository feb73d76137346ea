package import KBSClaims

extension CCAVerifier {
    /// The `CCAClaims` record under `attestation.cca`.
    package static let claimSchema = ClaimSchema(
        typeName: "CCAClaims",
        summary: "Arm CCA attestation token: platform (CPAK-signed) and realm (RAK-signed) claims",
        fields: [
            .init("platform_profile", .string, doc: "platform token profile (http://arm.com/CCA-SSD/1.0.0 or tag:arm.com,2023:cca_platform#1.0.0)"),
            .init("realm_profile", .string, optional: true, doc: "realm token profile (tag:arm.com,2023:realm#1.0.0); absent in RMM 1.0 tokens"),
            .init("implementation_id", .hex, doc: "platform implementation id (32 bytes), the CPAK lookup key with instance_id"),
            .init("instance_id", .hex, doc: "platform instance id (33-byte UEID: 0x01 then the hash of the CPAK)"),
            .init("lifecycle", .int, doc: "PSA security lifecycle state (0x3000-0x30ff secured; any other counts as debug)"),
            .init("lifecycle_secured", .bool, doc: "whether lifecycle is in the secured range 0x3000-0x30ff"),
            .init("config", .hex, optional: true, doc: "platform configuration"),
            .init("verification_service", .string, optional: true, doc: "verification service indicator"),
            .init("platform_hash_algorithm", .string, optional: true, doc: "platform hash algorithm (sha-256, …)"),
            .init("sw_components", .list(.record(softwareComponent)), doc: "measured platform software components, in token order"),
            .init("realm_hash_algorithm", .string, doc: "realm measurement hash algorithm (sha-256, sha-512)"),
            .init("rak_hash_algorithm", .string, doc: "hash of the RAK that the platform challenge carries"),
            .init("rak", .hex, doc: "realm attestation key exactly as claim 44237 encodes it (97-byte point or COSE_Key)"),
            .init("rim", .hex, doc: "realm initial measurement (also `measurement`)"),
            .init("rems", .list(.hex), doc: "the four realm extensible measurements"),
            .init("personalization_value", .hex, doc: "realm personalization value, 64 bytes (also `host_data`)"),
            .init("realm_challenge", .hex, doc: "realm challenge, 64 bytes (also `report_data`)"),
            .init("platform_challenge", .hex, doc: "platform challenge: rak_hash_algorithm(rak), checked"),
        ])

    /// One `sw_components` entry.
    static let softwareComponent = RecordType(
        name: "CCASoftwareComponent",
        fields: [
            .init("type", .string, optional: true, doc: "component type, e.g. RMM, BL"),
            .init("measurement", .hex, doc: "measurement value"),
            .init("version", .string, optional: true, doc: "version string"),
            .init("signer_id", .hex, doc: "hash of the signing authority's public key"),
            .init("hash_algorithm", .string, optional: true, doc: "hash algorithm of measurement"),
        ])
}
