import Foundation
import KBSClaims
import Testing

@testable import KBSEvidence

/// The Azure vTPM kinds end to end, hardware report included: these run once the `snp` and `tdx` verifiers are in
/// the build (the Azure verifiers delegate the SNP report and the TD quote to them).
struct AzureVTPMEndToEndTests {
    static var hasSNP: Bool { (try? EvidenceVerifiers.verifier(for: .snp)) != nil }
    static var hasTDX: Bool { (try? EvidenceVerifiers.verifier(for: .tdx)) != nil }
    static let snpSamples = AzureVTPMSample.all.filter(\.isSNP)
    static let tdxSamples = AzureVTPMSample.all.filter { !$0.isSNP }

    static func context(_ sample: AzureVTPMSample, reportData: [UInt8]?, anchor: String? = nil) throws -> VerificationContext {
        try EvidenceFixtures.context(at: AzureVTPMSample.time, anchors: [anchor ?? sample.anchor], reportData: reportData)
    }

    static func verify(_ bytes: [UInt8], _ sample: AzureVTPMSample, context: VerificationContext) async throws(EvidenceError) -> VerifiedEvidence {
        try await EvidenceVerifiers.verify(bytes, kind: sample.kind, context: context)
    }

    /// SOURCES.md: v0, v1, v2 and genoa are VALID: quote, PCRs, nonce, var_data binding, VCEK ← ASK ← ARK, VMPL 0.
    @Test(.enabled(if: hasSNP), arguments: snpSamples)
    func snpSampleVerifies(_ sample: AzureVTPMSample) async throws {
        let verified = try await Self.verify(
            try EvidenceFixtures.bytes(sample.file), sample, context: try Self.context(sample, reportData: sample.nonce))
        #expect(verified.kind == .azSNPvTPM)
        #expect(Hex.encode(verified.measurement) == sample.measurement)
        #expect(verified.debug == false)
        #expect(verified.reportData == sample.nonce)
        try Self.expectCommonClaims(verified, sample)
    }

    /// SOURCES.md: az-tdx v0 and v1 are VALID-SIG: quote, PCRs, nonce, TD quote signatures and PCK chain, binding;
    /// no TCB collateral for FMSPC 00806f050000, so no TCB status.
    @Test(.enabled(if: hasTDX), arguments: tdxSamples)
    func tdxSampleVerifiesSignaturesAndBinding(_ sample: AzureVTPMSample) async throws {
        let verified = try await Self.verify(
            try EvidenceFixtures.bytes(sample.file), sample, context: try Self.context(sample, reportData: sample.nonce))
        #expect(verified.kind == .azTDXvTPM)
        #expect(Hex.encode(verified.measurement) == sample.measurement)
        #expect(verified.debug == false)
        #expect(verified.reportData == sample.nonce)
        try Self.expectCommonClaims(verified, sample)
    }

    static func expectCommonClaims(_ verified: VerifiedEvidence, _ sample: AzureVTPMSample) throws {
        let details = verified.details
        guard case .list(let pcrs)? = details["pcrs"] else {
            Issue.record("no pcrs")
            return
        }
        #expect(pcrs.count == 24)
        #expect(pcrs.first == .hex(Hex.decode(sample.pcr0)!))
        #expect(details["nonce"] == .hex(sample.nonce))
        #expect(details["evidence_version"] == .int(Int64(sample.version)))
        #expect(details.value(at: "vm_configuration.vm_unique_id") == .string(sample.vmUniqueId))
        guard case .record(let hardware)? = details[sample.hardwareKey] else {
            Issue.record("no \(sample.hardwareKey) record")
            return
        }
        #expect(!hardware.fields.isEmpty)
        let verifier = try EvidenceVerifiers.verifier(for: sample.kind)
        #expect(tpmSchemaViolations(details, verifier.schema.record) == [])
        #expect(verified.claims[sample.kind.claimKey] == .record(details))
    }

    @Test(.enabled(if: hasSNP)) func snpSampleWithTheWrongRootIsRefused() async throws {
        let sample = Self.snpSamples[1]
        let bytes = try EvidenceFixtures.bytes(sample.file)
        let context = try Self.context(sample, reportData: sample.nonce, anchor: "snp/trustee-genoa_ask_ark_asvk.pem")
        let error = await evidenceError { () async throws(EvidenceError) in try await Self.verify(bytes, sample, context: context) }
        #expect(error != nil)
    }

    /// Flips inside the SNP report's signed region (HCL bytes 0x20 … 0x2BF) are refused, as are flips inside the
    /// TD quote's header and body (signed by the QE's attestation key).
    @Test(.enabled(if: hasSNP && hasTDX), arguments: [AzureVTPMSample.all[1], AzureVTPMSample.all[5]])
    func byteFlipsInTheHardwareReportAreRefused(_ sample: AzureVTPMSample) async throws {
        let bytes = try EvidenceFixtures.bytes(sample.file)
        let root = try #require(JSONSerialization.jsonObject(with: Data(bytes)) as? [String: Any])
        let member = sample.isSNP ? "hcl_report" : "td_quote"
        let text = try #require(root[member] as? String)
        let original = try #require(Base64URL.decodeLenient(text))
        let positions = sample.isSNP ? Array(stride(from: 0x20, to: 0x20 + 0x2A0, by: 23)) : Array(stride(from: 0, to: 632, by: 17))
        let context = try Self.context(sample, reportData: sample.nonce)
        for position in positions {
            var changed = original
            changed[position] ^= 0x01
            var copy = root
            copy[member] = Data(changed).base64EncodedString()
            let evidence = Array(try JSONSerialization.data(withJSONObject: copy))
            let error = await evidenceError { () async throws(EvidenceError) in try await Self.verify(evidence, sample, context: context) }
            #expect(error != nil, "\(member) byte \(position) verified")
        }
    }

    /// The nonce check happens whatever the hardware verifier says.
    @Test(.enabled(if: hasSNP), arguments: snpSamples)
    func snpSampleWithAnotherNonceIsABindingError(_ sample: AzureVTPMSample) async throws {
        let bytes = try EvidenceFixtures.bytes(sample.file)
        let context = try Self.context(sample, reportData: Array("another".utf8))
        let error = await evidenceError { () async throws(EvidenceError) in try await Self.verify(bytes, sample, context: context) }
        #expect(error?.reason == .binding)
    }
}
