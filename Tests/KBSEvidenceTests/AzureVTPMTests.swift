import Crypto
import Foundation
import KBSClaims
import Testing

@testable import KBSEvidence

/// One Azure vTPM fixture and what SOURCES.md says it holds.
struct AzureVTPMSample: Sendable, CustomTestStringConvertible {
    var file: String
    var kind: EvidenceKind
    var version: Int
    var nonce: [UInt8]
    var pcr0: String
    var pcrDigest: String
    var varDataDigest: String
    var vmUniqueId: String
    /// SNP MEASUREMENT or TD MRTD as the hardware report holds it.
    var measurement: String
    /// The ASK/ARK bundle (SNP) or Intel root (TDX) the hardware report chains to.
    var anchor: String

    var testDescription: String { file }

    static let challenge = Array("challenge".utf8)
    static let time = "2025-06-01T00:00:00Z"
    static let milan = "snp/trustee-milan_ask_ark_asvk.pem"
    static let intelRoot = "tdx/go-tdx-guest-trusted_root.pem"
    static let milanMeasurement = "6a063be9dd79f6371c842e480f8dc3b5c725961344e57130e88c5adf49e8f7f6c79b75a5eb77fc769959f4aeb2f9401e"
    static let tdxMeasurement = "024a32b070383331181619fa387cb4d55d1e38879f989933055ccad5bc2db795d1737b66205949d15469dc8c1ba7ab7b"

    static let all: [AzureVTPMSample] = [
        AzureVTPMSample(
            file: "az-vtpm/trustee-az-snp-vtpm-evidence-v0.json", kind: .azSNPvTPM, version: 0, nonce: challenge,
            pcr0: "e15c44796beabf46abcec7c57e590942041e47497e4ec27571c8b7664f48dced",
            pcrDigest: "cfa3a9112493e8c8741c1d895ced6d05a9ea19a24a02a44a8b02eaf22a1b143f",
            varDataDigest: "af2910341dd8108360e485f1b72494255190b9cdd5ccb44b73b883037cf99f21",
            vmUniqueId: "26F8BC30-774E-4290-8E7A-535F3B672AEE", measurement: milanMeasurement, anchor: milan),
        AzureVTPMSample(
            file: "az-vtpm/trustee-az-snp-vtpm-evidence-v1.json", kind: .azSNPvTPM, version: 1, nonce: challenge,
            pcr0: "e15c44796beabf46abcec7c57e590942041e47497e4ec27571c8b7664f48dced",
            pcrDigest: "cfa3a9112493e8c8741c1d895ced6d05a9ea19a24a02a44a8b02eaf22a1b143f",
            varDataDigest: "af2910341dd8108360e485f1b72494255190b9cdd5ccb44b73b883037cf99f21",
            vmUniqueId: "26F8BC30-774E-4290-8E7A-535F3B672AEE", measurement: milanMeasurement, anchor: milan),
        AzureVTPMSample(
            file: "az-vtpm/trustee-az-snp-vtpm-evidence-v2.json", kind: .azSNPvTPM, version: 2,
            nonce: Hex.decode("982f5c6e45df0ed3f10b6f60b02f0c8390e281300f3805e2279c16168cd6ae9aa398f647caa2338748cd0fd9f5f819ef")!,
            pcr0: "84275b2f4312cd4fc6cbe6b152ad3c3683e513d9f1e23c34fca160c8cca7a6a7",
            pcrDigest: "2304510eb15046d5c940e957b6ac93bc805e3ffcadb38e0a1b95442e552cb004",
            varDataDigest: "cf7cc0731c50f64876804b3943b2bfbd93dba69f5928e3df223e78ff34dd46ee",
            vmUniqueId: "7DF7B373-B947-4AAA-96E5-C358F2A03D20",
            measurement: "5b0ce64ad1c1f6375dbda5f760b98526ca1bcf91b8195091afc28e7b024251d68fe32e05af34048d6607678cd23283ff", anchor: milan),
        AzureVTPMSample(
            file: "az-vtpm/trustee-az-snp-vtpm-evidence-genoa.json", kind: .azSNPvTPM, version: 0,
            nonce: Hex.decode("0218488bae25d2509232bf676f1a66a30d7372add909109b36016ef136f2938ca05475f8b46094de6b64270ea35d950f")!,
            pcr0: "afd689d0bb1c5f36f023fbaf574135f555a28a10c1f6b938d2a25e70c7783338",
            pcrDigest: "2b30a66d715a7801b86d7912b710838bd3bd8d9aeec7c7135563f938cf8b3399",
            varDataDigest: "b581f12e29a2d7d64e5e0b738d563879a78b51c644d0fa0cce02b48699f6bf5f",
            vmUniqueId: "390CBCF5-6C67-4D9B-98EF-C3F1699CC8FC",
            measurement: "f57dc09a507c6ecd82369bffb600f0003792f4d99bc26e985ec0c266fc34faf3706faf814c9e61065768a6ff917c89ae",
            anchor: "snp/trustee-genoa_ask_ark_asvk.pem"),
        AzureVTPMSample(
            file: "az-vtpm/trustee-az-tdx-vtpm-evidence-v0.json", kind: .azTDXvTPM, version: 0, nonce: challenge,
            pcr0: "782b20b10f55cc46e2142cc2145d548698073e5beb82752c8d7f9279f0d8a273",
            pcrDigest: "6c0e21d918212d57872a752bcf358355d508d1d5b8cb632259b898b15f9f658d",
            varDataDigest: "9734504f161d104c74e3165c15f779b06a9bb40dfa71937817d7eee68e593839",
            vmUniqueId: "6332533D-5649-4D02-8AA7-8F64B7C3EE21", measurement: tdxMeasurement, anchor: intelRoot),
        AzureVTPMSample(
            file: "az-vtpm/trustee-az-tdx-vtpm-evidence-v1.json", kind: .azTDXvTPM, version: 1, nonce: challenge,
            pcr0: "782b20b10f55cc46e2142cc2145d548698073e5beb82752c8d7f9279f0d8a273",
            pcrDigest: "6c0e21d918212d57872a752bcf358355d508d1d5b8cb632259b898b15f9f658d",
            varDataDigest: "9734504f161d104c74e3165c15f779b06a9bb40dfa71937817d7eee68e593839",
            vmUniqueId: "6332533D-5649-4D02-8AA7-8F64B7C3EE21", measurement: tdxMeasurement, anchor: intelRoot),
    ]

    var isSNP: Bool { kind == .azSNPvTPM }
    var hardwareKey: String { isSNP ? "snp" : "tdx" }
    var reportType: HCLReport.ReportType { isSNP ? .snp : .tdx }

    func evidence() throws -> AzureVTPMEvidence {
        let bytes = try EvidenceFixtures.bytes(file)
        return isSNP ? try AzureVTPMEvidence.snp(bytes) : try AzureVTPMEvidence.tdx(bytes)
    }

    func context(reportData: [UInt8]?) -> VerificationContext {
        VerificationContext(time: EvidenceFixtures.time(Self.time), expectedReportData: reportData)
    }

    /// The report data the hardware report carries, read straight from the bytes (what the delegate would return):
    /// SNP REPORT_DATA at 0x50, or the TD quote body's REPORTDATA (48-byte v4 header + 520).
    func hardwareReportData(_ evidence: AzureVTPMEvidence, _ hcl: HCLReport) throws -> [UInt8] {
        if isSNP { return Array(hcl.hardwareReport[0x50..<0x90]) }
        let quote = try #require(evidence.tdQuote)
        return Array(quote[568..<632])
    }
}

/// The Azure vTPM checks that need no hardware verifier: the vTPM quote (signature by HCLAkPub, PCR digest, nonce),
/// the HCL report and its runtime claims, and the var_data binding against the report data the hardware report holds.
struct AzureVTPMTests {
    @Test(arguments: AzureVTPMSample.all)
    func quoteAndHCLBindingCheckOut(_ sample: AzureVTPMSample) throws {
        let evidence = try sample.evidence()
        #expect(evidence.version == sample.version)
        let checked = try AzureVTPM.checkQuote(
            evidence, expecting: sample.reportType, context: sample.context(reportData: sample.nonce), kind: sample.kind)
        #expect(checked.quote.attest.extraData == sample.nonce)
        #expect(Hex.encode(checked.hcl.varDataDigest) == sample.varDataDigest)
        let reportData = try sample.hardwareReportData(evidence, checked.hcl)
        try AzureVTPM.checkVarDataBinding(checked.hcl, hardwareReportData: reportData)
        if sample.isSNP {
            #expect(checked.hcl.hardwareReport.count == 1184)
            try AzureSNPvTPMVerifier.checkVMPL(checked.hcl.hardwareReport)
            #expect(Hex.encode(checked.hcl.hardwareReport[0x90..<0xC0]) == sample.measurement)
        } else {
            #expect(checked.hcl.hardwareReport.count == 1024)
            try AzureTDXvTPMVerifier.checkTDReport(checked.hcl.hardwareReport, quoteReportData: reportData)
            #expect(Hex.encode(checked.hcl.hardwareReport[528..<576]) == sample.measurement)
        }

        let details = AzureVTPM.details(checked, hardwareKey: sample.hardwareKey, hardware: nil)
        guard case .list(let pcrs)? = details["pcrs"] else {
            Issue.record("no pcrs")
            return
        }
        #expect(pcrs.count == 24)
        #expect(pcrs.first == .hex(Hex.decode(sample.pcr0)!))
        #expect(details["pcr_digest"] == .hex(Hex.decode(sample.pcrDigest)!))
        #expect(details["nonce"] == .hex(sample.nonce))
        #expect(details["var_data_digest"] == .hex(Hex.decode(sample.varDataDigest)!))
        #expect(details["evidence_version"] == .int(Int64(sample.version)))
        #expect(details["hcl_report_type"] == .int(sample.isSNP ? 2 : 4))
        #expect(details.value(at: "vm_configuration.vm_unique_id") == .string(sample.vmUniqueId))
        #expect(details.value(at: "vm_configuration.secure_boot") == .bool(true))
        #expect(details.value(at: "vm_configuration.tpm_enabled") == .bool(true))
        #expect(details.value(at: "vm_configuration.console_enabled") == .bool(true))
        #expect(details["ak_digest"] == .hex(Array(SHA256.hash(data: checked.runtime.akPublic))))
        guard case .hex(let userData)? = details["user_data"] else {
            Issue.record("no user_data")
            return
        }
        #expect(userData.count == 64)
        if sample.version == 2 { #expect(Array(userData.prefix(48)) == sample.nonce) }

        let schema = sample.isSNP ? AzureSNPvTPMVerifier().schema : AzureTDXvTPMVerifier().schema
        #expect(tpmSchemaViolations(details, schema.record) == [])
    }

    /// The nonce is exact: "challenge" with a trailing zero, or cut short, is not it.
    @Test(arguments: AzureVTPMSample.all)
    func anotherNonceIsABindingError(_ sample: AzureVTPMSample) throws {
        let evidence = try sample.evidence()
        for nonce in [sample.nonce + [0], Array(sample.nonce.dropLast()), Array("challengf".utf8)] {
            let error = #expect(throws: EvidenceError.self) {
                try AzureVTPM.checkQuote(evidence, expecting: sample.reportType, context: sample.context(reportData: nonce), kind: sample.kind)
            }
            #expect(error?.reason == .binding)
        }
    }

    /// The whole end-to-end refusal happens before the hardware verifier runs, so it holds in any build.
    @Test(arguments: AzureVTPMSample.all)
    func verifierRefusesAnotherNonce(_ sample: AzureVTPMSample) async throws {
        let bytes = try EvidenceFixtures.bytes(sample.file)
        let verifier: any EvidenceVerifier = sample.isSNP ? AzureSNPvTPMVerifier() : AzureTDXvTPMVerifier()
        let error = await evidenceError { () async throws(EvidenceError) in
            try await verifier.verify(bytes, context: sample.context(reportData: Array("other".utf8)))
        }
        #expect(error?.reason == .binding)
    }

    /// When the hardware verifier refuses (here, one that reports no verifier for the kind, as a build without it would),
    /// everything up to the delegation passes and the delegation's refusal is what the caller gets, unchanged.
    @Test(arguments: AzureVTPMSample.all)
    func aRefusingHardwareVerifierIsTheOnlyRefusal(_ sample: AzureVTPMSample) async throws {
        let bytes = try EvidenceFixtures.bytes(sample.file)
        let missing: AzureVTPM.HardwareVerifier = { _, _ throws(EvidenceError) in
            throw EvidenceError(.unsupported, "no verifier for `\(sample.isSNP ? "snp" : "tdx")` in this build")
        }
        let verifier: any EvidenceVerifier =
            sample.isSNP ? AzureSNPvTPMVerifier(hardwareVerifier: missing) : AzureTDXvTPMVerifier(hardwareVerifier: missing)
        let error = await evidenceError { () async throws(EvidenceError) in
            try await verifier.verify(bytes, context: sample.context(reportData: sample.nonce))
        }
        #expect(error?.reason == .unsupported)
        #expect(error?.message.contains(sample.isSNP ? "`snp`" : "`tdx`") == true)
    }

    /// The whole verification with a stand-in hardware verifier that returns what the real one reads from the
    /// hardware report: exercises the hand-over (report bytes, VCEK, context) and the claims without `snp`/`tdx`.
    @Test(arguments: AzureVTPMSample.all)
    func composesWithTheHardwareVerifier(_ sample: AzureVTPMSample) async throws {
        let bytes = try EvidenceFixtures.bytes(sample.file)
        let evidence = try sample.evidence()
        let hcl = try HCLReport(evidence.hclReport)
        let reportData = try sample.hardwareReportData(evidence, hcl)
        let context = try EvidenceFixtures.context(
            at: AzureVTPMSample.time, endorsements: ["az-vtpm/trustee-az-snp-vtpm-vcek.pem"], anchors: [sample.anchor], reportData: sample.nonce)
        var hardwareDetails = ClaimRecord()
        hardwareDetails["stand_in"] = .bool(true)
        let standIn: AzureVTPM.HardwareVerifier = { [hardwareDetails] report, sub throws(EvidenceError) in
            #expect(sub.time == context.time)
            #expect(sub.expectedReportData == nil)
            #expect(sub.trustAnchors.map(\.name) == [sample.anchor])
            if sample.isSNP {
                #expect(report == hcl.hardwareReport)
                #expect(sub.endorsements.map(\.name) == ["vcek (from the evidence)", "az-vtpm/trustee-az-snp-vtpm-vcek.pem"])
                #expect(sub.endorsements.first?.bytes == evidence.vcek)
                let vcekStart: [UInt8] = sample.version == 0 ? Array("-----BEGIN CERTIFICATE-----".utf8) : [0x30, 0x82]
                #expect(sub.endorsements.first.map { Array($0.bytes.prefix(vcekStart.count)) } == vcekStart)
            } else {
                #expect(report == evidence.tdQuote)
                #expect(sub.endorsements.map(\.name) == ["az-vtpm/trustee-az-snp-vtpm-vcek.pem"])
            }
            return VerifiedEvidence(
                kind: sample.isSNP ? .snp : .tdx, measurement: Hex.decode(sample.measurement) ?? [], debug: false, tcbSVN: 7,
                reportData: reportData, hostData: [1, 2], tcbStatus: "UpToDate", details: hardwareDetails)
        }
        let verifier: any EvidenceVerifier =
            sample.isSNP ? AzureSNPvTPMVerifier(hardwareVerifier: standIn) : AzureTDXvTPMVerifier(hardwareVerifier: standIn)
        let verified = try await verifier.verify(bytes, context: context)
        #expect(verified.kind == sample.kind)
        #expect(Hex.encode(verified.measurement) == sample.measurement)
        #expect(verified.tcbSVN == 7)
        #expect(verified.debug == false)
        #expect(verified.hostData == [1, 2])
        #expect(verified.tcbStatus == "UpToDate")
        #expect(verified.reportData == sample.nonce)
        #expect(verified.details[sample.hardwareKey] == .record(hardwareDetails))
        #expect(verified.details.value(at: "vm_configuration.vm_unique_id") == .string(sample.vmUniqueId))
        var ownDetails = verified.details
        ownDetails[sample.hardwareKey] = nil
        #expect(tpmSchemaViolations(ownDetails, verifier.schema.record) == [])
        #expect(verifier.schema.record.field(named: sample.hardwareKey)?.isOptional == true)

        // Report data that is not SHA-256(var_data) binds nothing; a hardware refusal is passed on as it is.
        var wrong = reportData
        wrong[3] ^= 1
        let unbound: AzureVTPM.HardwareVerifier = { [wrong] _, _ throws(EvidenceError) in
            VerifiedEvidence(kind: .snp, measurement: [], debug: false, tcbSVN: 0, reportData: wrong, details: ClaimRecord())
        }
        let refusing: AzureVTPM.HardwareVerifier = { _, _ throws(EvidenceError) in throw EvidenceError(.tcb, "stand-in refusal") }
        for (hardware, reason) in [(unbound, EvidenceErrorReason.binding), (refusing, .tcb)] {
            let other: any EvidenceVerifier =
                sample.isSNP ? AzureSNPvTPMVerifier(hardwareVerifier: hardware) : AzureTDXvTPMVerifier(hardwareVerifier: hardware)
            let error = await evidenceError { () async throws(EvidenceError) in try await other.verify(bytes, context: context) }
            #expect(error?.reason == reason)
        }
    }

    /// The vTPM quote's signed region is its whole TPMS_ATTEST `message`; flips there or in the signature are refused.
    @Test(arguments: AzureVTPMSample.all)
    func byteFlipsInTheQuoteAreRefused(_ sample: AzureVTPMSample) throws {
        let evidence = try sample.evidence()
        let context = sample.context(reportData: nil)
        for position in Array(stride(from: 0, to: evidence.quote.message.count, by: 3)) + [evidence.quote.message.count - 1] {
            var changed = evidence
            changed.quote.message[position] ^= 0x01
            #expect(throws: EvidenceError.self, "message byte \(position)") {
                try AzureVTPM.checkQuote(changed, expecting: sample.reportType, context: context, kind: sample.kind)
            }
        }
        for position in Array(stride(from: 0, to: evidence.quote.signature.count, by: 5)) + [evidence.quote.signature.count - 1] {
            var changed = evidence
            changed.quote.signature[position] ^= 0x80
            let error = #expect(throws: EvidenceError.self, "signature byte \(position)") {
                try AzureVTPM.checkQuote(changed, expecting: sample.reportType, context: context, kind: sample.kind)
            }
            #expect(error?.reason == .signature)
        }
    }

    @Test(arguments: AzureVTPMSample.all)
    func aChangedPCRIsAMeasurementError(_ sample: AzureVTPMSample) throws {
        var evidence = try sample.evidence()
        evidence.quote.pcrs[8][0] ^= 0x01
        let error = #expect(throws: EvidenceError.self) {
            try AzureVTPM.checkQuote(evidence, expecting: sample.reportType, context: sample.context(reportData: nil), kind: sample.kind)
        }
        #expect(error?.reason == .measurement)
    }

    /// var_data is bound by its hash: a changed vmUniqueId still parses, and then no longer matches the report data;
    /// nor does report data with one bit changed, or none at all.
    @Test(arguments: AzureVTPMSample.all)
    func varDataBindingRefusesChanges(_ sample: AzureVTPMSample) throws {
        let evidence = try sample.evidence()
        let hcl = try HCLReport(evidence.hclReport)
        let reportData = try sample.hardwareReportData(evidence, hcl)

        var changed = evidence
        let marker = Array("\"vmUniqueId\":\"".utf8)
        let start = try #require(changed.hclReport.firstRange(of: marker)).upperBound
        changed.hclReport[start] = changed.hclReport[start] == UInt8(ascii: "0") ? UInt8(ascii: "1") : UInt8(ascii: "0")
        let checked = try AzureVTPM.checkQuote(
            changed, expecting: sample.reportType, context: sample.context(reportData: sample.nonce), kind: sample.kind)
        let error = #expect(throws: EvidenceError.self) { try AzureVTPM.checkVarDataBinding(checked.hcl, hardwareReportData: reportData) }
        #expect(error?.reason == .binding)

        for position in [0, 13, 31] {
            var other = reportData
            other[position] ^= 0x04
            let flipped = #expect(throws: EvidenceError.self) { try AzureVTPM.checkVarDataBinding(hcl, hardwareReportData: other) }
            #expect(flipped?.reason == .binding)
        }
        let missing = #expect(throws: EvidenceError.self) { try AzureVTPM.checkVarDataBinding(hcl, hardwareReportData: nil) }
        #expect(missing?.reason == .binding)
        let short = #expect(throws: EvidenceError.self) { try AzureVTPM.checkVarDataBinding(hcl, hardwareReportData: Array(reportData.prefix(16))) }
        #expect(short?.reason == .binding)

        // Flips across the whole var_data are refused: as JSON that no longer parses or by the binding.
        for position in stride(from: HCLReport.varDataOffset, to: HCLReport.varDataOffset + hcl.varData.count, by: 37) {
            var flipped = evidence
            flipped.hclReport[position] ^= 0x01
            #expect(throws: EvidenceError.self, "var_data byte \(position)") {
                let checked = try AzureVTPM.checkQuote(
                    flipped, expecting: sample.reportType, context: sample.context(reportData: nil), kind: sample.kind)
                try AzureVTPM.checkVarDataBinding(checked.hcl, hardwareReportData: reportData)
            }
        }
    }

    /// Random single-byte changes anywhere in the HCL report and the quote parse or fail with an `EvidenceError`;
    /// none traps. Changes inside the authenticated parts never pass every check.
    @Test(arguments: AzureVTPMSample.all)
    func randomDamageNeverTraps(_ sample: AzureVTPMSample) throws {
        let evidence = try sample.evidence()
        let hcl = try HCLReport(evidence.hclReport)
        let reportData = try sample.hardwareReportData(evidence, hcl)
        let varData = HCLReport.varDataOffset..<HCLReport.varDataOffset + hcl.varData.count
        var state: UInt64 = 0x9E37_79B9_7F4A_7C15
        func next(_ bound: Int) -> Int {
            state = state &* 6_364_136_223_846_793_005 &+ 1_442_695_040_888_963_407
            return Int((state >> 33) % UInt64(bound))
        }
        for _ in 0..<400 {
            var changed = evidence
            let inHCL = next(2) == 0
            let position: Int
            if inHCL {
                position = next(changed.hclReport.count)
                changed.hclReport[position] &+= UInt8(1 + next(255))
            } else {
                position = next(changed.quote.message.count)
                changed.quote.message[position] &+= UInt8(1 + next(255))
            }
            let passed: Bool
            do {
                let checked = try AzureVTPM.checkQuote(
                    changed, expecting: sample.reportType, context: sample.context(reportData: sample.nonce), kind: sample.kind)
                try AzureVTPM.checkVarDataBinding(checked.hcl, hardwareReportData: reportData)
                passed = true
            } catch {
                passed = false
            }
            if !inHCL || varData.contains(position) { #expect(!passed, "\(inHCL ? "HCL" : "message") byte \(position) passed") }
        }
        // Truncated documents of every kind of length are refused as malformed.
        let bytes = try EvidenceFixtures.bytes(sample.file)
        for _ in 0..<60 {
            let prefix = Array(bytes.prefix(next(bytes.count)))
            #expect(throws: EvidenceError.self) { sample.isSNP ? try AzureVTPMEvidence.snp(prefix) : try AzureVTPMEvidence.tdx(prefix) }
        }
    }

    @Test func v2UserDataMustStartWithTheNonce() throws {
        let nonce = AzureVTPMSample.all[2].nonce
        try AzureVTPM.checkUserData(nonce + [UInt8](repeating: 0, count: 16), nonce: nonce)
        for userData in [nil, [UInt8](repeating: 0, count: 64), Array(nonce.prefix(40)), [0xFF] + nonce] as [[UInt8]?] {
            let error = #expect(throws: EvidenceError.self) { try AzureVTPM.checkUserData(userData, nonce: nonce) }
            #expect(error?.reason == .binding)
        }
        // v0/v1 samples carry zero user-data; only v2 evidence is held to it.
        var v1 = try AzureVTPMSample.all[1].evidence()
        v1.version = 2
        let error = #expect(throws: EvidenceError.self) {
            try AzureVTPM.checkQuote(v1, expecting: .snp, context: AzureVTPMSample.all[1].context(reportData: nil), kind: .azSNPvTPM)
        }
        #expect(error?.reason == .binding)
    }

    @Test func snpReportFromAnotherVMPLBindsNothing() throws {
        let hcl = try HCLReport(try AzureVTPMSample.all[1].evidence().hclReport)
        var report = hcl.hardwareReport
        report[0x30] = 1
        let error = #expect(throws: EvidenceError.self) { try AzureSNPvTPMVerifier.checkVMPL(report) }
        #expect(error?.reason == .binding)
    }

    @Test func tdReportMustAgreeWithTheTDQuote() throws {
        let sample = AzureVTPMSample.all[5]
        let evidence = try sample.evidence()
        let hcl = try HCLReport(evidence.hclReport)
        var other = try sample.hardwareReportData(evidence, hcl)
        other[40] ^= 1
        let error = #expect(throws: EvidenceError.self) { try AzureTDXvTPMVerifier.checkTDReport(hcl.hardwareReport, quoteReportData: other) }
        #expect(error?.reason == .binding)
    }

    @Test func hclParserRefusesDamage() throws {
        let hcl = try AzureVTPMSample.all[1].evidence().hclReport
        #expect(hcl.count == 2600)
        let parsed = try HCLReport(hcl)
        #expect(parsed.reportType == .snp)
        #expect(parsed.version == 1)
        #expect(parsed.varData.count == 1110)
        for count in [0, 3, 4, 0x20, 0x4BF, 0x4C0, 0x4D3, 0x4D4, 0x4D4 + 1109] {
            let error = #expect(throws: EvidenceError.self) { try HCLReport(Array(hcl.prefix(count))) }
            #expect(error?.reason == .malformed, "\(count) bytes")
        }
        func changed(_ offset: Int, _ value: UInt8) -> [UInt8] {
            var copy = hcl
            copy[offset] = value
            return copy
        }
        #expect((#expect(throws: EvidenceError.self) { try HCLReport(changed(0, 0x41)) })?.reason == .malformed)
        #expect((#expect(throws: EvidenceError.self) { try HCLReport(changed(0x4C8, 3)) })?.reason == .unsupported)
        #expect((#expect(throws: EvidenceError.self) { try HCLReport(changed(0x4CC, 2)) })?.reason == .unsupported)
        #expect((#expect(throws: EvidenceError.self) { try HCLReport(changed(0x4C0, 0x6B)) })?.reason == .malformed)
        #expect((#expect(throws: EvidenceError.self) { try HCLReport(changed(0x4D3, 0x10)) })?.reason == .malformed)
        #expect((#expect(throws: EvidenceError.self) { try HCLReport(hcl + [UInt8](repeating: 0, count: 20000)) })?.reason == .malformed)
        // The SNP kind refuses an HCL report holding a TD report.
        let tdx = try AzureVTPMSample.all[4].evidence()
        let wrong = #expect(throws: EvidenceError.self) {
            try AzureVTPM.checkQuote(tdx, expecting: .snp, context: AzureVTPMSample.all[4].context(reportData: nil), kind: .azSNPvTPM)
        }
        #expect(wrong?.reason == .unsupported)
    }

    @Test func runtimeClaimsWithoutAnAttestationKeyAreRefused() throws {
        let noAK = Array(#"{"keys":[{"kid":"HCLEkPub","kty":"RSA","e":"AQAB","n":"AAAA"}]}"#.utf8)
        #expect((#expect(throws: EvidenceError.self) { try AzureRuntimeClaims(noAK) })?.reason == .malformed)
        let ecAK = Array(#"{"keys":[{"kid":"HCLAkPub","kty":"EC","crv":"P-256"}]}"#.utf8)
        #expect((#expect(throws: EvidenceError.self) { try AzureRuntimeClaims(ecAK) })?.reason == .unsupported)
        let smallAK = Array(#"{"keys":[{"kid":"HCLAkPub","kty":"RSA","e":"AQAB","n":"AQAB"}]}"#.utf8)
        #expect((#expect(throws: EvidenceError.self) { try AzureRuntimeClaims(smallAK) })?.reason == .malformed)
        for text in ["", "[]", "{}", #"{"keys":{}}"#, "{\"keys\":[1,"] {
            #expect((#expect(throws: EvidenceError.self) { try AzureRuntimeClaims(Array(text.utf8)) })?.reason == .malformed, "\(text)")
        }
    }

    @Test func garbageTruncatedAndWrongKindAreRefused() async throws {
        for kind in [EvidenceKind.azSNPvTPM, .azTDXvTPM] {
            let verifier: any EvidenceVerifier = kind == .azSNPvTPM ? AzureSNPvTPMVerifier() : AzureTDXvTPMVerifier()
            var own = try EvidenceFixtures.bytes(kind == .azSNPvTPM ? AzureVTPMSample.all[1].file : AzureVTPMSample.all[5].file)
            // The file ends in a newline: dropping only that would leave whole, valid evidence.
            while let last = own.last, last == 0x0A || last == 0x20 { own.removeLast() }
            var inputs: [[UInt8]] = [[], Array("garbage".utf8), Array("{}".utf8), Array("null".utf8), [0x48, 0x43, 0x4C, 0x41]]
            inputs += [1, 100, own.count / 3, own.count - 1].map { Array(own.prefix($0)) }
            inputs.append(try EvidenceFixtures.bytes("other/trustee-tpm_evidence.json"))
            inputs.append(try EvidenceFixtures.bytes("snp/trustee-test-report.bin"))
            inputs.append(Array(#"{"version":7,"tpm_quote":{},"hcl_report":"","vcek":"","td_quote":""}"#.utf8))
            inputs.append(Array(#"{"version":"1"}"#.utf8))
            for sample in AzureVTPMSample.all where sample.kind != kind { inputs.append(try EvidenceFixtures.bytes(sample.file)) }
            for input in inputs {
                let error = await evidenceError { () async throws(EvidenceError) in
                    try await verifier.verify(input, context: VerificationContext(time: EvidenceFixtures.time(AzureVTPMSample.time)))
                }
                #expect(
                    error?.reason == .malformed || error?.reason == .unsupported,
                    "\(kind.rawValue): \(input.count) bytes: \(String(describing: error))")
            }
        }
    }

    @Test func schemasAreRegistered() {
        let names = EvidenceSchemas.all.map(\.typeName)
        #expect(names.contains("AzSNPvTPMClaims"))
        #expect(names.contains("AzTDXvTPMClaims"))
        let attestation = EvidenceSchemas.all[0].record
        #expect(attestation.field(named: "az_snp_vtpm") != nil)
        #expect(attestation.field(named: "az_tdx_vtpm") != nil)
        #expect(attestation.field(named: "tpm") != nil)
    }
}
