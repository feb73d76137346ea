package import KBSClaims

/// Verifies Arm CCA attestation tokens: the realm token signed by the RAK, the RAK bound into the platform token's
/// challenge, and the platform token signed by a trusted CPAK.
///
/// Evidence is the CBOR token as the RMM returns it: tag 399 around `{44234: bstr .cbor platform COSE_Sign1,
/// 44241: bstr .cbor realm COSE_Sign1}` (at most 64 KiB). Trust anchors are CPAK stores (see ``CCATrustAnchors``);
/// endorsements are not read: reference values (sw-component measurements, RIM, REMs) are for policies to compare.
/// No certificate is involved, so the verification time plays no part.
package struct CCAVerifier: EvidenceVerifier {
    /// Creates the verifier.
    package init() {}

    package var kind: EvidenceKind { .cca }

    package var schema: ClaimSchema { CCAVerifier.claimSchema }

    package func verify(_ evidence: [UInt8], context: VerificationContext) async throws(EvidenceError) -> VerifiedEvidence {
        let token = try CCAToken(evidence)
        let realmSign1 = try COSESign1(token.realm, what: "realm token")
        let platformSign1 = try COSESign1(token.platform, what: "platform token")
        let realm = try CCARealmClaims(realmSign1.payload)
        let platform = try CCAPlatformClaims(platformSign1.payload)

        // (1) The realm token is signed by the RAK it carries: this alone proves only self-consistency.
        guard realmSign1.algorithm == .es384 else {
            throw EvidenceError(.unsupported, "realm token is signed with \(realmSign1.algorithm.name); the RMM signs with ES384")
        }
        guard realmSign1.isSigned(by: realm.rak) else {
            throw EvidenceError(.signature, "realm token signature (\(realmSign1.algorithm.name)) does not verify with its RAK")
        }
        // (2) The platform vouches for that RAK by putting its hash in the platform challenge.
        let rakHash = realm.rakHashAlgorithm.digest(realm.rakClaim)
        guard rakHash == platform.challenge else {
            throw EvidenceError(
                .binding,
                "platform challenge \(Hex.encode(platform.challenge)) is not "
                    + "\(realm.rakHashAlgorithm.rawValue)(RAK) \(Hex.encode(rakHash))")
        }
        // (3) The platform token is signed by a CPAK the deployment trusts for this implementation and instance.
        let anchors = try CCATrustAnchors(context.trustAnchors)
        let candidates = anchors.candidates(implementationID: platform.implementationID, instanceID: platform.instanceID)
        guard !candidates.isEmpty else {
            throw EvidenceError(
                .chain,
                "no trust anchor for implementation-id \(Hex.encode(platform.implementationID)) instance-id "
                    + "\(Hex.encode(platform.instanceID)) (\(anchors.anchors.count) CCA anchors given)")
        }
        guard candidates.contains(where: { platformSign1.isSigned(by: $0.key) }) else {
            let keys = candidates.map { "\($0.source) (\($0.key.curveName))" }.joined(separator: ", ")
            throw EvidenceError(
                .signature, "platform token signature (\(platformSign1.algorithm.name)) verifies with no matching trust anchor: \(keys)")
        }
        // (4) The realm challenge carries the caller's report data.
        try context.checkReportData(realm.challenge, kind: .cca)

        return VerifiedEvidence(
            kind: .cca, measurement: realm.initialMeasurement, debug: platform.isDebug, tcbSVN: 0,
            reportData: realm.challenge, hostData: realm.personalizationValue,
            details: Self.details(platform: platform, realm: realm))
    }

    static func details(platform: CCAPlatformClaims, realm: CCARealmClaims) -> ClaimRecord {
        var record = ClaimRecord()
        record["platform_profile"] = .string(platform.profile)
        if let profile = realm.profile { record["realm_profile"] = .string(profile) }
        record["implementation_id"] = .hex(platform.implementationID)
        record["instance_id"] = .hex(platform.instanceID)
        record["lifecycle"] = .int(platform.lifecycle)
        record["lifecycle_secured"] = .bool(platform.isSecured)
        if let config = platform.config { record["config"] = .hex(config) }
        if let service = platform.verificationService { record["verification_service"] = .string(service) }
        if let hash = platform.hashAlgorithm { record["platform_hash_algorithm"] = .string(hash) }
        record["sw_components"] = .list(
            platform.softwareComponents.map { component in
                var entry = ClaimRecord()
                if let type = component.type { entry["type"] = .string(type) }
                entry["measurement"] = .hex(component.measurement)
                if let version = component.version { entry["version"] = .string(version) }
                entry["signer_id"] = .hex(component.signerID)
                if let hash = component.hashAlgorithm { entry["hash_algorithm"] = .string(hash) }
                return .record(entry)
            })
        record["realm_hash_algorithm"] = .string(realm.hashAlgorithm)
        record["rak_hash_algorithm"] = .string(realm.rakHashAlgorithm.rawValue)
        record["rak"] = .hex(realm.rakClaim)
        record["rim"] = .hex(realm.initialMeasurement)
        record["rems"] = .list(realm.extensibleMeasurements.map { .hex($0) })
        record["personalization_value"] = .hex(realm.personalizationValue)
        record["realm_challenge"] = .hex(realm.challenge)
        record["platform_challenge"] = .hex(platform.challenge)
        return record
    }
}

/// The two signed tokens of a CCA attestation token collection.
struct CCAToken {
    /// The CBOR tag of the CCA token collection.
    static let tag: UInt64 = 399

    /// The platform token's COSE_Sign1 bytes (collection key 44234).
    let platform: [UInt8]
    /// The realm token's COSE_Sign1 bytes (collection key 44241).
    let realm: [UInt8]

    init(_ bytes: [UInt8]) throws(EvidenceError) {
        guard !bytes.isEmpty else { throw EvidenceError(.malformed, "CCA token is empty") }
        let item = try CBORDecoder.decode(bytes, what: "CCA token")
        guard case .tagged(Self.tag, let collection) = item else {
            throw EvidenceError(.malformed, "CCA token is \(item.typeName), not a tag-399 token collection")
        }
        guard case .map(let entries) = collection else {
            throw EvidenceError(.malformed, "CCA token collection is \(collection.typeName), not a map")
        }
        guard entries.count == 2, case .bytes(let platform)? = collection[44234], case .bytes(let realm)? = collection[44241] else {
            throw EvidenceError(.malformed, "CCA token collection is not {44234: platform bstr, 44241: realm bstr}")
        }
        self.platform = platform
        self.realm = realm
    }
}
