import Foundation
import KBSClaims
import Testing

@testable import KBSEvidence

/// Tampering, truncation, garbage and the claim schema for the SNP verifier.
struct SNPRobustnessTests {
    /// The valid samples: evidence, endorsements, a time inside every certificate's validity.
    static let samples: [(evidence: String, endorsements: [String], time: String)] = [
        ("snp/trustee-test-report.bin", ["snp/trustee-test-vcek.der"], "2024-06-01T00:00:00Z"),
        ("snp/trustee-test-vlek-report.bin", ["snp/trustee-test-vlek.der"], "2025-06-01T00:00:00Z"),
        ("snp/derived-trustee-as-e2e-genoa-report.bin", ["snp/derived-trustee-as-e2e-genoa-vcek.der"], "2026-01-01T00:00:00Z"),
        ("snp/go-sev-guest-attestation.bin", ["snp/go-sev-guest-vcek.der"], "2024-06-01T00:00:00Z"),
        ("snp/trustee-as-e2e-evidence.json", [], "2026-01-01T00:00:00Z"),
    ]
    static let bundles = ["snp/trustee-milan_ask_ark_asvk.pem", "snp/trustee-genoa_ask_ark_asvk.pem", "snp/trustee-turin_ask_ark_asvk.pem"]

    func context(_ sample: (evidence: String, endorsements: [String], time: String)) throws -> VerificationContext {
        try EvidenceFixtures.context(at: sample.time, endorsements: sample.endorsements, anchors: Self.bundles)
    }

    func refusal(_ bytes: [UInt8], _ context: VerificationContext) async -> EvidenceError? {
        await evidenceError { () async throws(EvidenceError) -> VerifiedEvidence in try await SNPVerifier().verify(bytes, context: context) }
    }

    @Test(arguments: 0..<4)
    func everySampledByteFlipInTheSignedRegionIsRefused(_ index: Int) async throws {
        let sample = Self.samples[index]
        let report = try EvidenceFixtures.bytes(sample.evidence)
        let context = try context(sample)
        #expect(await refusal(report, context) == nil, "untouched \(sample.evidence) must verify")
        // Every 5th byte of 0x000..0x29F (signed) and every 3rd of 0x2A0..0x32F (r ‖ s, incl. their zero tails).
        let positions = Array(stride(from: 0, to: SNPReport.signedLength, by: 5)) + Array(stride(from: 0x2A0, to: 0x330, by: 3))
        for position in positions {
            for mask: UInt8 in [0x01, 0x80] {
                var tampered = report
                tampered[position] ^= mask
                let error = await refusal(tampered, context)
                #expect(error != nil, "\(sample.evidence): flip 0x\(String(mask, radix: 16)) at 0x\(String(position, radix: 16)) verified")
            }
        }
    }

    @Test func jsonByteFlipsInsideReportValuesAreRefused() async throws {
        let sample = Self.samples[4]
        let json = try EvidenceFixtures.bytes(sample.evidence)
        let context = try context(sample)
        // Change one digit of each value in the report member: any edit to a signed field must be refused.
        let text = String(decoding: json, as: UTF8.self)
        guard let reportStart = text.range(of: "\"attestation_report\"")?.upperBound.utf16Offset(in: text),
            let reportEnd = text.range(of: "\"cert_chain\"")?.lowerBound.utf16Offset(in: text)
        else {
            Issue.record("fixture shape")
            return
        }
        var flipped = 0
        for position in stride(from: reportStart, to: reportEnd, by: 7) where json[position] >= 0x31 && json[position] <= 0x38 {
            var tampered = json
            tampered[position] += 1
            // Leave digits whose change only renames the value into a reserved-zero field out: none exist in JSON form.
            let error = await refusal(tampered, context)
            #expect(error != nil, "JSON digit at \(position) changed and still verified")
            flipped += 1
        }
        #expect(flipped > 50)
    }

    @Test func truncatedEmptyAndOversizedReportsAreMalformed() async throws {
        let sample = Self.samples[0]
        let report = try EvidenceFixtures.bytes(sample.evidence)
        let context = try context(sample)
        for length in [0, 1, 4, 0x2A0, 0x4A0 - 1] {
            #expect(await refusal(Array(report.prefix(length)), context)?.reason == .malformed, "length \(length)")
        }
        #expect(await refusal(report + [0], context)?.reason == .malformed)
        #expect(await refusal(report + report, context)?.reason == .malformed)
    }

    @Test func garbageAndOtherKindsAreRefusedWithoutTrapping() async throws {
        let context = try context(Self.samples[0])
        var generator = SystemRandomNumberGenerator()
        for _ in 0..<50 {
            let garbage = (0..<SNPReport.size).map { _ in UInt8.random(in: 0...255, using: &generator) }
            let reason = await refusal(garbage, context)?.reason
            #expect(reason == .unsupported || reason == .malformed || reason == .signature || reason == .chain || reason == .collateral)
        }
        for other in [
            "tdx/trustee-tdx_quote_4.dat", "cca/trustee-cca-example-token.cbor", "az-vtpm/trustee-az-snp-vtpm-evidence-v1.json",
            "other/trustee-tpm_evidence.json", "snp/trustee-test-vcek.der", "snp/trustee-milan_ask_ark_asvk.pem",
        ] {
            guard let bytes = try? EvidenceFixtures.bytes(other) else { continue }
            #expect(await refusal(bytes, context)?.reason == .malformed, "\(other)")
        }
        for text in ["{", "{}", " {\"attestation_report\":1}", "{\"attestation_report\":{}}", "[]", "null", "\u{FEFF}{}"] {
            let reason = await refusal(Array(text.utf8), context)?.reason
            #expect(reason == .malformed, "\(text)")
        }
    }

    @Test func versionSigningKeyAndAlgorithmAreChecked() async throws {
        let sample = Self.samples[0]
        let report = try EvidenceFixtures.bytes(sample.evidence)
        let context = try context(sample)
        for version: UInt8 in [0, 1, 4, 6, 0xFF] {
            var tampered = report
            tampered[0] = version
            #expect(await refusal(tampered, context)?.reason == .unsupported, "version \(version)")
        }
        var unsigned = report
        unsigned[0x48] = 7 << 2
        #expect(await refusal(unsigned, context)?.reason == .unsupported)
        var algorithm = report
        algorithm[0x34] = 2
        #expect(await refusal(algorithm, context)?.reason == .unsupported)
        var wideR = report
        wideR[0x2A0 + 60] = 1
        #expect(await refusal(wideR, context)?.reason == .signature)
        // A v3 report with an unknown CPUID.
        var cpuid = report
        cpuid[0] = 3
        cpuid[0x188] = 0x17
        #expect(await refusal(cpuid, context)?.reason == .unsupported)
        // Bytes after the signature are not signed; they still belong to the fixed 1184-byte layout.
        var reserved = report
        reserved[0x4A0 - 1] ^= 0xFF
        #expect(await refusal(reserved, context) == nil)
    }

    func reasonOf(_ body: () throws(EvidenceError) -> Void) -> EvidenceErrorReason? {
        do { try body() } catch { return error.reason }
        return nil
    }

    @Test func tcbAndIdentityMismatchesHaveTheirReasons() throws {
        let report = try SNPReport(try EvidenceFixtures.bytes("snp/trustee-test-report.bin"))
        let vcek = try SNPVEKExtensions(try Certificate(der: try EvidenceFixtures.bytes("snp/trustee-test-vcek.der")))
        let verifier = SNPVerifier()
        let reported = report.reportedTCB(.milan)
        #expect(reasonOf { () throws(EvidenceError) in try verifier.checkTCB(reported, extensions: vcek, product: .milan) } == nil)
        let fields: [WritableKeyPath<SNPTCB, UInt8>] = [\.bootloader, \.tee, \.snp, \.microcode]
        for change in fields {
            var other = reported
            other[keyPath: change] &+= 1
            #expect(reasonOf { () throws(EvidenceError) in try verifier.checkTCB(other, extensions: vcek, product: .milan) } == .tcb)
        }
        var noSPL = vcek
        noSPL.snp = nil
        #expect(reasonOf { () throws(EvidenceError) in try verifier.checkTCB(reported, extensions: noSPL, product: .milan) } == .tcb)
        // A Turin VEK must certify the FMC too.
        #expect(reasonOf { () throws(EvidenceError) in try verifier.checkTCB(reported, extensions: vcek, product: .turin) } == .tcb)
        // The legacy and new invalid VCEKs certify other TCBs and other chips.
        for name in ["snp/trustee-test-vcek-invalid-legacy.der", "snp/trustee-test-vcek-invalid-new.der"] {
            let other = try SNPVEKExtensions(try Certificate(der: try EvidenceFixtures.bytes(name)))
            #expect(reasonOf { () throws(EvidenceError) in try verifier.checkTCB(reported, extensions: other, product: .milan) } == .tcb)
            #expect(
                reasonOf { () throws(EvidenceError) in try verifier.checkHardwareID(report.chipID, extensions: other, product: .milan) } == .identity)
        }
        #expect(reasonOf { () throws(EvidenceError) in try verifier.checkHardwareID(report.chipID, extensions: vcek, product: .milan) } == nil)
        var chip = report.chipID
        chip[63] ^= 1
        #expect(reasonOf { () throws(EvidenceError) in try verifier.checkHardwareID(chip, extensions: vcek, product: .milan) } == .identity)
        var noHWID = vcek
        noHWID.hwID = nil
        #expect(
            reasonOf { () throws(EvidenceError) in try verifier.checkHardwareID(report.chipID, extensions: noHWID, product: .milan) } == .identity)
        // Turin VCEKs carry the first 8 bytes of the chip id.
        var turin = vcek
        turin.hwID = Array(report.chipID.prefix(8))
        #expect(reasonOf { () throws(EvidenceError) in try verifier.checkHardwareID(report.chipID, extensions: turin, product: .turin) } == nil)
        #expect(reasonOf { () throws(EvidenceError) in try verifier.checkHardwareID(report.chipID, extensions: turin, product: .milan) } == .identity)
    }

    // MARK: Trustee JSON robustness

    func reportMembers() throws -> [String] {
        [
            "version", "guest_svn", "policy", "family_id", "image_id", "vmpl", "sig_algo", "current_tcb", "plat_info", "key_info",
            "report_data", "measurement", "host_data", "id_key_digest", "author_key_digest", "report_id", "report_id_ma",
            "reported_tcb", "cpuid_fam_id", "cpuid_mod_id", "cpuid_step", "chip_id", "committed_tcb", "current", "committed",
            "launch_tcb", "signature",
        ]
    }

    /// The fixture JSON with `edit` applied to its attestation_report object.
    func editedJSON(_ edit: (inout [String: Any]) -> Void) throws -> [UInt8] {
        let json = try EvidenceFixtures.bytes("snp/trustee-as-e2e-evidence.json")
        var root = try JSONSerialization.jsonObject(with: Data(json)) as! [String: Any]
        var report = root["attestation_report"] as! [String: Any]
        edit(&report)
        root["attestation_report"] = report
        return Array(try JSONSerialization.data(withJSONObject: root))
    }

    @Test func reserialisedJSONStillVerifies() async throws {
        let context = try context(Self.samples[4])
        #expect(await refusal(try editedJSON { _ in }, context) == nil)
    }

    @Test func everyMissingOrMistypedJSONReportMemberIsMalformed() async throws {
        let context = try context(Self.samples[4])
        for member in try reportMembers() {
            let missing = try editedJSON { $0[member] = nil }
            #expect(await refusal(missing, context)?.reason == .malformed, "missing \(member)")
            let mistyped = try editedJSON { $0[member] = "not a value" }
            #expect(await refusal(mistyped, context)?.reason == .malformed, "mistyped \(member)")
        }
        let short = try editedJSON { $0["measurement"] = Array(repeating: 0, count: 47) }
        #expect(await refusal(short, context)?.reason == .malformed)
        let big = try editedJSON { $0["vmpl"] = 1 << 40 }
        #expect(await refusal(big, context)?.reason == .malformed)
        let negative = try editedJSON { $0["guest_svn"] = -1 }
        #expect(await refusal(negative, context)?.reason == .malformed)
        let byte = try editedJSON { $0["chip_id"] = Array(repeating: 256, count: 64) }
        #expect(await refusal(byte, context)?.reason == .malformed)
        let fmc = try editedJSON {
            var tcb = $0["reported_tcb"] as! [String: Any]
            tcb["fmc"] = 1
            $0["reported_tcb"] = tcb
        }
        #expect(await refusal(fmc, context)?.reason == .malformed)
        // A changed value that still parses is a signature failure, not a parse one.
        let vmpl = try editedJSON { $0["vmpl"] = 1 }
        #expect(await refusal(vmpl, context)?.reason == .signature)
    }

    @Test func jsonWithoutCertificatesNeedsAnEndorsedVCEK() async throws {
        let json = try EvidenceFixtures.bytes("snp/trustee-as-e2e-evidence.json")
        var root = try JSONSerialization.jsonObject(with: Data(json)) as! [String: Any]
        root["cert_chain"] = NSNull()
        let bare = Array(try JSONSerialization.data(withJSONObject: root))
        let without = try EvidenceFixtures.context(at: "2026-01-01T00:00:00Z", anchors: Self.bundles)
        #expect(await refusal(bare, without)?.reason == .collateral)
        let with = try EvidenceFixtures.context(
            at: "2026-01-01T00:00:00Z", endorsements: ["snp/derived-trustee-as-e2e-genoa-vcek.der"], anchors: Self.bundles)
        #expect(await refusal(bare, with) == nil)
        root["cert_chain"] = "nope"
        #expect(await refusal(Array(try JSONSerialization.data(withJSONObject: root)), with)?.reason == .malformed)
    }

    @Test func truncatedJSONIsMalformed() async throws {
        let json = try EvidenceFixtures.bytes("snp/trustee-as-e2e-evidence.json")
        let context = try context(Self.samples[4])
        for length in stride(from: 1, to: json.count - 1, by: 97) {
            #expect(await refusal(Array(json.prefix(length)), context)?.reason == .malformed, "prefix \(length)")
        }
    }

    // MARK: schema

    static func conforms(_ value: ClaimValue, _ type: ClaimType) -> Bool {
        switch (value, type) {
        case (.bool, .bool), (.int, .int), (.string, .string), (.hex, .hex), (.time, .time): return true
        case (.list(let values), .list(let element)): return values.allSatisfy { conforms($0, element) }
        case (.record(let record), .record(let recordType)): return conforms(record, recordType)
        default: return false
        }
    }

    static func conforms(_ record: ClaimRecord, _ type: RecordType) -> Bool {
        for field in record.fields {
            guard let declared = type.field(named: field.name), conforms(field.value, declared.type) else { return false }
        }
        return type.fields.allSatisfy { $0.isOptional || record[$0.name] != nil }
    }

    @Test(arguments: 0..<5)
    func detailsMatchTheSchema(_ index: Int) async throws {
        let sample = Self.samples[index]
        let evidence = try await SNPVerifier().verify(try EvidenceFixtures.bytes(sample.evidence), context: try context(sample))
        #expect(Self.conforms(evidence.details, SNPVerifier().schema.record))
        for field in evidence.details.fields {
            #expect(SNPVerifier().schema.record.field(named: field.name) != nil, "\(field.name) not in schema")
        }
        #expect(!Self.conforms(ClaimRecord(), SNPVerifier().schema.record))
        #expect(evidence.json.contains("\"snp\":{"))
    }
}
