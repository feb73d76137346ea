import CryptoExtras
import KBSClaims

/// The runtime claims in an HCL report's `var_data`: the vTPM attestation key (`HCLAkPub`, an RSA JWK), the VM's
/// configuration and the guest's `user-data`. The hardware report vouches for all of it once
/// `SHA-256(var_data) == report_data[0:32]` holds.
struct AzureRuntimeClaims {
    /// The key that signs the vTPM's quotes.
    var attestationKey: _RSA.Signing.PublicKey
    /// ``attestationKey`` as DER SubjectPublicKeyInfo.
    var akPublic: [UInt8]
    /// `vm-configuration`, its known members renamed to snake_case.
    var vmConfiguration: ClaimRecord
    /// `user-data` (hex in the JSON): 64 bytes the guest asked the paravisor to place there.
    var userData: [UInt8]?

    /// `vm-configuration` members and the claim each becomes.
    static let configurationFields: [(json: String, claim: String, type: ClaimType, doc: String)] = [
        ("secure-boot", "secure_boot", .bool, "UEFI secure boot is on"),
        ("tpm-enabled", "tpm_enabled", .bool, "the vTPM is enabled"),
        ("tpm-persisted", "tpm_persisted", .bool, "the vTPM state persists across boots"),
        ("console-enabled", "console_enabled", .bool, "the serial console is enabled"),
        ("vmUniqueId", "vm_unique_id", .string, "Azure's unique id of the VM"),
        ("root-cert-thumbprint", "root_cert_thumbprint", .string, "thumbprint of the paravisor's root certificate"),
    ]

    /// The record type of `vm_configuration`.
    static var configurationType: RecordType {
        RecordType(fields: configurationFields.map { .init($0.claim, $0.type, optional: true, doc: $0.doc) })
    }

    init(_ varData: [UInt8]) throws(EvidenceError) {
        let root = try TPMEvidenceJSON.parse(varData, what: "HCL runtime claims")
        guard case .array(let keys) = try TPMEvidenceJSON.member(root, "keys", in: "HCL runtime claims").value else {
            throw EvidenceError(.malformed, "HCL runtime claims `keys` is not a list")
        }
        guard let jwk = keys.first(where: { $0["kid"]?.stringValue == "HCLAkPub" }) else {
            throw EvidenceError(.malformed, "HCL runtime claims hold no `HCLAkPub` key")
        }
        guard jwk["kty"]?.stringValue == "RSA" else {
            throw EvidenceError(.unsupported, "HCLAkPub is not an RSA key")
        }
        let modulus = try TPMEvidenceJSON.bytes(TPMEvidenceJSON.member(jwk, "n", in: "HCLAkPub"), .base64, what: "HCLAkPub.n", limit: 1024)
        let exponent = try TPMEvidenceJSON.bytes(TPMEvidenceJSON.member(jwk, "e", in: "HCLAkPub"), .base64, what: "HCLAkPub.e", limit: 16)
        do { attestationKey = try _RSA.Signing.PublicKey(n: modulus, e: exponent) } catch {
            throw EvidenceError(.malformed, "HCLAkPub is not an RSA public key of 2048 bits or more")
        }
        akPublic = Array(attestationKey.derRepresentation)

        var configuration = ClaimRecord()
        if let node = root["vm-configuration"] {
            for field in Self.configurationFields {
                // Members of an unexpected type are left out rather than guessed at: a new paravisor may add or
                // change members, and what is emitted must have the declared type.
                switch (field.type, node[field.json]?.value) {
                case (.bool, .bool(let value)?): configuration[field.claim] = .bool(value)
                case (.string, .string(let value)?): configuration[field.claim] = .string(value)
                default: break
                }
            }
        }
        vmConfiguration = configuration

        if let node = root["user-data"] {
            userData = try TPMEvidenceJSON.bytes(node, .hex, what: "HCL runtime claims `user-data`", limit: 1024)
        }
    }
}
