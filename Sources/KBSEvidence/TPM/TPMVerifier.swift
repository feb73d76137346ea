import Crypto
import CryptoExtras
package import KBSClaims

/// Verifies plain TPM 2.0 quotes in Trustee's `tpm` evidence format.
///
/// Evidence: `{"ak_public": <base64 DER SubjectPublicKeyInfo>, "tpm_quote": {"message": <base64 TPMS_ATTEST>,
/// "signature": <base64 TPMT_SIGNATURE>, "pcrs": [<64 hex digits>, …]}}`. The signature must be RSASSA-PKCS1-v1_5
/// over SHA-256 by the AK, the PCR values must hash to the quoted `pcrDigest`, and `extraData` must equal the
/// expected report data exactly.
///
/// No certificate vouches for the AK, so a passing quote proves only that *some* key signed it, and anyone can make an
/// RSA key. The AK must therefore be pinned: one of the public keys among the trust anchors (PEM `PUBLIC KEY` or DER
/// SubjectPublicKeyInfo), else `chain`. Only in simulator mode (``VerificationContext/allowSimulator``) does an
/// unpinned AK verify, marked `ak_pinned: false`, which no tier rule above tier 1 accepts. The claims also carry
/// `ak_public` and `ak_digest` for a policy or reference values to check.
package struct TPMVerifier: EvidenceVerifier {
    package let kind = EvidenceKind.tpm

    /// Creates the verifier.
    package init() {}

    package var schema: ClaimSchema {
        ClaimSchema(
            typeName: "TPMClaims", summary: "TPM 2.0 quote signed by an attestation key",
            fields: TPMClaims.quoteFields + [
                .init(
                    "ak_pinned", .bool,
                    doc: "whether the AK matched a public key among the trust anchors; false only in simulator mode (else refused)")
            ])
    }

    package func verify(_ evidence: [UInt8], context: VerificationContext) async throws(EvidenceError) -> VerifiedEvidence {
        let (quote, akDER) = try Self.parse(evidence)
        let key = try TPMSignature.rsaKey(spki: akDER, what: "ak_public")
        let akPublic = Array(key.derRepresentation)
        let pinned = try Self.checkPinnedKey(akPublic, anchors: context.trustAnchors)
        // No EK or AK certificate is checked, so without a pin nothing ties this key to a TPM: a self-made key would
        // pass every other check.
        guard pinned || context.allowSimulator else {
            throw EvidenceError(
                .chain,
                "the attestation key (SHA-256 \(Hex.encode(Array(SHA256.hash(data: akPublic))))) is not pinned: give its public key as a trust anchor"
            )
        }
        let attest = try quote.verify(key: key, what: "TPM quote")
        try context.checkReportData(attest.extraData, kind: .tpm)
        let checked = TPMCheckedQuote(attest: attest, pcrs: quote.pcrs, akPublic: akPublic)
        var details = TPMClaims.record(checked)
        details["ak_pinned"] = .bool(pinned)
        return VerifiedEvidence(
            kind: .tpm, measurement: attest.pcrDigest, debug: false, tcbSVN: 0, reportData: attest.extraData, details: details)
    }

    /// The quote (with the raw RSA signature taken out of its `TPMT_SIGNATURE`) and the AK's DER.
    static func parse(_ evidence: [UInt8]) throws(EvidenceError) -> (TPMQuote, [UInt8]) {
        let root = try TPMEvidenceJSON.parse(evidence, what: "TPM evidence")
        let akDER = try TPMEvidenceJSON.bytes(
            TPMEvidenceJSON.member(root, "ak_public", in: "TPM evidence"), .base64, what: "ak_public", limit: 4096)
        let quoteNode = try TPMEvidenceJSON.member(root, "tpm_quote", in: "TPM evidence")
        let message = try TPMEvidenceJSON.bytes(
            TPMEvidenceJSON.member(quoteNode, "message", in: "tpm_quote"), .base64, what: "tpm_quote.message", limit: TPMAttest.maximumSize)
        let tpmt = try TPMEvidenceJSON.bytes(
            TPMEvidenceJSON.member(quoteNode, "signature", in: "tpm_quote"), .base64, what: "tpm_quote.signature", limit: 1024)
        let pcrs = try TPMEvidenceJSON.pcrs(TPMEvidenceJSON.member(quoteNode, "pcrs", in: "tpm_quote"), .hex, what: "tpm_quote.pcrs")
        let signature = try TPMSignature.rsaSignature(fromTPMT: tpmt)
        return (TPMQuote(message: message, signature: signature, pcrs: pcrs), akDER)
    }

    /// Whether the anchors pin AKs at all (then `akPublic` must be one of them, else `chain`): returns true when it
    /// matched one, false when the anchors hold no public key.
    static func checkPinnedKey(_ akPublic: [UInt8], anchors: [EvidenceFile]) throws(EvidenceError) -> Bool {
        var pinnedKeys: [[UInt8]] = []
        for anchor in anchors { pinnedKeys += publicKeys(in: anchor.bytes) }
        guard !pinnedKeys.isEmpty else { return false }
        guard pinnedKeys.contains(akPublic) else {
            throw EvidenceError(
                .chain,
                "the attestation key (SHA-256 \(Hex.encode(Array(SHA256.hash(data: akPublic))))) is not among the \(pinnedKeys.count) trusted public keys"
            )
        }
        return true
    }

    /// The public keys in a trust-anchor file, as DER SubjectPublicKeyInfo (RSA keys re-encoded canonically so
    /// they compare equal to a parsed AK). Certificates and anything else are not public keys and are skipped.
    static func publicKeys(in bytes: [UInt8]) -> [[UInt8]] {
        if PEM.looksLikePEM(bytes) {
            // A PEM public key counts as a pin even in an algorithm we cannot parse: it then simply matches nothing.
            return (PEM.blocks(bytes) ?? []).filter { $0.label == "PUBLIC KEY" }.map { canonical($0.der) ?? $0.der }
        }
        guard bytes.first == 0x30, bytes.count <= 8192, let key = canonical(bytes) else { return [] }
        return [key]
    }

    private static func canonical(_ der: [UInt8]) -> [UInt8]? {
        if let rsa = try? _RSA.Signing.PublicKey(derRepresentation: der) { return Array(rsa.derRepresentation) }
        if let ec = try? P256.Signing.PublicKey(derRepresentation: der) { return Array(ec.derRepresentation) }
        if let ec = try? P384.Signing.PublicKey(derRepresentation: der) { return Array(ec.derRepresentation) }
        return nil
    }
}
