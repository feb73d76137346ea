package import KBSClaims
import KBSJOSE
import KBSKeys

/// The key a TEE sends in `runtime-data.tee-pubkey` (a JWK), to which released secrets are encrypted.
///
/// The JWK is read by `KBSJOSE`'s one reader; this type only gives its refusals the broker's wire codes:
/// `unsupported_alg` when the JWK's `alg` does not fit its key type, `invalid_tee_pubkey` for everything else
/// (private members, unknown key types, wrong sizes, points off the curve, RSA under 2048 bits).
package struct TEEPublicKey: Sendable {
    let recipient: JWE.RecipientKey

    /// Reads a JWK object.
    package init(jwk: JSONNode) throws(BrokerError) {
        guard jwk.kind == .object else { throw .badRequest("invalid_tee_pubkey", "`tee-pubkey` must be a JWK object") }
        do throws(JOSEError) {
            recipient = try JWE.RecipientKey(try JWK(jwk))
        } catch {
            throw .badRequest(error.reason == .algorithm ? "unsupported_alg" : "invalid_tee_pubkey", "`tee-pubkey`: \(error.message)")
        }
    }

    /// The JWE `alg` this key gets.
    package var algorithm: String { recipient.algorithm }
}

extension JWE {
    /// The flattened JWE of `secret` to the TEE's key.
    static func encrypt(_ secret: borrowing SecretBytes, to key: TEEPublicKey) throws(BrokerError) -> String {
        do throws(JOSEError) {
            return try secret.withUnsafeBytes { (plaintext) throws(JOSEError) in try JWE.encrypt(plaintext, to: key.recipient) }
        } catch {
            throw BrokerError(.failed, "jwe", "the secret could not be encrypted to the TEE key")
        }
    }
}
