import KBSClaims

/// A key management service that encrypts and decrypts under keys it keeps: Infisical KMS, or the local hierarchy.
///
/// Both sides of one protocol so callers (the master key provider, envelope helpers) need not know which service
/// holds the key. `keyID` is the service's own key identifier. The ciphertext is opaque and bound to the key: a
/// ciphertext made under another key, or altered, fails with `integrity`; an unknown key with `notFound`.
package protocol KMSBackend: Sendable {
    /// Encrypts `plaintext` under key `keyID`.
    func encrypt(keyID: String, plaintext: borrowing SecretBytes) async throws(KeyError) -> [UInt8]
    /// Decrypts what `encrypt` returned for the same `keyID`.
    func decrypt(keyID: String, ciphertext: [UInt8]) async throws(KeyError) -> SecretBytes
}
