import Foundation
import KBSClaims
import Testing

@testable import KBSEvidence

/// SNP verification of every fixture in `snp/` at SOURCES.md's verdicts, with pinned times.
struct SNPVerifierTests {
    static let milan = "snp/trustee-milan_ask_ark_asvk.pem"
    static let genoa = "snp/trustee-genoa_ask_ark_asvk.pem"
    static let turin = "snp/trustee-turin_ask_ark_asvk.pem"
    static let allBundles = [milan, genoa, turin]

    func verify(
        _ evidence: String, at time: String = "2024-06-01T00:00:00Z", endorsements: [String], anchors: [String] = allBundles,
        reportData: [UInt8]? = nil
    ) async throws -> Result<VerifiedEvidence, EvidenceError> {
        let context = try EvidenceFixtures.context(at: time, endorsements: endorsements, anchors: anchors, reportData: reportData)
        let bytes = try EvidenceFixtures.bytes(evidence)
        do { return .success(try await SNPVerifier().verify(bytes, context: context)) } catch { return .failure(error) }
    }

    func reason(_ result: Result<VerifiedEvidence, EvidenceError>) -> EvidenceErrorReason? {
        if case .failure(let error) = result { return error.reason }
        return nil
    }

    func int(_ evidence: VerifiedEvidence, _ path: String) -> Int64? {
        if case .int(let value)? = evidence.details.value(at: path) { return value }
        return nil
    }

    func tcb(_ evidence: VerifiedEvidence, _ name: String) -> [Int64?] {
        ["bootloader", "tee", "snp", "microcode"].map { int(evidence, "\(name).\($0)") }
    }

    // MARK: trustee-test-report.bin (Milan, v2, VCEK)

    @Test func trusteeMilanV2ReportVerifiesWithProductFromVCEK() async throws {
        let evidence = try await verify("snp/trustee-test-report.bin", endorsements: ["snp/trustee-test-vcek.der"], anchors: [Self.milan]).get()
        #expect(evidence.kind == .snp)
        #expect(evidence.details["version"] == .int(2))
        #expect(evidence.details["product"] == .string("Milan"))
        #expect(evidence.details["vek_product_name"] == .string("Milan-B0"))
        #expect(evidence.details["signing_key"] == .string("vcek"))
        #expect(evidence.details["policy"] == .int(0x3001f))
        #expect(evidence.details["abi_major"] == .int(0))
        #expect(evidence.details["abi_minor"] == .int(31))
        #expect(evidence.details["smt_allowed"] == .bool(true))
        #expect(evidence.details["migrate_ma"] == .bool(false))
        #expect(evidence.details["debug_allowed"] == .bool(false))
        #expect(evidence.debug == false)
        #expect(evidence.details["vmpl"] == .int(0))
        #expect(tcb(evidence, "reported_tcb") == [3, 0, 8, 115])
        #expect(int(evidence, "current_tcb.microcode") == 206)
        #expect(evidence.tcbSVN == 8)
        #expect(Hex.encode(evidence.measurement).hasPrefix("a1f39304"))
        #expect(Hex.encode(evidence.measurement).hasSuffix("50d3d38c"))
        #expect(
            evidence.reportData.map { Hex.encode($0) } == "ec6c52d7533cc2c4f45be7849cf112ab82b2009fe7bd43e71ed08c14400ad7e2"
                + String(repeating: "0", count: 64))
        #expect(evidence.hostData == [UInt8](repeating: 0, count: 32))
        #expect(evidence.details["current_firmware"] == .string("1.52.4"))
        #expect(evidence.details["cpuid_fam_id"] == nil)
        #expect(
            evidence.details["chip_id"]
                == .hex(
                    Hex.decode(
                        "c38427a30d4c7af9d96f7a15b97269825a64cb76a2352ffd5d18115d89ad473f8e8c0bcd9a5d9286612bad4aadfb4426205a3b9e4fea82301135a170e477524e"
                    )!))
        #expect(evidence.claims["tcb_svn"] == .int(8))
        #expect(evidence.claims["snp"] != nil)
    }

    @Test func trusteeMilanReportDataBinding() async throws {
        let expected = Hex.decode("ec6c52d7533cc2c4f45be7849cf112ab82b2009fe7bd43e71ed08c14400ad7e2")!
        let ok = try await verify("snp/trustee-test-report.bin", endorsements: ["snp/trustee-test-vcek.der"], reportData: expected)
        #expect(reason(ok) == nil)
        var wrong = expected
        wrong[0] ^= 1
        let bad = try await verify("snp/trustee-test-report.bin", endorsements: ["snp/trustee-test-vcek.der"], reportData: wrong)
        #expect(reason(bad) == .binding)
    }

    @Test func milanReportUnderOtherBundlesIsAChainError() async throws {
        for bundle in [Self.genoa, Self.turin] {
            let result = try await verify("snp/trustee-test-report.bin", endorsements: ["snp/trustee-test-vcek.der"], anchors: [bundle])
            #expect(reason(result) == .chain, "\(bundle)")
        }
        let none = try await verify("snp/trustee-test-report.bin", endorsements: ["snp/trustee-test-vcek.der"], anchors: [])
        #expect(reason(none) == .chain)
    }

    @Test func vcekOutsideItsValidityIsExpired() async throws {
        for time in ["2022-12-01T00:00:00Z", "2030-06-01T00:00:00Z"] {
            let result = try await verify("snp/trustee-test-report.bin", at: time, endorsements: ["snp/trustee-test-vcek.der"])
            #expect(reason(result) == .expired, "\(time)")
        }
    }

    @Test func intermediateFromEndorsementsNeedsAPinnedARK() async throws {
        let milan = try Certificate.parseAll(try EvidenceFixtures.bytes(Self.milan))
        let genoa = try Certificate.parseAll(try EvidenceFixtures.bytes(Self.genoa))
        let report = try EvidenceFixtures.bytes("snp/trustee-test-report.bin")
        let endorsements = [try EvidenceFixtures.file("snp/trustee-test-vcek.der"), try EvidenceFixtures.file(Self.milan)]
        func verify(anchor: Certificate) async -> EvidenceError? {
            let context = VerificationContext(
                time: EvidenceFixtures.time("2024-06-01T00:00:00Z"), endorsements: endorsements,
                trustAnchors: [EvidenceFile(name: "ark", bytes: anchor.der)])
            return await evidenceError { () async throws(EvidenceError) -> VerifiedEvidence in
                try await SNPVerifier().verify(report, context: context)
            }
        }
        // Only the ARK is pinned; the ASK travels with the endorsements and is accepted because the ARK signed it.
        #expect(await verify(anchor: milan[1]) == nil)
        // The endorsements' own ARK is never trusted.
        #expect(await verify(anchor: genoa[1])?.reason == .chain)
    }

    @Test func vcekAsPEMWithItsChainInOneEndorsement() async throws {
        let der = try EvidenceFixtures.bytes("snp/trustee-test-vcek.der")
        let base64 = Data(der).base64EncodedString(options: [.lineLength64Characters, .endLineWithLineFeed])
        let pem = "-----BEGIN CERTIFICATE-----\n\(base64)\n-----END CERTIFICATE-----\n"
        // KDS's cert_chain order puts the ASK and ARK beside the leaf; the leaf is picked, trust still comes from the anchors.
        let bundle = String(decoding: try EvidenceFixtures.bytes(Self.milan), as: UTF8.self)
        let context = VerificationContext(
            time: EvidenceFixtures.time("2024-06-01T00:00:00Z"),
            endorsements: [EvidenceFile(name: "vcek.pem", bytes: Array((bundle + pem).utf8))],
            trustAnchors: [try EvidenceFixtures.file(Self.milan)])
        let report = try EvidenceFixtures.bytes("snp/trustee-test-report.bin")
        let error = await evidenceError { () async throws(EvidenceError) -> VerifiedEvidence in
            try await SNPVerifier().verify(report, context: context)
        }
        #expect(error == nil)
    }

    @Test func invalidVCEKsAreChainErrors() async throws {
        for vcek in ["snp/trustee-test-vcek-invalid-legacy.der", "snp/trustee-test-vcek-invalid-new.der"] {
            let result = try await verify("snp/trustee-test-report.bin", endorsements: [vcek])
            #expect(reason(result) == .chain, "\(vcek)")
        }
    }

    @Test func wrongVCEKForTheReportIsRefused() async throws {
        // A genuine Milan VCEK of another chip: the chain holds, the report signature does not.
        let result = try await verify("snp/trustee-test-report.bin", endorsements: ["snp/go-sev-guest-vcek.der"])
        #expect(reason(result) == .signature)
    }

    @Test func missingVCEKIsACollateralError() async throws {
        let result = try await verify("snp/trustee-test-report.bin", endorsements: [])
        #expect(reason(result) == .collateral)
    }

    /// A collateral source that serves one file for one request and records what was asked.
    final class OneFileCollateral: CollateralSource, @unchecked Sendable {
        let expected: CollateralRequest
        let bytes: [UInt8]
        var asked: [CollateralRequest] = []
        let lock = NSLock()
        init(expected: CollateralRequest, bytes: [UInt8]) {
            self.expected = expected
            self.bytes = bytes
        }
        func collateral(_ request: CollateralRequest, at time: Date) async throws(EvidenceError) -> Collateral {
            lock.withLock { asked.append(request) }
            guard request == expected else { throw EvidenceError(.collateral, "unexpected request \(request)") }
            return Collateral(body: bytes)
        }
        func discard(_ request: CollateralRequest) async {}
    }

    @Test func vcekFromKDSCollateral() async throws {
        let chip = "c38427a30d4c7af9d96f7a15b97269825a64cb76a2352ffd5d18115d89ad473f8e8c0bcd9a5d9286612bad4aadfb4426205a3b9e4fea82301135a170e477524e"
        let request = CollateralRequest(service: .amdKDS, path: "vcek/v1/Milan/\(chip)?blSPL=3&teeSPL=0&snpSPL=8&ucodeSPL=115", item: .certificate)
        let source = OneFileCollateral(expected: request, bytes: try EvidenceFixtures.bytes("snp/trustee-test-vcek.der"))
        var context = try EvidenceFixtures.context(at: "2024-06-01T00:00:00Z", anchors: [Self.milan])
        context.collateral = source
        let evidence = try await SNPVerifier().verify(try EvidenceFixtures.bytes("snp/trustee-test-report.bin"), context: context)
        #expect(evidence.details["product"] == .string("Milan"))
        // Once the report verified, the KDS CRL was asked for too; this source has none, so revocation is unchecked.
        #expect(source.asked == [request, CollateralRequest(service: .amdKDS, path: "vcek/v1/Milan/crl", item: .revocationList)])
        #expect(evidence.claims["revocation_checked"] == .bool(false))
        // Version 3 reports name their product by CPUID: the Genoa report asks for a Genoa VCEK.
        let genoaChip =
            "371c55d6d15cb50f16dc31d39a24e300caaabff4431e841111429b73ec45ad67ea6e687ffae7bf84b54a5d0e6d79b3ef6ff0bd8b4cff94c2163af5c5de8718e8"
        let genoaRequest = CollateralRequest(
            service: .amdKDS, path: "vcek/v1/Genoa/\(genoaChip)?blSPL=10&teeSPL=0&snpSPL=23&ucodeSPL=25", item: .certificate)
        let genoaSource = OneFileCollateral(expected: genoaRequest, bytes: try EvidenceFixtures.bytes("snp/derived-trustee-as-e2e-genoa-vcek.der"))
        var genoaContext = try EvidenceFixtures.context(at: "2026-01-01T00:00:00Z", anchors: Self.allBundles)
        genoaContext.collateral = genoaSource
        let genoa = try await SNPVerifier().verify(try EvidenceFixtures.bytes("snp/derived-trustee-as-e2e-genoa-report.bin"), context: genoaContext)
        #expect(genoa.details["product"] == .string("Genoa"))
    }

    @Test func kdsPathForTurinUsesEightByteHWIDAndFMC() throws {
        let tcb = SNPTCB([1, 2, 3, 4, 0, 0, 0, 9], at: 0, product: .turin)
        #expect(tcb == SNPTCB(bootloader: 2, tee: 3, snp: 4, microcode: 9, fmc: 1))
        #expect(tcb.kdsQuery == "fmcSPL=1&blSPL=2&teeSPL=3&snpSPL=4&ucodeSPL=9")
        #expect(tcb.encoded(for: .turin) == [1, 2, 3, 4, 0, 0, 0, 9])
        let milan = SNPTCB([3, 0, 0, 0, 0, 0, 8, 115], at: 0, product: .milan)
        #expect(milan == SNPTCB(bootloader: 3, tee: 0, snp: 8, microcode: 115))
    }

    @Test func productFromCPUID() {
        #expect(SNPProduct(family: 0x19, model: 0x01) == .milan)
        #expect(SNPProduct(family: 0x19, model: 0x11) == .genoa)
        #expect(SNPProduct(family: 0x19, model: 0xA0) == .genoa)
        #expect(SNPProduct(family: 0x1A, model: 0x02) == .turin)
        #expect(SNPProduct(family: 0x1A, model: 0x12) == nil)
        #expect(SNPProduct(family: 0x17, model: 0x01) == nil)
        #expect(SNPProduct(productName: "Milan-B0") == .milan)
        #expect(SNPProduct(productName: "Genoa") == .genoa)
        #expect(SNPProduct(productName: "Rome") == nil)
    }

    // MARK: VLEK

    @Test func vlekReportVerifiesThroughASVK() async throws {
        let evidence = try await verify(
            "snp/trustee-test-vlek-report.bin", at: "2025-06-01T00:00:00Z", endorsements: ["snp/trustee-test-vlek.der"],
            anchors: [Self.milan]
        ).get()
        #expect(evidence.details["signing_key"] == .string("vlek"))
        #expect(evidence.details["vmpl"] == .int(1))
        #expect(evidence.details["version"] == .int(3))
        #expect(evidence.details["product"] == .string("Milan"))
        #expect(evidence.details["policy"] == .int(0x30000))
        #expect(evidence.debug == false)
        #expect(tcb(evidence, "reported_tcb") == [4, 0, 24, 217])
        #expect(Hex.encode(evidence.measurement).hasPrefix("8922ebbd"))
        #expect(Hex.encode(evidence.measurement).hasSuffix("570d7bf0"))
        #expect(evidence.reportData.map { Hex.encode($0) }?.hasPrefix("819770b7") == true)
        #expect(evidence.reportData.map { Hex.encode($0) }?.hasSuffix("a7bc27ca") == true)
        #expect(evidence.details["chip_id"] == .hex([UInt8](repeating: 0, count: 64)))
        #expect(evidence.details["cpuid_fam_id"] == .int(0x19))
        #expect(evidence.details["vek_product_name"] == .string("Milan"))
    }

    @Test func vlekVerdicts() async throws {
        let lastDay = try await verify(
            "snp/trustee-test-vlek-report.bin", at: "2025-12-09T00:00:00Z", endorsements: ["snp/trustee-test-vlek.der"])
        #expect(reason(lastDay) == nil)
        let expired = try await verify(
            "snp/trustee-test-vlek-report.bin", at: "2025-12-11T00:00:00Z", endorsements: ["snp/trustee-test-vlek.der"])
        #expect(reason(expired) == .expired)
        let genoa = try await verify(
            "snp/trustee-test-vlek-report.bin", at: "2025-06-01T00:00:00Z", endorsements: ["snp/trustee-test-vlek.der"], anchors: [Self.genoa])
        #expect(reason(genoa) == .chain)
        // A VCEK cannot stand in for the VLEK: it is issued by the ASK, not the ASVK.
        let vcek = try await verify(
            "snp/trustee-test-vlek-report.bin", at: "2025-06-01T00:00:00Z", endorsements: ["snp/trustee-test-vcek.der"])
        #expect(reason(vcek) == .chain)
        // ...nor the VLEK for a VCEK-signed report.
        let vlekForVCEK = try await verify(
            "snp/trustee-test-report.bin", at: "2025-06-01T00:00:00Z", endorsements: ["snp/trustee-test-vlek.der"])
        #expect(reason(vlekForVCEK) == .chain)
        // KDS does not serve VLEKs: with no VLEK at hand it is a collateral error even with a collateral source.
        var context = try EvidenceFixtures.context(at: "2025-06-01T00:00:00Z", anchors: Self.allBundles)
        context.collateral = DiskCollateralCache(directory: URL(fileURLWithPath: "/nonexistent-snp-cache"))
        let vlekReport = try EvidenceFixtures.bytes("snp/trustee-test-vlek-report.bin")
        let missing = await evidenceError { () async throws(EvidenceError) -> VerifiedEvidence in
            try await SNPVerifier().verify(vlekReport, context: context)
        }
        #expect(missing?.reason == .collateral)
    }

    // MARK: Trustee JSON (Genoa)

    @Test func trusteeJSONPacksByteExactIntoTheDerivedReport() throws {
        let parsed = try SNPTrusteeEvidence(try EvidenceFixtures.bytes("snp/trustee-as-e2e-evidence.json"))
        #expect(parsed.report == (try EvidenceFixtures.bytes("snp/derived-trustee-as-e2e-genoa-report.bin")))
        #expect(parsed.certificates.count == 1)
        #expect(parsed.certificates.first?.type == "VCEK")
        #expect(parsed.certificates.first?.der == (try EvidenceFixtures.bytes("snp/derived-trustee-as-e2e-genoa-vcek.der")))
    }

    func checkGenoaClaims(_ evidence: VerifiedEvidence) {
        #expect(evidence.details["version"] == .int(3))
        #expect(evidence.details["product"] == .string("Genoa"))
        #expect(evidence.details["vek_product_name"] == .string("Genoa"))
        #expect(evidence.details["cpuid_fam_id"] == .int(0x19))
        #expect(evidence.details["cpuid_mod_id"] == .int(0xA0))
        #expect(evidence.details["cpuid_step"] == .int(2))
        #expect(evidence.details["vmpl"] == .int(0))
        #expect(evidence.details["policy"] == .int(0x30000))
        #expect(evidence.debug == false)
        #expect(tcb(evidence, "reported_tcb") == [10, 0, 23, 25])
        #expect(evidence.details["current_firmware"] == .string("1.55.40"))
        #expect(evidence.details["committed_firmware"] == .string("1.55.40"))
        #expect(Hex.encode(evidence.measurement).hasPrefix("6a6519d7"))
        #expect(Hex.encode(evidence.measurement).hasSuffix("5506e73e"))
        #expect(evidence.reportData.map { Hex.encode($0) }?.hasPrefix("7e732088") == true)
        #expect(evidence.reportData.map { Hex.encode($0) }?.hasSuffix("150cf9b0") == true)
    }

    @Test func trusteeJSONVerifiesWithItsEmbeddedVCEK() async throws {
        let evidence = try await verify("snp/trustee-as-e2e-evidence.json", at: "2026-01-01T00:00:00Z", endorsements: [], anchors: [Self.genoa]).get()
        checkGenoaClaims(evidence)
        let milan = try await verify("snp/trustee-as-e2e-evidence.json", at: "2026-01-01T00:00:00Z", endorsements: [], anchors: [Self.milan])
        #expect(reason(milan) == .chain)
        let early = try await verify("snp/trustee-as-e2e-evidence.json", at: "2025-01-01T00:00:00Z", endorsements: [])
        #expect(reason(early) == .expired)
    }

    @Test func derivedGenoaReportVerifies() async throws {
        let evidence = try await verify(
            "snp/derived-trustee-as-e2e-genoa-report.bin", at: "2026-01-01T00:00:00Z",
            endorsements: ["snp/derived-trustee-as-e2e-genoa-vcek.der"]
        ).get()
        checkGenoaClaims(evidence)
        let noVCEK = try await verify("snp/derived-trustee-as-e2e-genoa-report.bin", at: "2026-01-01T00:00:00Z", endorsements: [])
        #expect(reason(noVCEK) == .collateral)
    }

    // MARK: go-sev-guest

    @Test func goSevGuestReportVerifiesWithDebugAllowed() async throws {
        let evidence = try await verify("snp/go-sev-guest-attestation.bin", endorsements: ["snp/go-sev-guest-vcek.der"], anchors: [Self.milan]).get()
        #expect(evidence.debug == true)
        #expect(evidence.details["debug_allowed"] == .bool(true))
        #expect(evidence.details["policy"] == .int(0xb0000))
        #expect(evidence.details["vmpl"] == .int(0))
        #expect(evidence.details["version"] == .int(2))
        #expect(evidence.details["product"] == .string("Milan"))
        #expect(tcb(evidence, "reported_tcb") == [2, 0, 5, 68])
        #expect(Hex.encode(evidence.measurement).hasPrefix("b07af962"))
        #expect(Hex.encode(evidence.measurement).hasSuffix("e4872b01"))
        #expect(evidence.reportData == [1, 2, 3, 4, 5] + [UInt8](repeating: 0, count: 59))
        let late = try await verify("snp/go-sev-guest-attestation.bin", at: "2029-10-01T00:00:00Z", endorsements: ["snp/go-sev-guest-vcek.der"])
        #expect(reason(late) == .expired)
    }

    // MARK: bundles and VEK extensions

    @Test(arguments: ["milan", "genoa", "turin"])
    func amdBundlesAreASKThenSelfSignedARKThenASVK(_ product: String) throws {
        let certificates = try Certificate.parseAll(try EvidenceFixtures.bytes("snp/trustee-\(product)_ask_ark_asvk.pem"))
        let name = product.prefix(1).uppercased() + product.dropFirst()
        #expect(certificates.map(\.commonName) == ["SEV-\(name)", "ARK-\(name)", "SEV-VLEK-\(name)"])
        let (ask, ark, asvk) = (certificates[0], certificates[1], certificates[2])
        #expect(ark.isSigned(by: ark))
        #expect(ask.isSigned(by: ark))
        #expect(asvk.isSigned(by: ark))
        let time = EvidenceFixtures.time("2024-06-01T00:00:00Z")
        #expect(ark.isValid(at: time) && ask.isValid(at: time) && asvk.isValid(at: time))
        #expect(SNPChain.onlyProduct(in: [try EvidenceFixtures.file("snp/trustee-\(product)_ask_ark_asvk.pem")])?.rawValue == name)
    }

    @Test func hwIDReadsRawAndDERWrappedEncodings() throws {
        let legacy = try SNPVEKExtensions(try Certificate(der: try EvidenceFixtures.bytes("snp/trustee-test-vcek-invalid-legacy.der")))
        let legacyRaw = try Certificate(der: try EvidenceFixtures.bytes("snp/trustee-test-vcek-invalid-legacy.der")).extensionValue(
            SNPVEKExtensions.hwIDOID)
        #expect(legacyRaw?.count == 64)
        #expect(legacy.hwID == legacyRaw)
        #expect([legacy.bootloader, legacy.snp, legacy.microcode] == [3, 10, 169])

        let newCertificate = try Certificate(der: try EvidenceFixtures.bytes("snp/trustee-test-vcek-invalid-new.der"))
        let wrapped = try newCertificate.extensionValue(SNPVEKExtensions.hwIDOID)
        #expect(wrapped?.count == 66)
        let new = try SNPVEKExtensions(newCertificate)
        #expect(new.hwID?.count == 64)
        #expect(new.hwID.map { [0x04, 0x40] + $0 } == wrapped)
        #expect([new.bootloader, new.tee, new.snp, new.microcode] == [0, 0, 0, 30])

        // The valid VCEKs: hwID equals the reports' chip ids.
        let vcek = try SNPVEKExtensions(try Certificate(der: try EvidenceFixtures.bytes("snp/trustee-test-vcek.der")))
        #expect(vcek.hwID == (try SNPReport(try EvidenceFixtures.bytes("snp/trustee-test-report.bin"))).chipID)
        #expect(vcek.productName == "Milan-B0")
        let vlek = try SNPVEKExtensions(try Certificate(der: try EvidenceFixtures.bytes("snp/trustee-test-vlek.der")))
        #expect(vlek.hwID == nil)
        #expect([vlek.bootloader, vlek.tee, vlek.snp, vlek.microcode] == [4, 0, 24, 217])
    }

    @Test func hwIDAndSPLDecodingRefusesOddForms() {
        #expect(throws: EvidenceError.self) { try SNPVEKExtensions.hwID([0x04, 0x41] + [UInt8](repeating: 1, count: 64)) }
        #expect(throws: EvidenceError.self) { try SNPVEKExtensions.hwID([UInt8](repeating: 1, count: 63)) }
        #expect((try? SNPVEKExtensions.hwID([0x04, 0x08, 1, 2, 3, 4, 5, 6, 7, 8])) == [1, 2, 3, 4, 5, 6, 7, 8])
        #expect((try? SNPVEKExtensions.spl([0x02, 0x02, 0x00, 0xD9], what: "x")) == 217)
        #expect((try? SNPVEKExtensions.spl([0x02, 0x01, 0x7F], what: "x")) == 127)
        #expect(throws: EvidenceError.self) { try SNPVEKExtensions.spl([0x02, 0x01, 0x80], what: "x") }
        #expect(throws: EvidenceError.self) { try SNPVEKExtensions.spl([0x02, 0x02, 0x01, 0x00], what: "x") }
        #expect(throws: EvidenceError.self) { try SNPVEKExtensions.spl([0x02, 0x05, 0x01], what: "x") }
        #expect(throws: EvidenceError.self) { try SNPVEKExtensions.spl([], what: "x") }
        #expect(throws: EvidenceError.self) { try SNPVEKExtensions.spl([0x02, 0x81], what: "x") }
    }

    @Test func registeredAsTheSNPVerifier() throws {
        #expect(try EvidenceVerifiers.verifier(for: .snp) is SNPVerifier)
        #expect(EvidenceSchemas.all.contains { $0.typeName == "SNPClaims" })
    }
}
