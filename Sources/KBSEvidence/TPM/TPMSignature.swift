import Crypto
import CryptoExtras
import Foundation
import KBSClaims

/// A TPM quote signature: `TPMT_SIGNATURE` with RSASSA-PKCS1-v1_5 over SHA-256, the only scheme vTPMs and the
/// Trustee attester produce; anything else is `unsupported` rather than half-checked.
enum TPMSignature {
    /// `TPM_ALG_RSASSA`.
    static let rsassa: UInt16 = 0x0014

    /// The raw RSA signature inside a marshalled `TPMT_SIGNATURE` (`sigAlg`, `hash`, `TPM2B` signature).
    static func rsaSignature(fromTPMT bytes: [UInt8]) throws(EvidenceError) -> [UInt8] {
        var reader = ByteReader(bytes, what: "TPMT_SIGNATURE")
        let algorithm = try reader.u16BigEndian()
        guard algorithm == rsassa else {
            throw EvidenceError(.unsupported, "TPM signature algorithm 0x\(String(algorithm, radix: 16)) is not RSASSA (0x0014)")
        }
        let hash = try reader.u16BigEndian()
        guard hash == TPMAttest.sha256 else {
            throw EvidenceError(.unsupported, "TPM signature hash 0x\(String(hash, radix: 16)) is not SHA-256 (0x000b)")
        }
        let size = Int(try reader.u16BigEndian())
        let signature = try reader.bytes(size)
        guard reader.remaining == 0 else {
            throw EvidenceError(.malformed, "TPMT_SIGNATURE has \(reader.remaining) bytes after the signature")
        }
        return signature
    }

    /// An RSA public key from DER SubjectPublicKeyInfo (the form `ak_public` and PEM `PUBLIC KEY` files use).
    static func rsaKey(spki der: [UInt8], what: String) throws(EvidenceError) -> _RSA.Signing.PublicKey {
        do { return try _RSA.Signing.PublicKey(derRepresentation: der) } catch {
            if (try? P256.Signing.PublicKey(derRepresentation: der)) != nil || (try? P384.Signing.PublicKey(derRepresentation: der)) != nil {
                throw EvidenceError(.unsupported, "\(what) is an ECC key; only RSA attestation keys (RSASSA quotes) are supported")
            }
            throw EvidenceError(.malformed, "\(what) is not an RSA public key of 2048 bits or more")
        }
    }

    /// Throws `signature` unless `signature` is an RSASSA-PKCS1-v1_5 SHA-256 signature of `message` under `key`.
    static func verify(_ signature: [UInt8], message: [UInt8], key: _RSA.Signing.PublicKey, what: String) throws(EvidenceError) {
        guard signature.count == key.keySizeInBits / 8,
            key.isValidSignature(_RSA.Signing.RSASignature(rawRepresentation: signature), for: message, padding: .insecurePKCS1v1_5)
        else {
            throw EvidenceError(.signature, "\(what) signature does not verify under the attestation key")
        }
    }
}
