import Crypto
import CryptoExtras
import KBSClaims

/// A TPM quote as attesters ship it: the signed `TPMS_ATTEST` message, the RSA signature over it, and the PCR values
/// the quote's digest covers, in selection order.
struct TPMQuote: Sendable {
    /// The most PCR values a quote may carry (one SHA-256 bank of a 32-PCR TPM).
    static let maximumPCRs = 32

    /// The marshalled `TPMS_ATTEST`: the signed region.
    var message: [UInt8]
    /// The raw RSASSA-PKCS1-v1_5 signature (no `TPMT_SIGNATURE` framing).
    var signature: [UInt8]
    /// SHA-256 PCR values, one per selected PCR, in the order the quote selects them.
    var pcrs: [[UInt8]]

    /// Verifies the signature over `message` under `key`, then that the PCR values hash to the quote's `pcrDigest`.
    /// Returns the parsed attestation.
    func verify(key: _RSA.Signing.PublicKey, what: String) throws(EvidenceError) -> TPMAttest {
        let attest = try TPMAttest(message)
        try TPMSignature.verify(signature, message: message, key: key, what: what)
        try checkPCRDigest(attest)
        return attest
    }

    /// Throws `measurement` unless SHA-256 over the PCR values, concatenated in selection order, is the signed
    /// `pcrDigest`; PCR values the selection does not cover are refused, since nothing vouches for them.
    func checkPCRDigest(_ attest: TPMAttest) throws(EvidenceError) {
        for selection in attest.selections where selection.hash != TPMAttest.sha256 {
            throw EvidenceError(.unsupported, "TPM quote selects PCR bank 0x\(String(selection.hash, radix: 16)); only SHA-256 (0x000b) is supported")
        }
        let indices = attest.selectedIndices
        guard Set(indices).count == indices.count else {
            throw EvidenceError(.malformed, "TPM quote selects a PCR twice")
        }
        guard indices.count == pcrs.count else {
            throw EvidenceError(.malformed, "TPM quote selects \(indices.count) PCRs but the evidence carries \(pcrs.count) values")
        }
        var hasher = SHA256()
        for value in pcrs { hasher.update(data: value) }
        let digest = Array(hasher.finalize())
        guard digest == attest.pcrDigest else {
            throw EvidenceError(
                .measurement, "the PCR values hash to \(Hex.encode(digest)), not the quoted pcrDigest \(Hex.encode(attest.pcrDigest))")
        }
    }
}

/// A TPM quote that verified, with what its claims are made of.
struct TPMCheckedQuote: Sendable {
    var attest: TPMAttest
    var pcrs: [[UInt8]]
    /// The attestation key as DER SubjectPublicKeyInfo.
    var akPublic: [UInt8]

    /// SHA-256 of ``akPublic``, what a policy or reference value pins.
    var akDigest: [UInt8] { Array(SHA256.hash(data: akPublic)) }
}
