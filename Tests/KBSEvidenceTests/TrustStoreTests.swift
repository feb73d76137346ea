import Foundation
import KBSClaims
import Testing

@testable import KBSEvidence

/// The shipped vendor roots and their pinning: each vendor's roots anchor only its kinds, the shipped copies are the
/// fixtures' roots byte for byte, and `DATA_DIR/trust-anchors/` is read by folder or by subject.
struct TrustStoreTests {
    /// Every certificate of `files`, parsed.
    static func certificates(_ files: [EvidenceFile]) -> [Certificate] {
        files.flatMap { (try? Certificate.parseAll($0.bytes)) ?? [] }
    }

    @Test func shippedRootsAreTheFixturesRootsAndEachNamesItsVendor() throws {
        let shipped = Self.certificates(TrustStore.shipped.entries.map(\.file))
        #expect(shipped.count == 12)
        var fixtures: [Certificate] = []
        for path in [
            "snp/trustee-milan_ask_ark_asvk.pem", "snp/trustee-genoa_ask_ark_asvk.pem", "snp/trustee-turin_ask_ark_asvk.pem",
            "tdx/go-tdx-guest-trusted_root.pem", "nvidia-gpu/trustee-nvidia_device_root.pem", "nvidia-gpu/nvtrust-verifier_RIM_root.pem",
        ] {
            fixtures += try Certificate.parseAll(EvidenceFixtures.bytes(path))
        }
        #expect(Set(shipped.map(\.der)) == Set(fixtures.map(\.der)))
        for entry in TrustStore.shipped.entries {
            for certificate in try Certificate.parseAll(entry.file.bytes) {
                #expect(TrustVendor(naming: certificate) == entry.vendor, "\(certificate.subject)")
                #expect(certificate.isCA == true)
            }
        }
    }

    @Test func eachKindSeesOnlyItsVendorsShippedRoots() {
        let names = { (kind: EvidenceKind) in Set(Self.certificates(TrustStore.shipped.anchors(for: kind)).map(\.commonName)) }
        #expect(names(.snp).contains("ARK-Turin") && names(.snp).contains("SEV-VLEK-Genoa") && names(.snp).count == 9)
        #expect(names(.azSNPvTPM) == names(.snp))
        #expect(names(.tdx) == ["Intel SGX Root CA"] && names(.sgx) == names(.tdx) && names(.azTDXvTPM) == names(.tdx))
        #expect(names(.nvidia) == ["NVIDIA Device Identity CA", "NVIDIA CoRIM signing Root CA"])
        #expect(names(.cca).isEmpty && names(.tpm).isEmpty && names(.sim).isEmpty)
    }

    /// However anchors reach the verifier, a certificate naming another hardware vendor is taken out for a kind.
    @Test func verifiersSeeNoOtherVendorsCertificate() throws {
        let mixed = EvidenceFile(
            name: "mixed.pem",
            bytes: try EvidenceFixtures.bytes("snp/trustee-milan_ask_ark_asvk.pem") + EvidenceFixtures.bytes("tdx/go-tdx-guest-trusted_root.pem"))
        #expect(Self.certificates(TrustVendor.pinned([mixed], to: .tdx)).map(\.commonName) == ["Intel SGX Root CA"])
        #expect(Self.certificates(TrustVendor.pinned([mixed], to: .snp)).count == 3)
        #expect(TrustVendor.pinned([mixed], to: .cca).isEmpty)
        let store = try EvidenceFixtures.file("cca/trustee-tastore.json")
        #expect(TrustVendor.pinned([store], to: .cca).map(\.bytes) == [store.bytes])
    }

    @Test func aDataDirectoryAddsByFolderOrBySubject() throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("trust-\(UUID().uuidString)").path
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let manager = FileManager.default
        try manager.createDirectory(atPath: directory + "/tpm", withIntermediateDirectories: true)
        try manager.copyItem(atPath: EvidenceFixtures.directory + "/other/derived-trustee-tpm-ak.pem", toPath: directory + "/tpm/ak.pem")
        try manager.copyItem(atPath: EvidenceFixtures.directory + "/snp/trustee-genoa_ask_ark_asvk.pem", toPath: directory + "/genoa.pem")
        let store = try TrustStore.empty.adding(directory: directory)
        #expect(store.anchors(for: .tpm).map(\.name) == [directory + "/tpm/ak.pem"])
        #expect(store.anchors(for: .cca).isEmpty, "a key in tpm/ is the TPM's only")
        #expect(store.anchors(for: .snp).map(\.name) == [directory + "/genoa.pem"])
        #expect(store.anchors(for: .tdx).isEmpty)
        #expect(try TrustStore.empty.adding(directory: directory + "/missing").entries.isEmpty)

        // A simulator root directly in the folder anchors `sim` evidence only: never a hardware kind.
        let simulated = try TEESimulator.simulate(kind: .snp, reportData: [1], measurement: nil, debug: false, now: Date())
        try Data(simulated.trustAnchors[0].bytes).write(to: URL(fileURLWithPath: directory + "/simulator.pem"))
        let withSimulator = try TrustStore.empty.adding(directory: directory)
        #expect(withSimulator.anchors(for: .sim).map(\.name) == [directory + "/simulator.pem"])
        #expect(withSimulator.anchors(for: .snp).map(\.name) == [directory + "/genoa.pem"])

        // A certificate of no known vendor must go in a vendor's folder.
        try manager.removeItem(atPath: directory + "/simulator.pem")
        try manager.createDirectory(atPath: directory + "/amd", withIntermediateDirectories: true)
        try Data(simulated.trustAnchors[0].bytes).write(to: URL(fileURLWithPath: directory + "/amd/simulator.pem"))
        let misplaced = #expect(throws: EvidenceError.self) { try TrustStore.empty.adding(directory: directory) }
        #expect(misplaced?.message.contains("is in the amd folder but holds") == true, "\(misplaced?.message ?? "")")
    }
}

/// The real fixtures verify through the verifier API with the shipped roots as the only trust anchors.
struct ShippedRootsVerificationTests {
    static let samples: [(kind: EvidenceKind, evidence: String, endorsements: [String], at: String)] = [
        (.snp, "snp/trustee-test-report.bin", ["snp/trustee-test-vcek.der"], "2024-06-01T00:00:00Z"),
        (.snp, "snp/trustee-as-e2e-evidence.json", [], "2026-06-01T00:00:00Z"),
        (.snp, "snp/trustee-test-vlek-report.bin", ["snp/trustee-test-vlek.der"], "2025-06-01T00:00:00Z"),
        (.tdx, "tdx/trustee-tdx_quote_4.dat", [], "2023-07-01T00:00:00Z"),
        (.tdx, "tdx/go-tdx-guest-quote_v5_sample.dat", [], "2026-02-03T00:00:00Z"),
        (.nvidia, "nvidia-gpu/trustee-hopperAttestationReport.txt", ["nvidia-gpu/trustee-hopper_cert_chain_case1.txt"], "2025-06-01T00:00:00Z"),
        (
            .nvidia, "nvidia-gpu/attestation-sdk-blackwellAttestationReport.txt", ["nvidia-gpu/attestation-sdk-blackwellCertChain.txt"],
            "2025-06-01T00:00:00Z"
        ),
    ]

    @Test(arguments: 0..<samples.count) func verifies(_ index: Int) async throws {
        let sample = Self.samples[index]
        var context = try EvidenceFixtures.context(at: sample.at, endorsements: sample.endorsements)
        context.trustAnchors = TrustStore.shipped.anchors(for: sample.kind)
        let evidence = try EvidenceFixtures.bytes(sample.evidence)
        let verified = await evidenceError { () async throws(EvidenceError) in
            try await EvidenceVerifiers.verify(evidence, kind: sample.kind, context: context)
        }
        #expect(verified == nil, "\(sample.evidence): \(verified?.message ?? "")")
        // Another vendor's shipped roots never stand in.
        let other: EvidenceKind = sample.kind == .snp ? .tdx : .snp
        context.trustAnchors =
            TrustStore.shipped.anchors(for: other) + TrustStore.shipped.anchors(for: .nvidia).filter { _ in sample.kind != .nvidia }
        let refused = await evidenceError { () async throws(EvidenceError) in
            try await EvidenceVerifiers.verify(evidence, kind: sample.kind, context: context)
        }
        #expect(refused?.reason == .chain, "\(sample.evidence): \(refused?.message ?? "verified")")
    }
}
