import Foundation
import KBSClaims
import KBSEvidence
import Testing

/// Tampering, truncation and garbage for the NVIDIA verifier, and its claims against its schema.
struct NVIDIARobustnessTests {
    typealias F = NVIDIAFixtures

    /// Single-byte flips at sampled positions of the signed region (request ‖ response before the signature) and of
    /// the signature are all refused.
    @Test(arguments: F.validPairs.map { $0.0 })
    func byteFlipsAreRefused(report name: String) async throws {
        guard let pair = F.validPairs.first(where: { $0.0 == name }) else { return }
        let report = try F.reportBytes(pair.0)
        _ = try await F.verify(report, chain: pair.1).valid()
        let signatureEnd = report.count - pair.2
        let signatureStart = signatureEnd - 96
        var positions = Array(stride(from: 0, to: signatureStart, by: max(1, signatureStart / 48)))
        positions += [4, 35, 36, 37, 41, signatureStart - 1]
        positions += Array(stride(from: signatureStart, to: signatureEnd, by: 7)) + [signatureEnd - 1]
        for position in positions {
            var flipped = report
            flipped[position] ^= 0x01
            let result = try await F.verify(flipped, chain: pair.1)
            #expect(result.reason != nil, "flip at \(position) of \(name) verified")
        }
    }

    @Test func truncationsAreMalformed() async throws {
        let report = try F.reportBytes("trustee-hopperAttestationReport.txt")
        let chain = "trustee-hopper_cert_chain_case1.txt"
        for length in [0, 1, 2, 36, 37, 40, 45, 100, 3000, report.count - 97, report.count - 96, report.count - 1] {
            let result = try await F.verify(Array(report.prefix(length)), chain: chain)
            #expect(result.reason == .malformed, "truncated to \(length): \(result.reason.map(\.rawValue) ?? "verified")")
        }
    }

    @Test func garbageAndWrongKindAreRefused() async throws {
        let chain = "trustee-hopper_cert_chain_case1.txt"
        // Deterministic noise (an LCG), so a failure reproduces.
        var state: UInt64 = 0x9E37_79B9_7F4A_7C15
        let random = (0..<4096).map { _ -> UInt8 in
            state = state &* 6_364_136_223_846_793_005 &+ 1_442_695_040_888_963_407
            return UInt8(truncatingIfNeeded: state >> 56)
        }
        let inputs: [[UInt8]] = [
            [], Array("   ".utf8), Array("{}".utf8), Array("[]".utf8), Array("{\"device_evidence_list\":[{}]}".utf8),
            Array("[{\"evidence\":\"zz\",\"certificate\":\"!!\"}]".utf8), Array("not hex at all".utf8), [0x11, 0xE0],
            [0x12, 0xE0] + [UInt8](repeating: 0, count: 200), random,
            try EvidenceFixtures.bytes(F.path("trustee-hopper_cert_chain_case1.txt")),
            try EvidenceFixtures.bytes(F.path("nvtrust-VBIOS_RIM_1010_0200_882_96005E0001_PROD.swidtag")),
        ]
        for input in inputs {
            let result = try await F.verify(input, chain: chain)
            #expect(
                result.reason == .malformed || result.reason == .unsupported, "\(input.prefix(16)): \(result.reason.map(\.rawValue) ?? "verified")")
        }
    }

    /// Edited length fields inside the response (block count, record length, opaque length) never trap.
    @Test func editedLengthsNeverTrap() async throws {
        let report = try F.reportBytes("trustee-hopperAttestationReport.txt")
        let chain = "trustee-hopper_cert_chain_case1.txt"
        for (offset, value) in [(41, UInt8(0)), (41, 0xFF), (42, 0xFF), (43, 0xFF), (44, 0xFF), (45, 0x00), (47, 0xFF), (48, 0x01)] {
            var edited = report
            edited[offset] = value
            #expect(try await F.verify(edited, chain: chain).reason != nil)
        }
    }

    /// Every field of every sample's details is declared in the schema with the same type.
    @Test func detailsMatchSchema() async throws {
        var samples: [VerifiedEvidence] = []
        for pair in F.validPairs { samples.append(try await F.verify(report: pair.0, chain: pair.1).valid()) }
        samples.append(try await F.verify(try EvidenceFixtures.bytes("nvidia-gpu/nvtrust-ppcie-switch_evidence.json")).valid())
        samples.append(
            try await F.verify(
                report: "attestation-sdk-hopperAttestationReport.txt", chain: "attestation-sdk-hopperCertChain.txt",
                rims: ["nvtrust-VBIOS_RIM_1010_0200_882_96005E0001_PROD.swidtag"]
            ).valid())
        let schema = F.verifier.schema
        #expect(F.verifier.kind == .nvidia)
        for evidence in samples {
            Self.check(.record(evidence.details), against: .record(schema.record), path: "nvidia")
        }
        #expect(EvidenceSchemas.all.contains { $0.typeName == "NVIDIAClaims" })
    }

    static func check(_ value: ClaimValue, against type: ClaimType, path: String) {
        switch (value, type) {
        case (.bool, .bool), (.int, .int), (.string, .string), (.hex, .hex), (.time, .time): return
        case (.list(let values), .list(let element)):
            for (index, value) in values.enumerated() { check(value, against: element, path: "\(path)[\(index)]") }
        case (.record(let record), .record(let recordType)):
            for field in record.fields {
                guard let declared = recordType.fields.first(where: { $0.name == field.name }) else {
                    Issue.record("\(path).\(field.name) is not in the schema")
                    continue
                }
                check(field.value, against: declared.type, path: "\(path).\(field.name)")
            }
            for declared in recordType.fields where !declared.isOptional && record[declared.name] == nil {
                Issue.record("\(path).\(declared.name) is required but absent")
            }
        default:
            Issue.record("\(path): \(value.json) is not a \(type)")
        }
    }
}
