import KBSClaims

/// `KMSBackend` over the local key hierarchy: `keyID` is a data key's id, ciphertexts are the envelope format.
///
/// The hierarchy's envelope header already names the key and version, so decryption checks that the header names
/// `keyID`: a ciphertext of another data key is refused with `integrity` rather than silently decrypted.
package struct LocalKMSBackend: KMSBackend {
    /// The hierarchy whose data keys encrypt.
    package let hierarchy: KeyHierarchy
    /// Additional data bound into every ciphertext (empty by default).
    package let aad: [UInt8]

    /// Creates a backend over `hierarchy`, binding `aad` into every ciphertext.
    package init(hierarchy: KeyHierarchy, aad: [UInt8] = []) {
        self.hierarchy = hierarchy
        self.aad = aad
    }

    package func encrypt(keyID: String, plaintext: borrowing SecretBytes) async throws(KeyError) -> [UInt8] {
        // The hierarchy takes an array; this copy is wiped as soon as the envelope is sealed.
        var bytes = plaintext.withUnsafeBytes { Array($0) }
        defer { wipe(&bytes) }
        return try await hierarchy.encrypt(keyID: keyID, plaintext: bytes, aad: aad)
    }

    package func decrypt(keyID: String, ciphertext: [UInt8]) async throws(KeyError) -> SecretBytes {
        let (header, _) = try Envelope.header(of: ciphertext)
        guard header.keyID == keyID else {
            throw KeyError(.integrity, "the ciphertext was made with key \(header.keyID), not \(keyID)")
        }
        var plaintext = try await hierarchy.decrypt(ciphertext, aad: aad)
        defer { wipe(&plaintext) }
        return SecretBytes(copying: plaintext)
    }
}
