import Foundation
import KBSClaims
import Testing

@testable import KBSEvidence

/// Helpers shared by the CCA suites.
enum CCAFixtures {
    /// CCA tokens need no time (no certificates); any instant gives the same verdict.
    static let time = "2026-11-27T00:00:00Z"

    static func verify(
        _ token: String, anchors: [String], reportData: [UInt8]? = nil, at time: String = time
    ) async throws -> VerifiedEvidence {
        let context = try EvidenceFixtures.context(at: time, anchors: anchors.map { "cca/" + $0 }, reportData: reportData)
        return try await CCAVerifier().verify(try EvidenceFixtures.bytes("cca/" + token), context: context)
    }

    static func refusal(_ token: String, anchors: [String], reportData: [UInt8]? = nil) async throws -> EvidenceError? {
        let context = try EvidenceFixtures.context(at: time, anchors: anchors.map { "cca/" + $0 }, reportData: reportData)
        let bytes = try EvidenceFixtures.bytes("cca/" + token)
        return await evidenceError { () async throws(EvidenceError) -> VerifiedEvidence in
            try await CCAVerifier().verify(bytes, context: context)
        }
    }

    static func refusal(_ bytes: [UInt8], context: VerificationContext) async -> EvidenceError? {
        await evidenceError { () async throws(EvidenceError) -> VerifiedEvidence in
            try await CCAVerifier().verify(bytes, context: context)
        }
    }

    static func hex(_ text: String) -> [UInt8] { Hex.decode(text) ?? [] }

    static func details(_ verified: VerifiedEvidence) -> ClaimRecord { verified.details }

    static func components(_ verified: VerifiedEvidence) -> [ClaimRecord] {
        guard case .list(let entries)? = verified.details["sw_components"] else { return [] }
        return entries.compactMap { if case .record(let record) = $0 { record } else { nil } }
    }

    static func string(_ record: ClaimRecord, _ name: String) -> String? {
        if case .string(let text)? = record[name] { text } else { nil }
    }

    static func bytes(_ record: ClaimRecord, _ name: String) -> [UInt8]? {
        if case .hex(let bytes)? = record[name] { bytes } else { nil }
    }

    static func hexList(_ record: ClaimRecord, _ name: String) -> [[UInt8]] {
        guard case .list(let entries)? = record[name] else { return [] }
        return entries.compactMap { if case .hex(let bytes) = $0 { bytes } else { nil } }
    }
}

/// Every CCA fixture with the verdict and key claims SOURCES.md gives for it.
struct CCAVerifierTests {
    @Test func trusteeExampleTokenIsValidWithTrusteeStore() async throws {
        let verified = try await CCAFixtures.verify("trustee-cca-example-token.cbor", anchors: ["trustee-tastore.json"])
        let details = verified.details
        #expect(verified.kind == .cca)
        #expect(CCAFixtures.string(details, "platform_profile") == "http://arm.com/CCA-SSD/1.0.0")
        #expect(details["realm_profile"] == nil)
        #expect(
            CCAFixtures.bytes(details, "implementation_id") == CCAFixtures.hex("7f454c4602010100000000000000000003003e00010000005058000000000000"))
        #expect(CCAFixtures.bytes(details, "instance_id") == CCAFixtures.hex("0107060504030201000f0e0d0c0b0a090817161514131211101f1e1d1c1b1a1918"))
        #expect(details["lifecycle"] == .int(0x3003))
        #expect(details["lifecycle_secured"] == .bool(true))
        #expect(verified.debug == false)
        #expect(verified.tcbSVN == 0)
        #expect(CCAFixtures.bytes(details, "config") == [0xcf, 0xcf, 0xcf, 0xcf])
        #expect(CCAFixtures.string(details, "verification_service") == "https://veraison.example/.well-known/veraison/verification")
        #expect(CCAFixtures.string(details, "platform_hash_algorithm") == "sha-256")
        let names = CCAFixtures.components(verified).map { CCAFixtures.string($0, "type") }
        #expect(
            names == [
                "RSE_BL1_2", "RSE_BL2", "RSE_S", "AP_BL1", "AP_BL2", "SCP_BL1", "SCP_BL2", "AP_BL31", "RMM", "HW_CONFIG",
                "FW_CONFIG", "TB_FW_CONFIG", "SOC_FW_CONFIG",
            ])
        #expect(CCAFixtures.string(details, "realm_hash_algorithm") == "sha-512")
        #expect(CCAFixtures.string(details, "rak_hash_algorithm") == "sha-256")
        let rim = Hex.encode(verified.measurement)
        #expect(rim.hasPrefix("ae87fbf7") && rim.hasSuffix("9dbdac7c") && verified.measurement.count == 64)
        #expect(CCAFixtures.bytes(details, "rim") == verified.measurement)
        #expect(CCAFixtures.hexList(details, "rems") == Array(repeating: [UInt8](repeating: 0, count: 64), count: 4))
        let challenge = Hex.encode(verified.reportData ?? [])
        #expect(challenge.hasPrefix("57e979ae") && challenge.hasSuffix("c8b85a96") && verified.reportData?.count == 64)
        #expect(CCAFixtures.bytes(details, "realm_challenge") == verified.reportData)
        #expect(verified.hostData == [UInt8](repeating: 0, count: 64))
        #expect(CCAFixtures.bytes(details, "personalization_value") == verified.hostData)
        #expect(CCAFixtures.bytes(details, "rak")?.count == 97)
        #expect(Hex.encode(CCAFixtures.bytes(details, "platform_challenge") ?? []).hasPrefix("b5973cb6"))
        // The normalised claims a policy reads.
        #expect(verified.claims.value(at: "cca.lifecycle") == .int(0x3003))
    }

    /// No certificates are involved: the verdict is the same at any instant.
    @Test func verdictDoesNotDependOnTime() async throws {
        for time in ["1970-01-01T00:00:00Z", "2000-01-01T00:00:00Z", "2099-12-31T23:59:59Z"] {
            let verified = try await CCAFixtures.verify("trustee-cca-example-token.cbor", anchors: ["trustee-tastore.json"], at: time)
            #expect(verified.measurement.count == 64)
        }
    }

    @Test func tfRMMToken01IsValidWithTFAStoreOrPEMKey() async throws {
        for anchors in [["rust-ccatoken-ta-tfa.json"], ["ccatoken-tf-rmm-cca_platform.pub"], ["rust-ccatoken-cpak.json"]] {
            let verified = try await CCAFixtures.verify("rust-ccatoken-cca-token-01.cbor", anchors: anchors)
            let components = CCAFixtures.components(verified)
            #expect(components.map { CCAFixtures.string($0, "type") } == ["BL", "M1", "M2", "M3"])
            #expect(components.map { CCAFixtures.string($0, "version") } == ["3.4.2", "1.2", "1.2.3", "1"])
            #expect(components.map { CCAFixtures.string($0, "hash_algorithm") } == ["sha-256", nil, nil, nil])
            #expect(verified.reportData == [UInt8](repeating: 0xAB, count: 64))
            #expect(verified.measurement == [UInt8](repeating: 0, count: 32))
            #expect(CCAFixtures.string(verified.details, "realm_hash_algorithm") == "sha-256")
            #expect(CCAFixtures.string(verified.details, "verification_service") == "whatever.com")
            #expect(String(decoding: verified.hostData ?? [], as: UTF8.self).hasPrefix("The quick brown fox"))
        }
    }

    /// `rust-ccatoken-ta.json` holds a P-256 key for other ids (0xAA…): no anchor applies to token-01.
    @Test func token01WithOtherStoreIsRefused() async throws {
        let error = try await CCAFixtures.refusal("rust-ccatoken-cca-token-01.cbor", anchors: ["rust-ccatoken-ta.json"])
        #expect(error?.reason == .chain)
    }

    /// A store entry naming token-01's ids but holding another key: the platform signature does not verify.
    @Test func matchingIdsWithWrongKeyIsASignatureError() async throws {
        let store = """
            [{"pkey": {"kty": "EC", "crv": "P-384",
              "x": "dvmICRvlhe1BgBrs-rhYVIxjBX4WsOZ2Egu9DS-cKeBWxdQaATDrnCFReJncIxRr",
              "y": "KOGwYr0-pLMV_SGfHLtSjLbnTKSb4Wdzc09hocphAxsrvz2Rjy-U_8QijlCRlUSu"},
              "implementation-id": "7f454c4602010100000000000000000003003e00010000005058000000000000",
              "instance-id": "0107060504030201000f0e0d0c0b0a090817161514131211101f1e1d1c1b1a1918"}]
            """
        // That key is the realm's RAK: a valid P-384 point, but not the CPAK.
        let context = VerificationContext(
            time: EvidenceFixtures.time(CCAFixtures.time), trustAnchors: [EvidenceFile(name: "wrong.json", bytes: Array(store.utf8))])
        let error = await CCAFixtures.refusal(try EvidenceFixtures.bytes("cca/rust-ccatoken-cca-token-01.cbor"), context: context)
        #expect(error?.reason == .signature)
    }

    @Test func es256Token02IsValidWithItsStore() async throws {
        let verified = try await CCAFixtures.verify("rust-ccatoken-cca-token-02.cbor", anchors: ["rust-ccatoken-ta-02-ok.json"])
        #expect(CCAFixtures.bytes(verified.details, "implementation_id") == [UInt8](repeating: 0, count: 32))
        #expect(CCAFixtures.bytes(verified.details, "instance_id") == [0x01] + [UInt8](repeating: 0x02, count: 32))
        #expect(CCAFixtures.string(verified.details, "rak_hash_algorithm") == "sha-512")
        #expect(verified.reportData == Array(String(repeating: "AB", count: 32).utf8))
        #expect(verified.details["lifecycle"] == .int(0x3000))
        #expect(verified.details["lifecycle_secured"] == .bool(true))
        #expect(CCAFixtures.components(verified).count == 1)
        #expect(CCAFixtures.components(verified).first?["type"] == nil)
    }

    /// The `-bad` store's P-256 point is not on the curve: the trust anchor itself is unusable.
    @Test func token02WithOffCurveAnchorIsAConfigurationError() async throws {
        let error = try await CCAFixtures.refusal("rust-ccatoken-cca-token-02.cbor", anchors: ["rust-ccatoken-ta-02-bad.json"])
        #expect(error?.reason == .configuration)
        #expect(error?.message.contains("not on the curve") == true)
    }

    @Test func draftFFMTokenWithCOSEKeyRAKIsValid() async throws {
        let verified = try await CCAFixtures.verify("rust-ccatoken-cca-token-draft-ffm-00.cbor", anchors: ["rust-ccatoken-ta-tfa.json"])
        #expect(CCAFixtures.string(verified.details, "platform_profile") == "tag:arm.com,2023:cca_platform#1.0.0")
        #expect(CCAFixtures.string(verified.details, "realm_profile") == "tag:arm.com,2023:realm#1.0.0")
        let rim = Hex.encode(verified.measurement)
        #expect(rim.hasPrefix("311314ab") && rim.hasSuffix("4e300d49"))
        let rems = CCAFixtures.hexList(verified.details, "rems")
        #expect(rems.count == 4 && rems.allSatisfy { $0.count == 32 && $0.contains { $0 != 0 } })
        // The RAK claim is a COSE_Key map (0xa4: four entries), hashed as encoded.
        #expect(CCAFixtures.bytes(verified.details, "rak")?.first == 0xa4)
        #expect(CCAFixtures.components(verified).count == 13)
    }

    @Test func bug33ReproFailsTheRAKBinding() async throws {
        let error = try await CCAFixtures.refusal("rust-ccatoken-bug-33-repro.cbor", anchors: ["rust-ccatoken-ta-tfa.json"])
        #expect(error?.reason == .binding)
        // Both signatures are good on their own: the realm one by its RAK, the platform one by the TF-A CPAK.
        let token = try CCAToken(try EvidenceFixtures.bytes("cca/rust-ccatoken-bug-33-repro.cbor"))
        let realmSign1 = try COSESign1(token.realm, what: "realm")
        let platformSign1 = try COSESign1(token.platform, what: "platform")
        let realm = try CCARealmClaims(realmSign1.payload)
        let platform = try CCAPlatformClaims(platformSign1.payload)
        #expect(realmSign1.isSigned(by: realm.rak))
        let anchors = try CCATrustAnchors([try EvidenceFixtures.file("cca/rust-ccatoken-ta-tfa.json")])
        #expect(platformSign1.isSigned(by: anchors.anchors[0].key))
        #expect(platform.softwareComponents.count == 16)
        // SOURCES.md says "16 RSS_* sw-components": 16 components, of which the first four are RSS_* (the rest AP/SCP/RMM/configs).
        #expect(platform.softwareComponents.prefix(4).map(\.type) == ["RSS_BL1_2", "RSS_BL2", "RSS_S", "RSS_NS"])
        #expect(platform.softwareComponents.last?.type == "NT_FW_CONFIG")
    }

    @Test func trusteeStoreIsTheTFAStore() throws {
        #expect(try EvidenceFixtures.bytes("cca/trustee-tastore.json") == EvidenceFixtures.bytes("cca/rust-ccatoken-ta-tfa.json"))
    }

    /// `rust-ccatoken-cpak.json` is a bare JWK (no ids): the TF-A CPAK, the same key as the store and the PEM file.
    @Test func cpakJSONIsAKeyOnlyAnchorForTheTFAKey() throws {
        let cpak = try CCATrustAnchors([try EvidenceFixtures.file("cca/rust-ccatoken-cpak.json")])
        let pem = try CCATrustAnchors([try EvidenceFixtures.file("cca/ccatoken-tf-rmm-cca_platform.pub")])
        let store = try CCATrustAnchors([try EvidenceFixtures.file("cca/rust-ccatoken-ta-tfa.json")])
        #expect(cpak.anchors.count == 1 && pem.anchors.count == 1 && store.anchors.count == 1)
        #expect(cpak.anchors[0].isKeyOnly && pem.anchors[0].isKeyOnly && !store.anchors[0].isKeyOnly)
        #expect(cpak.anchors[0].key.curveName == "P-384")
        #expect(cpak.anchors[0].key.x963 == pem.anchors[0].key.x963)
        #expect(cpak.anchors[0].key.x963 == store.anchors[0].key.x963)
        // Key-only anchors match any ids; store entries only their own.
        #expect(pem.candidates(implementationID: [1], instanceID: [2]).count == 1)
        #expect(store.candidates(implementationID: [1], instanceID: [2]).isEmpty)
    }

    @Test func noTrustAnchorIsAChainError() async throws {
        let error = try await CCAFixtures.refusal("trustee-cca-example-token.cbor", anchors: [])
        #expect(error?.reason == .chain)
    }

    /// Files that are no CCA anchor (another kind's roots) are ignored next to a real store.
    @Test func unrelatedAnchorFilesAreIgnored() async throws {
        let context = try EvidenceFixtures.context(
            at: CCAFixtures.time, anchors: ["snp/trustee-milan_ask_ark_asvk.pem", "cca/trustee-tastore.json"])
        let verified = try await CCAVerifier().verify(try EvidenceFixtures.bytes("cca/trustee-cca-example-token.cbor"), context: context)
        #expect(verified.measurement.count == 64)
    }

    @Test(arguments: [
        #"[{"implementation-id": "00", "instance-id": "01"}]"#,
        #"[{"pkey": {"kty": "EC", "crv": "P-384", "x": "AA", "y": "AA"}, "instance-id": "01"}]"#,
        #"[{"pkey": {"kty": "RSA", "n": "AA", "e": "AQAB"}, "instance-id": "01"}]"#,
        #"[{"pkey": {"kty": "EC", "crv": "P-384", "x": "IShnxS4rlQiwpCCpBWDzlNLfqiG911FP8akBr-fh94uxHU5m-Kijivp2r2oxxN6M", "y": "hM4tr8mWQli1P61xh3T0ViDREbF26DGOEYfbAjWjGNN7pZf-6A4OTHYqEryz6m7U"}}]"#,
        #"[{"pkey": "zz", "instance-id": "01"}]"#,
        #"[{"pkey": {"kty": "EC", "crv": "P-384", "x": "IShnxS4rlQiwpCCpBWDzlNLfqiG911FP8akBr-fh94uxHU5m-Kijivp2r2oxxN6M", "y": "hM4tr8mWQli1P61xh3T0ViDREbF26DGOEYfbAjWjGNN7pZf-6A4OTHYqEryz6m7U"}, "instance-id": "!!"}]"#,
        "[{",
        "-----BEGIN PUBLIC KEY-----\nAAAA\n-----END PUBLIC KEY-----\n",
    ])
    func unusableStoreIsAConfigurationError(_ store: String) async throws {
        let context = VerificationContext(
            time: EvidenceFixtures.time(CCAFixtures.time), trustAnchors: [EvidenceFile(name: "store", bytes: Array(store.utf8))])
        let error = await CCAFixtures.refusal(try EvidenceFixtures.bytes("cca/trustee-cca-example-token.cbor"), context: context)
        #expect(error?.reason == .configuration)
    }

    /// Ids written as base64 instead of hex are read too.
    @Test func base64IdsAreAccepted() async throws {
        func b64(_ hex: String) -> String { Data(CCAFixtures.hex(hex)).base64EncodedString() }
        let store = """
            [{"pkey": {"kty": "EC", "crv": "P-384",
              "x": "IShnxS4rlQiwpCCpBWDzlNLfqiG911FP8akBr-fh94uxHU5m-Kijivp2r2oxxN6M",
              "y": "hM4tr8mWQli1P61xh3T0ViDREbF26DGOEYfbAjWjGNN7pZf-6A4OTHYqEryz6m7U"},
              "implementation-id": "\(b64("7f454c4602010100000000000000000003003e00010000005058000000000000"))",
              "instance-id": "\(b64("0107060504030201000f0e0d0c0b0a090817161514131211101f1e1d1c1b1a1918"))"}]
            """
        let context = VerificationContext(
            time: EvidenceFixtures.time(CCAFixtures.time), trustAnchors: [EvidenceFile(name: "b64.json", bytes: Array(store.utf8))])
        let verified = try await CCAVerifier().verify(try EvidenceFixtures.bytes("cca/trustee-cca-example-token.cbor"), context: context)
        #expect(verified.measurement.count == 64)
    }

    /// The realm challenge is the report data: padded to 64 bytes like SNP's.
    @Test func realmChallengeIsTheReportData() async throws {
        let good = [UInt8](repeating: 0xAB, count: 64)
        _ = try await CCAFixtures.verify("rust-ccatoken-cca-token-01.cbor", anchors: ["rust-ccatoken-ta-tfa.json"], reportData: good)
        for wrong in [[UInt8](repeating: 0xAB, count: 48), [UInt8](repeating: 0xAC, count: 64)] {
            let error = try await CCAFixtures.refusal("rust-ccatoken-cca-token-01.cbor", anchors: ["rust-ccatoken-ta-tfa.json"], reportData: wrong)
            #expect(error?.reason == .binding)
        }
    }

    @Test func registeredForKindCCA() async throws {
        let verifier = try EvidenceVerifiers.verifier(for: .cca)
        #expect(verifier is CCAVerifier)
        let context = try EvidenceFixtures.context(at: CCAFixtures.time, anchors: ["cca/trustee-tastore.json"])
        let verified = try await EvidenceVerifiers.verify(
            try EvidenceFixtures.bytes("cca/trustee-cca-example-token.cbor"), kind: .cca, context: context)
        #expect(verified.json.contains("\"cca\":{\"platform_profile\""))
        #expect(EvidenceSchemas.all.contains { $0.typeName == "CCAClaims" })
    }
}
