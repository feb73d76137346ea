import Foundation
import KBSClaims
import KBSEvidence
import Testing

/// The NVIDIA verifier on every SPDM report and evidence file of `nvidia-gpu/`, at the pinned time 2025-06-01.
struct NVIDIAVerifierTests {
    typealias F = NVIDIAFixtures

    /// Trustee's H100 sample: report signature, 5-cert chain to the Device Identity CA, FWID match; claims agree
    /// with Trustee's golden parse (`trustee-hopperAttestationReport-claims.txt`).
    @Test func trusteeHopperReportMatchesGoldenClaims() async throws {
        let evidence = try await F.verify(report: "trustee-hopperAttestationReport.txt", chain: "trustee-hopper_cert_chain_case1.txt").valid()
        let nonce = try #require(Hex.decode("931d8dd0add203ac3d8b4fbde75e115278eefcdceac5b87671a748f32364dfcb"))
        #expect(evidence.kind == .nvidia)
        #expect(evidence.reportData == nonce)
        // No RIM appraised these measurements, so nothing signed shows debug off.
        #expect(evidence.debug == true)
        #expect(evidence.tcbSVN == 0)
        let device = evidence.firstDevice
        #expect(evidence.details["arch"] == .string("HOPPER"))
        #expect(evidence.details["device_count"] == .int(1))
        #expect(device["nonce"] == .hex(nonce))
        #expect(device["certificate"] == .string("GH100 A01 GSP FMC LF"))
        #expect(device["fwid_checked"] == .bool(true))
        #expect(device["rim_checked"] == .bool(false))
        #expect(device["measurement_count"] == .int(64))
        #expect(device["ppcie_status"] == .int(0x55))

        let golden = try #require(
            try JSONSerialization.jsonObject(with: Data(EvidenceFixtures.bytes("nvidia-gpu/trustee-hopperAttestationReport-claims.txt")))
                as? [String: Any])
        let config = try #require(golden["config"] as? [String: Any])
        #expect(golden["arch"] as? String == "Hopper")
        for (name, claim) in [
            ("driver_version", "driver_version"), ("vbios_version", "vbios_version"), ("project", "project"),
            ("project_sku", "project_sku"), ("chip_sku", "chip_sku"), ("chip_sku_mod", "chip_sku_mod"),
        ] {
            #expect(device[claim] == .string(try #require(config[name] as? String)), "\(name)")
        }
        for name in ["board_id", "cpr_info", "gpu_info", "project_sku_mod", "fwid"] {
            let text = try #require(config[name] as? String)
            #expect(device[name] == .hex(try #require(Hex.decode(text))), "\(name)")
        }
        #expect(device["driver_version"] == .string("550.90.07"))
        #expect(device["vbios_version"] == .string("96.00.9f.00.01"))
        #expect(device["project"] == .string("1010"))
        #expect(device["chip_sku"] == .string("882"))
        // Trustee prints the one-byte statuses as characters: "U" is 0x55.
        #expect(config["nvdec0_status"] as? String == "U")
        #expect(device["nvdec0_status"] == .int(Int64(Character("U").asciiValue ?? 0)))
        #expect(config["protected_pcie_status"] as? String == "U")
        let fwidText = try #require(config["fwid"] as? String)
        #expect(evidence.measurement == (try #require(Hex.decode(fwidText))))

        let goldenMeasurements = try #require(golden["measurements"] as? [String: String])
        guard case .list(let measurements)? = device["measurements"] else {
            Issue.record("no measurements")
            return
        }
        #expect(measurements.count == goldenMeasurements.count)
        for (key, value) in goldenMeasurements {
            let index = try #require(Int(key))
            #expect(measurements[index - 1] == .hex(try #require(Hex.decode(value))), "measurement \(key)")
        }
        let goldenCounts = try #require(config["measurement_count"] as? [String: Int])
        guard case .list(let counts)? = device["msr_counts"] else {
            Issue.record("no msr_counts")
            return
        }
        #expect(counts.count == goldenCounts.count)
        for (key, value) in goldenCounts {
            #expect(counts[try #require(Int(key)) - 1] == .int(Int64(value)), "count \(key)")
        }
    }

    /// The expected report data is the SPDM nonce (fitted by truncation to 32 bytes); anything else is `binding`.
    @Test func nonceBinding() async throws {
        let nonce = try #require(Hex.decode("931d8dd0add203ac3d8b4fbde75e115278eefcdceac5b87671a748f32364dfcb"))
        let pair = ("trustee-hopperAttestationReport.txt", "trustee-hopper_cert_chain_case1.txt")
        _ = try await F.verify(report: pair.0, chain: pair.1, reportData: nonce).valid()
        _ = try await F.verify(report: pair.0, chain: pair.1, reportData: nonce + [UInt8](repeating: 7, count: 16)).valid()
        var wrong = nonce
        wrong[5] ^= 1
        #expect(try await F.verify(report: pair.0, chain: pair.1, reportData: wrong).reason == .binding)
    }

    /// Chains that are too short (root only), broken (no Provisioner ICA) or lack the leaf are refused.
    @Test(arguments: ["trustee-hopper_cert_chain_case2.txt", "trustee-hopper_cert_chain_case3.txt", "trustee-hopper_cert_chain_case4.txt"])
    func badChainsAreRefused(chain: String) async throws {
        let result = try await F.verify(report: "trustee-hopperAttestationReport.txt", chain: chain)
        #expect(result.reason == .chain || result.reason == .signature, "\(result.message)")
    }

    /// A complete, valid chain of another GPU: its leaf did not sign the report.
    @Test func anotherDevicesChain() async throws {
        let result = try await F.verify(report: "trustee-hopperAttestationReport.txt", chain: "attestation-sdk-hopperCertChain.txt")
        #expect(result.reason == .signature)
    }

    /// A report without any chain, or with the chain not ending at the configured root, is a chain error.
    @Test func missingChainOrAnchor() async throws {
        #expect(try await F.verify(report: "trustee-hopperAttestationReport.txt").reason == .chain)
        let context = try EvidenceFixtures.context(
            at: F.at, endorsements: [F.path("trustee-hopper_cert_chain_case1.txt")], anchors: [F.rimRoot])
        let error = await evidenceError { () async throws(EvidenceError) -> VerifiedEvidence in
            try await F.verifier.verify(try F.reportBytesOrEmpty("trustee-hopperAttestationReport.txt"), context: context)
        }
        #expect(error?.reason == .chain)
    }

    /// The CoCo CI capture: one trailing zero after the signature; nonce = first 32 bytes of the 48-byte runtime hash.
    @Test func cocoReportWithTrailingByte() async throws {
        let expected = try #require(Hex.decode("87d8e24ab336adafe228d49e83d745f6dba4ae505372b6a5704820856b343fece279b616efefc2aae21da80cf5581250"))
        let evidence = try await F.verify(report: "trustee-hopper_coco_report1.txt", chain: "trustee-hopper_coco_certs1.txt", reportData: expected)
            .valid()
        let device = evidence.firstDevice
        #expect(evidence.reportData == Array(expected.prefix(32)))
        #expect(device["driver_version"] == .string("580.95.05"))
        #expect(device["vbios_version"] == .string("96.00.74.00.1a"))
        #expect(device["fwid_checked"] == .bool(true))
        #expect(device["opaque_data_version"] != nil)
        #expect(device["feature_flag"] != nil)
    }

    /// More than one zero, or a non-zero byte, after the signature is refused.
    @Test func trailingBytesAreBounded() async throws {
        let report = try F.reportBytes("trustee-hopperAttestationReport.txt")
        let chain = "trustee-hopper_cert_chain_case1.txt"
        _ = try await F.verify(report + [0], chain: chain).valid()
        #expect(try await F.verify(report + [1], chain: chain).reason == .malformed)
        #expect(try await F.verify(report + [UInt8](repeating: 0, count: 9), chain: chain).reason == .malformed)
    }

    /// The older attestation-sdk H100 report (driver 535.86.09) has no FWID field: the FWID check does not apply.
    @Test func sdkHopperReportWithoutFWID() async throws {
        let evidence = try await F.verify(report: "attestation-sdk-hopperAttestationReport.txt", chain: "attestation-sdk-hopperCertChain.txt").valid()
        let device = evidence.firstDevice
        #expect(device["fwid_checked"] == .bool(false))
        #expect(device["fwid"] == nil)
        #expect(device["driver_version"] == .string("535.86.09"))
        #expect(device["vbios_version"] == .string("96.00.5e.00.01"))
        #expect(device["project"] == .string("1010"))
        #expect(device["project_sku"] == .string("0200"))
        #expect(device["chip_sku"] == .string("882"))
        guard case .hex(let nonce)? = device["nonce"] else {
            Issue.record("no nonce")
            return
        }
        #expect(Hex.encode(nonce).hasPrefix("27a32824"))
        #expect(Hex.encode(nonce).hasSuffix("16a58f66"))
        #expect(evidence.measurement.count == 48)
        #expect(device["rim_checked"] == .bool(false))
    }

    /// End to end with the production VBIOS RIM: XML-DSig, RIM chain, and 12 of 12 active indices match.
    @Test func sdkHopperReportWithVBIOSRIM() async throws {
        let evidence = try await F.verify(
            report: "attestation-sdk-hopperAttestationReport.txt", chain: "attestation-sdk-hopperCertChain.txt",
            rims: ["nvtrust-VBIOS_RIM_1010_0200_882_96005E0001_PROD.swidtag"]
        ).valid()
        let device = evidence.firstDevice
        #expect(device["rim_checked"] == .bool(true))
        #expect(device["rim_indices_checked"] == .int(12))
        #expect(device["rim_versions"] == .list([.string("96.00.5E.00.01")]))
        // After the RIM signing leaf expired (2025-06-22) the same appraisal is refused.
        let late = try await F.verify(
            report: "attestation-sdk-hopperAttestationReport.txt", chain: "attestation-sdk-hopperCertChain.txt",
            rims: ["nvtrust-VBIOS_RIM_1010_0200_882_96005E0001_PROD.swidtag"], at: "2025-07-01T00:00:00Z")
        #expect(late.reason == .expired)
    }

    /// The genuine but different VBIOS RIM disagrees at index 9.
    @Test func vbiosRIMMeasurementMismatch() async throws {
        let result = try await F.verify(
            report: "attestation-sdk-hopperAttestationReport.txt", chain: "attestation-sdk-hopperCertChain.txt",
            rims: ["attestation-sdk-NV_GPU_VBIOS_1010_0200_882_96005E0001_measurement_mismatch.xml"])
        #expect(result.reason == .measurement)
        #expect(result.message.contains("index 9 "), "\(result.message)")
    }

    /// A RIM whose version matches no device is refused rather than silently ignored; a bad RIM fails the evidence.
    @Test func unusableRIMs() async throws {
        let pair = ("attestation-sdk-hopperAttestationReport.txt", "attestation-sdk-hopperCertChain.txt")
        #expect(try await F.verify(report: pair.0, chain: pair.1, rims: ["attestation-sdk-NV_GPU_DRIVER_GH100_550.144.03.xml"]).reason == .collateral)
        #expect(try await F.verify(report: pair.0, chain: pair.1, rims: ["attestation-sdk-incorrect_signature_driver_rim.xml"]).reason == .signature)
        // Both VBIOS RIMs set the same indices.
        let both = try await F.verify(
            report: pair.0, chain: pair.1,
            rims: [
                "nvtrust-VBIOS_RIM_1010_0200_882_96005E0001_PROD.swidtag",
                "attestation-sdk-NV_GPU_VBIOS_1010_0200_882_96005E0001_measurement_mismatch.xml",
            ])
        #expect(both.reason == .collateral)
    }

    @Test func expiredScenarioReportStillVerifies() async throws {
        let evidence = try await F.verify(
            report: "attestation-sdk-hopperAttestationReportExpired.txt", chain: "attestation-sdk-hopperCertChainExpired.txt"
        ).valid()
        let device = evidence.firstDevice
        #expect(device["driver_version"] == .string("570.124.03"))
        #expect(device["vbios_version"] == .string("96.00.5e.00.04"))
        #expect(device["chip_sku"] == .string("862"))
        #expect(device["fwid_checked"] == .bool(true))
        // With the driver RIM whose signing certificate lived one day, the evidence is refused.
        let withRIM = try await F.verify(
            report: "attestation-sdk-hopperAttestationReportExpired.txt", chain: "attestation-sdk-hopperCertChainExpired.txt",
            rims: ["attestation-sdk-NV_GPU_DRIVER_GH100_570.124.03_expired.xml"])
        #expect(withRIM.reason == .expired)
    }

    @Test(arguments: [
        ("attestation-sdk-hopperAttestationReportInvalidSignature.txt", "attestation-sdk-hopperCertChain.txt"),
        ("attestation-sdk-switchAttestationReportInvalidSignature.txt", "attestation-sdk-switchCertChain.txt"),
    ])
    func tamperedReportsAreRefused(report: String, chain: String) async throws {
        #expect(try await F.verify(report: report, chain: chain).reason == .signature)
    }

    /// Blackwell: the leaf's TcbInfo extension is 2.23.133.5.4.1.1.
    @Test func blackwellReport() async throws {
        let evidence = try await F.verify(report: "attestation-sdk-blackwellAttestationReport.txt", chain: "attestation-sdk-blackwellCertChain.txt")
            .valid()
        let device = evidence.firstDevice
        #expect(evidence.details["arch"] == .string("BLACKWELL"))
        #expect(device["certificate"] == .string("GB100 A01 GSP FMC LF"))
        #expect(device["fwid_checked"] == .bool(true))
        #expect(device["driver_version"] == .string("575.32"))
        #expect(device["vbios_version"] == .string("97.00.88.00.0f"))
        #expect(device["project"] == .string("G525"))
        #expect(device["chip_sku"] == .string("886"))
        #expect(device["sys_enable_status"] != nil)
        guard case .hex(let nonce)? = device["nonce"] else {
            Issue.record("no nonce")
            return
        }
        #expect(Hex.encode(nonce).hasPrefix("931d8dd0"))
    }

    /// NVSwitch LS10: 31 blocks, an unknown opaque type 26 skipped, no FWID.
    @Test func switchReport() async throws {
        let evidence = try await F.verify(report: "attestation-sdk-switchAttestationReport.txt", chain: "attestation-sdk-switchCertChain.txt").valid()
        let device = evidence.firstDevice
        #expect(evidence.details["arch"] == .string("LS10"))
        #expect(device["measurement_count"] == .int(31))
        #expect(device["fwid"] == nil)
        #expect(device["fwid_checked"] == .bool(false))
        #expect(device["driver_version"] == nil)
        #expect(device["vbios_version"] == .string("96.10.55.00.01"))
        #expect(device["switch_pdis"] != nil)
    }

    /// attestation-sdk's serialised evidence: base64 report, base64 PEM chain, the expected nonce beside it.
    @Test func sdkEvidenceJSON() async throws {
        let nonce = try #require(Hex.decode("e97b23a1718095a0e9e35edca810768c70a6a5a389b705e753b197912bc11576"))
        let bytes = try EvidenceFixtures.bytes("nvidia-gpu/attestation-sdk-evidence_hopper_590_12.json")
        let evidence = try await F.verify(bytes, reportData: nonce).valid()
        let device = evidence.firstDevice
        #expect(device["arch"] == .string("HOPPER"))
        #expect(device["driver_version"] == .string("590.12"))
        #expect(device["vbios_version"] == .string("96.00.a5.00.01"))
        #expect(device["fwid_checked"] == .bool(true))
        #expect(evidence.reportData == nonce)
        var wrong = nonce
        wrong[0] ^= 0xFF
        #expect(try await F.verify(bytes, reportData: wrong).reason == .binding)
        // The file's own `nonce` member is checked too.
        let edited = Array(String(decoding: bytes, as: UTF8.self).replacingOccurrences(of: Hex.encode(nonce), with: Hex.encode(wrong)).utf8)
        #expect(try await F.verify(edited).reason == .binding)
    }

    @Test func ppcieGPUEvidence() async throws {
        let nonce = try #require(Hex.decode("4760e30534a0621357d458b1a7936551b5dc4cd1e69718adf7ed9fb0252a537e"))
        let evidence = try await F.verify(try EvidenceFixtures.bytes("nvidia-gpu/nvtrust-ppcie-gpu_evidence.json"), reportData: nonce).valid()
        #expect(evidence.details["device_count"] == .int(8))
        #expect(evidence.devices.count == 8)
        for device in evidence.devices {
            #expect(device["driver_version"] == .string("590.12"))
            #expect(device["fwid_checked"] == .bool(true))
            #expect(device["nonce"] == .hex(nonce))
        }
    }

    @Test func ppcieSwitchEvidence() async throws {
        let nonce = try #require(Hex.decode("4760e30534a0621357d458b1a7936551b5dc4cd1e69718adf7ed9fb0252a537e"))
        let evidence = try await F.verify(try EvidenceFixtures.bytes("nvidia-gpu/nvtrust-ppcie-switch_evidence.json"), reportData: nonce).valid()
        #expect(evidence.details["device_count"] == .int(4))
        #expect(evidence.details["arch"] == .string("LS10"))
        for device in evidence.devices {
            #expect(device["arch"] == .string("LS10"))
            #expect(device["switch_pdis"] != nil)
            #expect(device["nonce"] == .hex(nonce))
        }
    }

    /// Trustee's tee-evidence shape, with the report in hex and in base64.
    @Test(arguments: [false, true])
    func trusteeEvidenceJSON(base64: Bool) async throws {
        let report = try F.reportBytes("trustee-hopperAttestationReport.txt")
        let chain = Data(try EvidenceFixtures.bytes("nvidia-gpu/trustee-hopper_cert_chain_case1.txt")).base64EncodedString()
        let encoded = base64 ? Data(report).base64EncodedString() : Hex.encode(report)
        let json = """
            {"device_evidence_list":[{"arch":"HOPPER","uuid":"GPU-1111","evidence":"\(encoded)","certificate":"\(chain)"}]}
            """
        let evidence = try await F.verify(Array(json.utf8)).valid()
        #expect(evidence.firstDevice["uuid"] == .string("GPU-1111"))
        #expect(evidence.firstDevice["driver_version"] == .string("550.90.07"))
    }

    /// A binary report works as well as hex text.
    @Test func binaryReport() async throws {
        let report = try F.reportBytes("trustee-hopperAttestationReport.txt")
        _ = try await F.verify(report, chain: "trustee-hopper_cert_chain_case1.txt").valid()
    }
}

extension NVIDIAFixtures {
    static func reportBytesOrEmpty(_ name: String) throws(EvidenceError) -> [UInt8] {
        (try? reportBytes(name)) ?? []
    }
}

/// Tier-relevant NVIDIA claims come from signed data only: the report and the device certificate chain.
struct NVIDIASignedClaimsTests {
    typealias F = NVIDIAFixtures

    /// Trustee's JSON with `arch` as given: the report and chain of Trustee's H100 sample.
    static func trusteeJSON(arch: String?) throws -> [UInt8] {
        let report = try F.reportBytes("trustee-hopperAttestationReport.txt")
        let chain = Data(try EvidenceFixtures.bytes("nvidia-gpu/trustee-hopper_cert_chain_case1.txt")).base64EncodedString()
        let member = arch.map { #""arch":"\#($0)","# } ?? ""
        return Array(#"{"device_evidence_list":[{\#(member)"uuid":"GPU-1","evidence":"\#(Hex.encode(report))","certificate":"\#(chain)"}]}"#.utf8)
    }

    /// The finding: `arch` was read from the evidence JSON, which nothing signs, so a client could call its H100 a
    /// Blackwell (tier 4 rules) or anything else. The architecture comes from the signed leaf certificate; a JSON
    /// `arch` that contradicts it is refused as an `identity` error.
    @Test func relabelledArchitectureIsRefused() async throws {
        for label in ["BLACKWELL", "LS10", "blackwell", "AMPERE"] {
            let result = try await F.verify(try Self.trusteeJSON(arch: label))
            #expect(result.reason == .identity, "\(label): \(result.message)")
        }
        for label in ["HOPPER", "hopper", nil] as [String?] {
            let evidence = try await F.verify(try Self.trusteeJSON(arch: label)).valid()
            #expect(evidence.details["arch"] == .string("HOPPER"))
            #expect(evidence.firstDevice["arch"] == .string("HOPPER"))
        }
        // NVIDIA's SDK form carries `arch` too.
        let nonce = try #require(Hex.decode("e97b23a1718095a0e9e35edca810768c70a6a5a389b705e753b197912bc11576"))
        let sdk = String(decoding: try EvidenceFixtures.bytes("nvidia-gpu/attestation-sdk-evidence_hopper_590_12.json"), as: UTF8.self)
        #expect(sdk.contains(#""arch":"HOPPER""#) || sdk.contains(#""arch": "HOPPER""#))
        let relabelled = sdk.replacingOccurrences(of: "HOPPER", with: "BLACKWELL")
        #expect(try await F.verify(Array(relabelled.utf8), reportData: nonce).reason == .identity)
    }

    /// The finding: `debug` was the constant false. Nothing in a Hopper report says debug is off; NVIDIA's verifier
    /// reports debug disabled only when the signed measurements match the driver and VBIOS RIMs, so without both RIMs
    /// matching, `debug` stays true.
    @Test func debugIsNotAConstant() async throws {
        let bare = try await F.verify(report: "trustee-hopperAttestationReport.txt", chain: "trustee-hopper_cert_chain_case1.txt").valid()
        #expect(bare.debug == true)
        #expect(bare.firstDevice["debug"] == .bool(true))
        // The VBIOS RIM alone matches (no driver RIM for 535.86.09 is among the fixtures): still not shown off.
        let vbiosOnly = try await F.verify(
            report: "attestation-sdk-hopperAttestationReport.txt", chain: "attestation-sdk-hopperCertChain.txt",
            rims: ["nvtrust-VBIOS_RIM_1010_0200_882_96005E0001_PROD.swidtag"]
        ).valid()
        #expect(vbiosOnly.firstDevice["rim_checked"] == .bool(true))
        #expect(vbiosOnly.debug == true)
    }

    /// The finding: no tier rule could require RIM appraisal, since nothing said RIMs were configured. Now
    /// `rims_configured` says so beside each device's `rim_checked`.
    @Test func rimsConfiguredIsAClaim() async throws {
        let pair = ("attestation-sdk-hopperAttestationReport.txt", "attestation-sdk-hopperCertChain.txt")
        let without = try await F.verify(report: pair.0, chain: pair.1).valid()
        #expect(without.details["rims_configured"] == .bool(false))
        let with = try await F.verify(report: pair.0, chain: pair.1, rims: ["nvtrust-VBIOS_RIM_1010_0200_882_96005E0001_PROD.swidtag"]).valid()
        #expect(with.details["rims_configured"] == .bool(true))
        #expect(with.firstDevice["rim_checked"] == .bool(true))
    }
}
