import Foundation
import KBSPolicyTesting
import Testing

/// `kbs evidence verify` and `kbs tee simulate` end to end through the built binary: each kind's valid sample verifies,
/// flipping any single byte of its signed region makes it exit 1, and simulator output verifies against the
/// simulator's roots and never against the vendors'.
struct EvidenceCommandLineTests {
    static let fixtures = RepositoryPaths.path("Fixtures/evidence")

    /// A valid sample and where its signature reaches.
    struct Sample: CustomTestStringConvertible, Sendable {
        var kind: String
        var evidence: String
        var endorsements: [String] = []
        var anchors: [String] = []
        var at: String
        var flags: [String] = []
        /// Byte ranges of the evidence (as the verifier reads it) that a signature covers.
        var signed: [Range<Int>]
        /// Whether the fixture is hex text to decode before flipping (the verifier takes the binary form too).
        var hexText = false
        /// For JSON evidence: string members whose characters (all, or the given range of them) encode signed bytes.
        var signedMembers: [(key: String, characters: Range<Int>?)] = []
        var testDescription: String { "\(kind): \(evidence)" }

        func arguments(evidence path: String) -> [String] {
            var arguments: [String] = ["evidence", "verify", "--kind", kind, "--evidence", path, "--at", at]
            for file in endorsements { arguments += ["--endorsement", EvidenceCommandLineTests.fixtures + "/" + file] }
            for file in anchors { arguments += ["--trust-anchor", EvidenceCommandLineTests.fixtures + "/" + file] }
            return arguments + flags
        }
    }

    static let samples: [Sample] = [
        // The report body 0x000..0x29F and the signature r, s (72 little-endian bytes each, zero above 48).
        Sample(
            kind: "snp", evidence: "snp/trustee-test-report.bin", endorsements: ["snp/trustee-test-vcek.der"],
            anchors: ["snp/trustee-milan_ask_ark_asvk.pem"], at: "2024-06-01T00:00:00Z", signed: [0..<0x330]),
        // Header and TD body (quote signature), then signature, attestation key, QE report and its PCK signature.
        Sample(
            kind: "tdx", evidence: "tdx/trustee-tdx_quote_4.dat", anchors: ["tdx/go-tdx-guest-trusted_root.pem"],
            at: "2023-07-01T00:00:00Z", signed: [0..<632, 636..<764, 770..<1218]),
        Sample(
            kind: "sgx", evidence: "sgx/trustee-occlum_quote.dat", anchors: ["tdx/go-tdx-guest-trusted_root.pem"],
            at: "2023-07-01T00:00:00Z", signed: [0..<432, 436..<1012]),
        // SPDM request ‖ response and the 96-byte signature over their SHA-384.
        Sample(
            kind: "nvidia", evidence: "nvidia-gpu/trustee-hopperAttestationReport.txt",
            endorsements: ["nvidia-gpu/trustee-hopper_cert_chain_case1.txt"], anchors: ["nvidia-gpu/trustee-nvidia_device_root.pem"],
            at: "2025-06-01T00:00:00Z", signed: [0..<4117], hexText: true),
        // Both COSE_Sign1 messages (protected headers, payloads, signatures) and the structure around them.
        Sample(
            kind: "cca", evidence: "cca/trustee-cca-example-token.cbor", anchors: ["cca/trustee-tastore.json"],
            at: "2025-06-01T00:00:00Z", signed: [0..<0x8ba]),
        // The quote message (TPMS_ATTEST) and signature, base64 in the JSON; the AK pinned (an unpinned one is refused).
        Sample(
            kind: "tpm", evidence: "other/trustee-tpm_evidence.json", anchors: ["other/derived-trustee-tpm-ak.pem"],
            at: "2025-06-01T00:00:00Z", signed: [],
            signedMembers: [("message", nil), ("signature", nil)]),
        // The vTPM quote (hex) and the SNP report inside the HCL report (base64url characters 43..<939 hold bytes
        // 0x20..<0x2C0: the report and its signature).
        Sample(
            kind: "az-snp-vtpm", evidence: "az-vtpm/trustee-az-snp-vtpm-evidence-v1.json",
            anchors: ["snp/trustee-milan_ask_ark_asvk.pem"], at: "2025-06-01T00:00:00Z", signed: [],
            signedMembers: [("message", nil), ("signature", nil), ("hcl_report", 43..<939)]),
        // The vTPM quote and the TD quote's header and body (base64url characters 0..<842 hold bytes 0..<632).
        Sample(
            kind: "az-tdx-vtpm", evidence: "az-vtpm/trustee-az-tdx-vtpm-evidence-v1.json",
            anchors: ["tdx/go-tdx-guest-trusted_root.pem"], at: "2025-06-01T00:00:00Z", signed: [],
            signedMembers: [("message", nil), ("signature", nil), ("td_quote", 0..<842)]),
    ]

    /// The byte ranges of the file holding the characters of each signed JSON string member.
    static func memberRanges(_ bytes: [UInt8], _ members: [(key: String, characters: Range<Int>?)]) -> [Range<Int>] {
        let text = Array(bytes)
        var ranges: [Range<Int>] = []
        for member in members {
            let needle = Array("\"\(member.key)\": \"".utf8)
            guard let start = (0...(text.count - needle.count)).first(where: { text[$0..<$0 + needle.count].elementsEqual(needle) }) else {
                continue
            }
            let valueStart = start + needle.count
            guard let valueEnd = text[valueStart...].firstIndex(of: UInt8(ascii: "\"")) else { continue }
            let whole = valueStart..<valueEnd
            if let characters = member.characters {
                ranges.append((valueStart + characters.lowerBound)..<min(valueEnd, valueStart + characters.upperBound))
            } else {
                ranges.append(whole)
            }
        }
        return ranges
    }

    static let enabled = CommandLineTests.binary != nil

    @Test(.enabled(if: enabled), arguments: samples)
    func sampleVerifiesAndEveryFlippedSignedByteIsRefused(_ sample: Sample) throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("kbs-flip-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        var bytes = Array(try Data(contentsOf: URL(fileURLWithPath: Self.fixtures + "/" + sample.evidence)))
        if sample.hexText {
            let text = String(decoding: bytes, as: UTF8.self).filter { !$0.isWhitespace }
            bytes = try #require(Self.hexDecode(text))
        }
        let original = directory.appendingPathComponent("evidence").path
        try Data(bytes).write(to: URL(fileURLWithPath: original))
        let valid = try CommandLineTests.run(sample.arguments(evidence: original))
        #expect(valid.status == 0, "\(valid.err)")
        #expect(valid.out.contains("\"kind\":\"\(sample.kind)\""))

        // Positions spread evenly over every signed range, plus both ends of each.
        var positions: [Int] = []
        let members = Self.memberRanges(bytes, sample.signedMembers)
        #expect(members.count == sample.signedMembers.count, "signed members not found in \(sample.evidence)")
        for range in sample.signed + members {
            let clamped = range.clamped(to: 0..<bytes.count)
            guard !clamped.isEmpty else { continue }
            let step = max(1, clamped.count / 24)
            positions += Array(stride(from: clamped.lowerBound, to: clamped.upperBound, by: step)) + [clamped.upperBound - 1]
        }
        #expect(positions.count >= 20)
        let flipped = directory.appendingPathComponent("flipped").path
        for position in Set(positions).sorted() {
            var copy = bytes
            copy[position] ^= 0x01
            try Data(copy).write(to: URL(fileURLWithPath: flipped))
            let result = try CommandLineTests.run(sample.arguments(evidence: flipped))
            #expect(result.status == 1, "byte \(position) flipped still verifies")
            #expect(result.err.hasPrefix("error: "), "byte \(position): \(result.err)")
        }
    }

    /// `kbs tee simulate` → `kbs evidence verify` with the simulator's files; refused with the vendor's roots, with the
    /// wrong report data, and as `sim` without simulator mode.
    @Test(.enabled(if: enabled), arguments: ["snp", "tdx", "nvidia"])
    func simulatorOutputVerifiesOnlyAgainstTheSimulatorChain(_ kind: String) throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("kbs-sim-\(UUID().uuidString)").path
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let reportData = String(repeating: "ab", count: 48)
        let made = try CommandLineTests.run(["tee", "simulate", "--kind", kind, "--report-data", reportData, "--out", directory])
        #expect(made.status == 0, "\(made.err)")
        let manager = FileManager.default
        let endorsements = try manager.contentsOfDirectory(atPath: directory + "/endorsements").sorted()
            .flatMap { ["--endorsement", directory + "/endorsements/" + $0] }
        let anchors = try manager.contentsOfDirectory(atPath: directory + "/trust-anchors").sorted()
            .flatMap { ["--trust-anchor", directory + "/trust-anchors/" + $0] }
        let base = ["evidence", "verify", "--kind", kind, "--evidence", directory + "/evidence"] + endorsements
        let verified = try CommandLineTests.run(base + anchors + ["--expect-report-data", reportData])
        #expect(verified.status == 0, "\(verified.err)")
        let expectedField = kind == "nvidia" ? String(reportData.prefix(64)) : reportData + String(repeating: "0", count: 32)
        #expect(verified.out.contains("\"report_data\":\"\(expectedField)\""), "\(verified.out)")

        let vendorRoots =
            [
                "snp": ["snp/trustee-milan_ask_ark_asvk.pem", "snp/trustee-genoa_ask_ark_asvk.pem", "snp/trustee-turin_ask_ark_asvk.pem"],
                "tdx": ["tdx/go-tdx-guest-trusted_root.pem"], "nvidia": ["nvidia-gpu/trustee-nvidia_device_root.pem"],
            ][kind] ?? []
        let vendor = try CommandLineTests.run(base + vendorRoots.flatMap { ["--trust-anchor", Self.fixtures + "/" + $0] })
        #expect(vendor.status == 1, "simulated \(kind) evidence verified against the vendor's roots")
        #expect(vendor.err.hasPrefix("error: chain: "), "\(vendor.err)")

        let wrongData = try CommandLineTests.run(base + anchors + ["--expect-report-data", String(repeating: "cd", count: 48)])
        #expect(wrongData.status == 1)
        #expect(wrongData.err.hasPrefix("error: binding: "), "\(wrongData.err)")

        // Simulated evidence is held to the same checks: a flipped byte anywhere in its signed region is refused.
        let evidence = Array(try Data(contentsOf: URL(fileURLWithPath: directory + "/evidence")))
        let signedEnd = ["snp": 0x330, "tdx": 632, "nvidia": evidence.count][kind] ?? evidence.count
        let flipped = directory + "/flipped"
        for position in Set(stride(from: 0, to: signedEnd, by: max(1, signedEnd / 16)).map { $0 } + [signedEnd - 1]).sorted() {
            var copy = evidence
            copy[position] ^= 0x01
            try Data(copy).write(to: URL(fileURLWithPath: flipped))
            let result = try CommandLineTests.run(["evidence", "verify", "--kind", kind, "--evidence", flipped] + endorsements + anchors)
            #expect(result.status == 1, "simulated \(kind): byte \(position) flipped still verifies")
        }

        let sim = ["evidence", "verify", "--kind", "sim", "--evidence", directory + "/sim-evidence.json"] + endorsements + anchors
        let refused = try CommandLineTests.run(sim)
        #expect(refused.err.hasPrefix("error: configuration: "), "\(refused.err)")
        let accepted = try CommandLineTests.run(sim + ["--allow-simulator"])
        #expect(accepted.status == 0, "\(accepted.err)")
        #expect(accepted.out.contains("\"kind\":\"sim\""))
        #expect(accepted.out.contains("\"simulated_kind\":\"\(kind)\""))
    }

    @Test(.enabled(if: CommandLineTests.binary != nil)) func badInputIsAClearError() throws {
        let unknown = try CommandLineTests.run(["evidence", "verify", "--kind", "sev", "--evidence", "/dev/null"])
        #expect(unknown.status == 2)
        #expect(unknown.err.hasPrefix("error: usage: unknown kind `sev`"))
        let missing = try CommandLineTests.run(["evidence", "verify", "--kind", "snp", "--evidence", "/nonexistent"])
        #expect(missing.err.hasPrefix("error: usage: cannot read the evidence file /nonexistent"))
        let time = try CommandLineTests.run(["evidence", "verify", "--kind", "snp", "--evidence", "/dev/null", "--at", "soon"])
        #expect(time.err.hasPrefix("error: usage: --at `soon`"))
        let simulate = try CommandLineTests.run(["tee", "simulate", "--kind", "cca", "--report-data", "00", "--out", "/tmp/x"])
        #expect(simulate.status == 2)
        #expect(simulate.err.hasPrefix("error: usage: unknown kind `cca`"))
    }

    static func hexDecode(_ text: String) -> [UInt8]? {
        var out: [UInt8] = []
        var index = text.startIndex
        while index < text.endIndex {
            let next = text.index(index, offsetBy: 2, limitedBy: text.endIndex) ?? text.endIndex
            guard let byte = UInt8(text[index..<next], radix: 16) else { return nil }
            out.append(byte)
            index = next
        }
        return out
    }
}
