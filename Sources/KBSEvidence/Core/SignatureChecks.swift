import Crypto
package import KBSClaims

/// The report signature checks of one piece of evidence and nothing else, with every key and signature parsed
/// beforehand: the floor that `kbs evidence bench` sets a whole verification of a known device against.
package enum SignatureChecks {
    /// A closure that runs the evidence's report signature verifications (SNP: the report under the VEK; TDX and SGX:
    /// the quote under its attestation key and the QE report under the PCK; NVIDIA: each device's SPDM measurements
    /// under its leaf) and says whether all verify; nil for kinds it does not cover. The evidence must parse and its
    /// keys be at hand as a verification would find them.
    package static func prepare(
        _ evidence: [UInt8], kind: EvidenceKind, context: VerificationContext
    ) async throws(EvidenceError) -> (() -> Bool)? {
        switch kind {
        case .snp: return try await snp(evidence, context: context)
        case .tdx, .sgx: return try dcap(evidence)
        case .nvidia: return try nvidia(evidence, context: context)
        default: return nil
        }
    }

    private static func snp(_ evidence: [UInt8], context: VerificationContext) async throws(EvidenceError) -> () -> Bool {
        var bytes = evidence
        var embedded: [Certificate] = []
        if SNPTrusteeEvidence.looksLikeJSON(evidence) {
            let parsed = try SNPTrusteeEvidence(evidence)
            bytes = parsed.report
            embedded = parsed.certificates.filter { $0.type == "VCEK" || $0.type == "VLEK" }.compactMap { try? Certificate(der: $0.der) }
        }
        let report = try SNPReport(bytes)
        let vek = try await SNPVerifier().endorsementKey(for: report, embedded: embedded, context: context)
        let check = try p384(report.rawSignature(), message: report.signedBytes, spki: vek.subjectPublicKeyInfo)
        return check
    }

    private static func dcap(_ evidence: [UInt8]) throws(EvidenceError) -> () -> Bool {
        let quote = try DCAPQuote(evidence)
        guard let leaf = try Certificate.parseAll(quote.pckChainPEM).first else { throw EvidenceError(.chain, "no PCK certificate") }
        let quoteCheck = try p256(quote.signature, message: Array(quote.signedRegion), key: quote.attestationKey)
        let qeCheck = try p256(quote.qeReportSignature, message: quote.qeReport, key: leaf.subjectPublicKeyInfo)
        return { quoteCheck() && qeCheck() }
    }

    private static func nvidia(_ evidence: [UInt8], context: VerificationContext) throws(EvidenceError) -> () -> Bool {
        var checks: [() -> Bool] = []
        for device in try NVIDIAEvidenceInput.devices(evidence) {
            let report = try SPDMMeasurementReport(device.report)
            guard let leaf = (device.chain ?? NVIDIAVerifier.endorsedChain(context)).first else {
                throw EvidenceError(.chain, "no NVIDIA device certificate")
            }
            checks.append(try p384(report.signature, message: report.signedBytes, spki: leaf.subjectPublicKeyInfo))
        }
        return { checks.allSatisfy { $0() } }
    }

    private static func p384(_ signature: [UInt8], message: [UInt8], spki: [UInt8]) throws(EvidenceError) -> () -> Bool {
        guard let key = ECDSA.p384Key(spki), let parsed = try? P384.Signing.ECDSASignature(rawRepresentation: signature) else {
            throw EvidenceError(.signature, "not an ECDSA P-384 key and signature")
        }
        return { key.isValidSignature(parsed, for: message) }
    }

    private static func p256(_ signature: [UInt8], message: [UInt8], key bytes: [UInt8]) throws(EvidenceError) -> () -> Bool {
        guard let key = ECDSA.p256Key(bytes), let parsed = try? P256.Signing.ECDSASignature(rawRepresentation: signature) else {
            throw EvidenceError(.signature, "not an ECDSA P-256 key and signature")
        }
        return { key.isValidSignature(parsed, for: message) }
    }
}
