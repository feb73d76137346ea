import Foundation
import KBSClaims
import KBSEvidence
import Testing

/// Shared inputs of the NVIDIA suites: pinned time, anchors, and ways to run the verifier.
enum NVIDIAFixtures {
    /// An instant where every device certificate (valid 2020/2023 … 9999) and every RIM signing chain except the
    /// deliberately expired one is valid; the production VBIOS RIM's leaf ends 2025-06-22.
    static let at = "2025-06-01T00:00:00Z"
    static let deviceRoot = "nvidia-gpu/trustee-nvidia_device_root.pem"
    static let rimRoot = "nvidia-gpu/nvtrust-verifier_RIM_root.pem"
    static let anchors = [deviceRoot, rimRoot]
    static let verifier = NVIDIAVerifier()

    /// (report, chain, bytes in the report after the signature) for every valid sample.
    static let validPairs: [(String, String, Int)] = [
        ("trustee-hopperAttestationReport.txt", "trustee-hopper_cert_chain_case1.txt", 0),
        ("trustee-hopper_coco_report1.txt", "trustee-hopper_coco_certs1.txt", 1),
        ("attestation-sdk-hopperAttestationReport.txt", "attestation-sdk-hopperCertChain.txt", 0),
        ("attestation-sdk-hopperAttestationReportExpired.txt", "attestation-sdk-hopperCertChainExpired.txt", 0),
        ("attestation-sdk-blackwellAttestationReport.txt", "attestation-sdk-blackwellCertChain.txt", 0),
        ("attestation-sdk-switchAttestationReport.txt", "attestation-sdk-switchCertChain.txt", 0),
    ]

    static func path(_ name: String) -> String { "nvidia-gpu/" + name }

    static func context(
        chain: String? = nil, rims: [String] = [], reportData: [UInt8]? = nil, at time: String = at
    ) throws -> VerificationContext {
        try EvidenceFixtures.context(
            at: time, endorsements: (chain.map { [path($0)] } ?? []) + rims.map(path), anchors: anchors, reportData: reportData)
    }

    /// The report bytes decoded from a hex-text fixture.
    static func reportBytes(_ name: String) throws -> [UInt8] {
        let text = String(decoding: try EvidenceFixtures.bytes(path(name)), as: UTF8.self).filter { !$0.isWhitespace }
        return try #require(Hex.decode(text))
    }

    static func verify(
        _ evidence: [UInt8], chain: String? = nil, rims: [String] = [], reportData: [UInt8]? = nil, at time: String = at
    ) async throws -> Result<VerifiedEvidence, EvidenceError> {
        let context = try context(chain: chain, rims: rims, reportData: reportData, at: time)
        do { return .success(try await verifier.verify(evidence, context: context)) } catch { return .failure(error) }
    }

    static func verify(
        report: String, chain: String? = nil, rims: [String] = [], reportData: [UInt8]? = nil, at time: String = at
    ) async throws -> Result<VerifiedEvidence, EvidenceError> {
        try await verify(try EvidenceFixtures.bytes(path(report)), chain: chain, rims: rims, reportData: reportData, at: time)
    }
}

extension Result where Success == VerifiedEvidence, Failure == EvidenceError {
    /// The verified evidence, or a recorded issue.
    func valid(sourceLocation: SourceLocation = #_sourceLocation) throws -> VerifiedEvidence {
        switch self {
        case .success(let evidence): return evidence
        case .failure(let error):
            Issue.record("refused: \(error)", sourceLocation: sourceLocation)
            throw error
        }
    }

    /// The refusal reason, nil when it verified.
    var reason: EvidenceErrorReason? {
        if case .failure(let error) = self { return error.reason }
        return nil
    }

    var message: String {
        if case .failure(let error) = self { return error.message }
        return ""
    }
}

extension VerifiedEvidence {
    /// The records of `details.devices`.
    var devices: [ClaimRecord] {
        guard case .list(let list)? = details["devices"] else { return [] }
        return list.compactMap { if case .record(let record) = $0 { record } else { nil } }
    }

    var firstDevice: ClaimRecord { devices.first ?? ClaimRecord() }
}
