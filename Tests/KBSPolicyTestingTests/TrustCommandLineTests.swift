import Foundation
import KBSPolicyTesting
import Testing

/// `kbs trust list` and the vendor pinning of trust anchors, through the built binary: the shipped roots verify the
/// real fixtures with no `--trust-anchor`, and a root naming one vendor never anchors another vendor's chain.
struct TrustCommandLineTests {
    static let fixtures = RepositoryPaths.path("Fixtures/evidence")
    static let enabled = CommandLineTests.binary != nil

    /// The shipped roots: vendor, SHA-256 of the DER (as docs/evidence.md lists them).
    static let shipped: [(vendor: String, sha256: String)] = [
        ("amd", "69d063b45344d26a2e94e1f4210de49ef555308287d4c174445c95639a540bcd"),
        ("amd", "67d303bd3905fd38db8b20e0793699870e7fa612eaad5dec358293fd8c0bac1b"),
        ("amd", "c5e081f59b7efab1fe2f8b505e159704e72f29cab7ef7cf628a05a42439082f5"),
        ("amd", "4c6598d19c18719c5dfd4a7d335f674e5bfe1d8f800cea2cf270c10d103db2f1"),
        ("amd", "5464738c1546aed5f2cecf1dc98c5c960a92e8913238a61711bc90ec6e828521"),
        ("amd", "197e610743a917d6b9bb982a5a9226ccc0a15b611be0619e626aca9151457372"),
        ("amd", "1f084161a44bb6d93778a904877d4819cafa5d05ef4193b2ded9dd9c73dd3f6a"),
        ("amd", "5b77ef5fe7a7a004fd9032668fba9d0fda22f88c4442069a479636a6ae3b3185"),
        ("amd", "104e10a8bd060a3c20a434261a57d0588fd65a88915b4f65b08bdecaf8df1a3c"),
        ("intel", "44a0196b2b99f889b8e149e95b807a350e7424964399e885a7cbb8ccfab674d3"),
        ("nvidia", "102bf659d5419614c9d8e6aecebc80454eb26b1df6a769ac720b9a690b167b48"),
        ("nvidia", "12977b5115acb0381179279fffeb5a8c4d264971ebb32298023a465fa41df5d1"),
    ]

    /// The lines `kbs trust list` prints under `vendor`'s heading.
    static func section(_ output: String, _ vendor: String) -> [String] {
        let lines = output.split(separator: "\n").map(String.init)
        guard let start = lines.firstIndex(where: { $0.hasPrefix(vendor + " (") }) else { return [] }
        return Array(lines[(start + 1)...].prefix { $0.hasPrefix("  ") })
    }

    @Test(.enabled(if: enabled)) func listPrintsEveryShippedRootUnderItsVendor() throws {
        let result = try CommandLineTests.run(["trust", "list"])
        #expect(result.status == 0, "\(result.err)")
        #expect(result.out.contains("amd (snp, az-snp-vtpm)"), "\(result.out)")
        #expect(result.out.contains("intel (tdx, sgx, az-tdx-vtpm)"))
        #expect(result.out.contains("cca (cca): nothing trusted"))
        for root in Self.shipped {
            let line = Self.section(result.out, root.vendor).first { $0.contains(root.sha256) }
            #expect(line?.hasPrefix("  shipped  \(root.sha256)  ") == true, "\(root.vendor) \(root.sha256): \(result.out)")
        }
        #expect(Self.section(result.out, "amd").count == 9)
        #expect(result.out.contains("2045-10-22T17:23:05Z  CN=ARK-Milan,"))
    }

    @Test(.enabled(if: enabled)) func listReadsTheDataDirectoryAsTheServerDoes() throws {
        let data = FileManager.default.temporaryDirectory.appendingPathComponent("kbs-trust-\(UUID().uuidString)").path
        defer { try? FileManager.default.removeItem(atPath: data) }
        let anchors = data + "/trust-anchors"
        try FileManager.default.createDirectory(atPath: anchors + "/cca", withIntermediateDirectories: true)
        try FileManager.default.copyItem(atPath: Self.fixtures + "/cca/trustee-tastore.json", toPath: anchors + "/cca/tastore.json")
        try FileManager.default.copyItem(atPath: Self.fixtures + "/tdx/go-tdx-guest-trusted_root.pem", toPath: anchors + "/root.pem")
        try FileManager.default.copyItem(atPath: Self.fixtures + "/other/derived-trustee-tpm-ak.pem", toPath: anchors + "/ak.pem")
        let result = try CommandLineTests.run(["trust", "list", "--data-dir", data])
        #expect(result.status == 0, "\(result.err)")
        #expect(Self.section(result.out, "intel").contains { $0.hasPrefix("  \(anchors)/root.pem  44a0196b") }, "\(result.out)")
        #expect(Self.section(result.out, "cca").contains { $0.hasPrefix("  \(anchors)/cca/tastore.json  ") })
        #expect(Self.section(result.out, "cca").contains { $0.hasPrefix("  \(anchors)/ak.pem  ") })
        #expect(Self.section(result.out, "tpm").contains { $0.hasPrefix("  \(anchors)/ak.pem  ") })
        #expect(!Self.section(result.out, "amd").contains { $0.contains(anchors) })

        // An AMD bundle in the Intel folder, and a folder no vendor has, refuse the whole directory.
        try FileManager.default.createDirectory(atPath: anchors + "/intel", withIntermediateDirectories: true)
        try FileManager.default.copyItem(atPath: Self.fixtures + "/snp/trustee-milan_ask_ark_asvk.pem", toPath: anchors + "/intel/milan.pem")
        let misplaced = try CommandLineTests.run(["trust", "list", "--data-dir", data])
        #expect(misplaced.status == 1)
        #expect(misplaced.err.hasPrefix("error: configuration: trust anchors: \(anchors)/intel/milan.pem is in the intel folder"), "\(misplaced.err)")
        try FileManager.default.removeItem(atPath: anchors + "/intel")
        try FileManager.default.createDirectory(atPath: anchors + "/arm", withIntermediateDirectories: true)
        let unknown = try CommandLineTests.run(["trust", "list", "--data-dir", data])
        #expect(unknown.err.hasPrefix("error: configuration: trust anchors: \(anchors)/arm is not a vendor folder"), "\(unknown.err)")
    }

    /// The real SNP, TDX, SGX, NVIDIA and Azure fixtures verify with the shipped roots alone (no `--trust-anchor`),
    /// each at the time its certificates were valid; `--no-shipped-roots` takes the roots away again.
    @Test(
        .enabled(if: enabled),
        arguments: [
            ["snp", "snp/trustee-test-report.bin", "2024-06-01T00:00:00Z", "snp/trustee-test-vcek.der"],
            ["snp", "snp/derived-trustee-as-e2e-genoa-report.bin", "2026-06-01T00:00:00Z", "snp/derived-trustee-as-e2e-genoa-vcek.der"],
            ["snp", "snp/trustee-as-e2e-evidence.json", "2026-06-01T00:00:00Z"],
            ["snp", "snp/trustee-test-vlek-report.bin", "2025-06-01T00:00:00Z", "snp/trustee-test-vlek.der"],
            ["tdx", "tdx/trustee-tdx_quote_4.dat", "2023-07-01T00:00:00Z"],
            ["tdx", "tdx/go-tdx-guest-quote_v5_sample.dat", "2026-02-03T00:00:00Z"],
            ["sgx", "sgx/trustee-occlum_quote.dat", "2023-07-01T00:00:00Z"],
            [
                "nvidia", "nvidia-gpu/trustee-hopperAttestationReport.txt", "2025-06-01T00:00:00Z",
                "nvidia-gpu/trustee-hopper_cert_chain_case1.txt",
            ],
            ["nvidia", "nvidia-gpu/attestation-sdk-evidence_hopper_590_12.json", "2025-06-01T00:00:00Z"],
            [
                "nvidia", "nvidia-gpu/attestation-sdk-hopperAttestationReport.txt", "2025-06-01T00:00:00Z",
                "nvidia-gpu/attestation-sdk-hopperCertChain.txt", "nvidia-gpu/nvtrust-VBIOS_RIM_1010_0200_882_96005E0001_PROD.swidtag",
            ],
            ["az-snp-vtpm", "az-vtpm/trustee-az-snp-vtpm-evidence-v1.json", "2025-06-01T00:00:00Z"],
            ["az-tdx-vtpm", "az-vtpm/trustee-az-tdx-vtpm-evidence-v1.json", "2025-06-01T00:00:00Z"],
        ])
    func realFixturesVerifyWithTheShippedRootsAlone(_ sample: [String]) throws {
        var arguments = ["evidence", "verify", "--kind", sample[0], "--evidence", Self.fixtures + "/" + sample[1], "--at", sample[2]]
        for endorsement in sample.dropFirst(3) { arguments += ["--endorsement", Self.fixtures + "/" + endorsement] }
        let verified = try CommandLineTests.run(arguments)
        #expect(verified.status == 0, "\(sample[1]): \(verified.err)")
        if sample.contains(where: { $0.hasSuffix(".swidtag") }) {
            #expect(verified.out.contains("\"rim_checked\":true"), "\(verified.out)")
        }
        let bare = try CommandLineTests.run(arguments + ["--no-shipped-roots"])
        #expect(bare.status == 1)
        #expect(bare.err.hasPrefix("error: chain: "), "\(sample[1]): \(bare.err)")
    }

    /// Regression (issue 15, finding 8): one anchor pool served every vendor, so a root naming AMD ended a PCK chain.
    /// A TDX quote whose PCK chain ends at a test root under AMD's name (Fixtures/trust) verified on 838282a with that
    /// root as `--trust-anchor`; an Intel kind now sees only Intel's roots.
    @Test(.enabled(if: enabled)) func aRootNamingAMDDoesNotAnchorAPCKChain() throws {
        let work = FileManager.default.temporaryDirectory.appendingPathComponent("kbs-pin-\(UUID().uuidString)").path
        defer { try? FileManager.default.removeItem(atPath: work) }
        let reportData = String(repeating: "ab", count: 48)
        let made = try CommandLineTests.run(
            ["tee", "simulate", "--kind", "tdx", "--report-data", reportData, "--ca", work + "/ca", "--out", work + "/first"])
        #expect(made.status == 0, "\(made.err)")
        let caPath = work + "/ca/simulator-ca.json"
        var ca = try #require(try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: caPath))) as? [String: Any])
        let forged = try Data(contentsOf: URL(fileURLWithPath: RepositoryPaths.path("Fixtures/trust/amd-named-tdx-authorities.json")))
        ca["tdx"] = try JSONSerialization.jsonObject(with: forged)
        try JSONSerialization.data(withJSONObject: ca).write(to: URL(fileURLWithPath: caPath))
        let out = work + "/out"
        let simulated = try CommandLineTests.run([
            "tee", "simulate", "--kind", "tdx", "--report-data", reportData, "--ca", work + "/ca", "--out", out,
        ])
        #expect(simulated.status == 0, "\(simulated.err)")
        let root = try String(contentsOfFile: out + "/trust-anchors/sgx-root.pem", encoding: .utf8)
        #expect(root.contains("-----BEGIN CERTIFICATE-----"))

        let refused = try CommandLineTests.run([
            "evidence", "verify", "--kind", "tdx", "--evidence", out + "/evidence", "--endorsement", out + "/endorsements/pck-chain.pem",
            "--trust-anchor", out + "/trust-anchors/sgx-root.pem", "--expect-report-data", reportData,
        ])
        #expect(refused.status == 1, "a TDX quote chained to a root naming AMD verified: \(refused.out)")
        #expect(refused.err.hasPrefix("error: chain: PCK chain: chain ends at ARK-Milan"), "\(refused.err)")
    }
}
