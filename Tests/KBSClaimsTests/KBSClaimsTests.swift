import Testing

@testable import KBSClaims

struct SHA256DigestTests {
    @Test(
        "FIPS 180-4 vectors",
        arguments: [
            ("", "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"),
            ("abc", "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"),
            ("abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq", "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1"),
        ])
    func vectors(input: String, digest: String) {
        #expect(SHA256Digest.hex(Array(input.utf8)) == digest)
    }

    @Test func millionA() {
        #expect(
            SHA256Digest.hex([UInt8](repeating: UInt8(ascii: "a"), count: 1_000_000))
                == "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0")
    }
}

struct PrivacyTierTests {
    @Test func orderAndNames() {
        #expect(PrivacyTier.open < PrivacyTier.gpuTEEIO)
        #expect(PrivacyTier(text: "hsm") == .hsm)
        #expect(PrivacyTier(text: "3") == .gpuConfidentialComputing)
        #expect(PrivacyTier(text: "5") == nil)
        #expect(PrivacyTier(text: "gpu") == nil)
    }

    @Test func standardRegistryHasAttestation() throws {
        let schema = try #require(ClaimSchemaRegistry.standard["Attestation"])
        #expect(schema.record.field(named: "debug")?.type == .bool)
        #expect(schema.record.field(named: "tcb_status")?.isOptional == true)
    }
}
