import Foundation
import KBSClaims
import KBSEvidence
import Testing

/// The reference-value stores are appraisal inputs for policies, not verifier inputs: these tests show that the
/// claims of the verified tokens carry exactly what the stores pin, so a policy can compare them.
struct CCAAppraisalTests {
    struct ReferenceValues {
        struct Component: Equatable {
            var type: String?
            var measurement: [UInt8]
            var signerID: [UInt8]
            var version: String?
        }

        struct Platform {
            var implementationID: [UInt8]
            var configuration: [UInt8]
            var components: [Component]
        }

        struct Realm {
            var initialMeasurement: [UInt8]
            var extensibleMeasurements: [[UInt8]]
            var personalizationValue: [UInt8]
            var rakHashAlgorithm: String
        }

        var platforms: [Platform]
        var realms: [Realm]

        init(_ relative: String) throws {
            let root = try #require(try JSONSerialization.jsonObject(with: Data(EvidenceFixtures.bytes(relative))) as? [String: Any])
            func hex(_ value: Any?) throws -> [UInt8] { try #require((value as? String).flatMap { Hex.decode($0) }) }
            platforms = try (root["platform"] as? [[String: Any]] ?? []).map { entry in
                Platform(
                    implementationID: try hex(entry["implementation-id"]),
                    configuration: try hex(entry["platform-configuration"]),
                    components: try (entry["sw-components"] as? [[String: Any]] ?? []).map { component in
                        Component(
                            type: component["component-type"] as? String, measurement: try hex(component["measurement-value"]),
                            signerID: try hex(component["signer-id"]), version: component["version"] as? String)
                    })
            }
            realms = try (root["realm"] as? [[String: Any]] ?? []).map { entry in
                Realm(
                    initialMeasurement: try hex(entry["initial-measurement"]),
                    extensibleMeasurements: try (entry["extensible-measurements"] as? [Any] ?? []).map { try hex($0) },
                    personalizationValue: try hex(entry["personalization-value"]),
                    rakHashAlgorithm: entry["rak-hash-algorithm"] as? String ?? "")
            }
        }
    }

    static func components(_ verified: VerifiedEvidence) -> [ReferenceValues.Component] {
        CCAFixtures.components(verified).map { record in
            ReferenceValues.Component(
                type: CCAFixtures.string(record, "type"), measurement: CCAFixtures.bytes(record, "measurement") ?? [],
                signerID: CCAFixtures.bytes(record, "signer_id") ?? [], version: CCAFixtures.string(record, "version"))
        }
    }

    static func appraise(_ verified: VerifiedEvidence, against store: ReferenceValues) throws {
        let details = verified.details
        let platform = try #require(store.platforms.first { $0.implementationID == CCAFixtures.bytes(details, "implementation_id") })
        #expect(platform.configuration == CCAFixtures.bytes(details, "config"))
        #expect(platform.components == components(verified))
        let realm = try #require(store.realms.first { $0.initialMeasurement == verified.measurement })
        #expect(realm.extensibleMeasurements == CCAFixtures.hexList(details, "rems"))
        #expect(realm.personalizationValue == verified.hostData)
        #expect(realm.rakHashAlgorithm == CCAFixtures.string(details, "rak_hash_algorithm"))
    }

    @Test func trusteeTokenMatchesTrusteeReferenceValues() async throws {
        let verified = try await CCAFixtures.verify("trustee-cca-example-token.cbor", anchors: ["trustee-tastore.json"])
        try Self.appraise(verified, against: try ReferenceValues("cca/trustee-rvstore.json"))
    }

    @Test func token01MatchesRustCCATokenReferenceValues() async throws {
        let verified = try await CCAFixtures.verify("rust-ccatoken-cca-token-01.cbor", anchors: ["rust-ccatoken-ta-tfa.json"])
        let store = try ReferenceValues("cca/rust-ccatoken-rv.json")
        #expect(store.platforms.count == 2)
        try Self.appraise(verified, against: store)
    }

    /// The draft-ffm token shares the trustee token's platform (same sw-components) but not its realm.
    @Test func otherTokensDoNotMatch() async throws {
        let verified = try await CCAFixtures.verify("rust-ccatoken-cca-token-draft-ffm-00.cbor", anchors: ["rust-ccatoken-ta-tfa.json"])
        let store = try ReferenceValues("cca/trustee-rvstore.json")
        #expect(store.platforms[0].components == Self.components(verified))
        #expect(!store.realms.contains { $0.initialMeasurement == verified.measurement })
        let token02 = try await CCAFixtures.verify("rust-ccatoken-cca-token-02.cbor", anchors: ["rust-ccatoken-ta-02-ok.json"])
        #expect(!(try ReferenceValues("cca/rust-ccatoken-rv.json")).platforms.contains { $0.components == Self.components(token02) })
    }
}
