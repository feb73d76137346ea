import Foundation
import KBSClaims

/// `KMSBackend` and `SecretBackend` over Infisical: keys are Infisical KMS key ids, secrets live in the client's
/// project, environment and folder.
///
/// Ciphertexts are Infisical's own (its base64, decoded to bytes); Infisical binds no additional data, so callers
/// that need a context bound in do it themselves, as `InfisicalMasterKeyProvider` does.
package struct InfisicalKMSBackend: KMSBackend, SecretBackend {
    /// The client that talks to Infisical.
    package let client: InfisicalClient

    /// Creates a backend over `client`.
    package init(client: InfisicalClient) {
        self.client = client
    }

    package func encrypt(keyID: String, plaintext: borrowing SecretBytes) async throws(KeyError) -> [UInt8] {
        let ciphertext = try await client.encrypt(keyID: keyID, plaintext: plaintext)
        guard let bytes = Data(base64Encoded: ciphertext), !bytes.isEmpty else {
            throw KeyError(.malformed, "Infisical's ciphertext is not base64")
        }
        return Array(bytes)
    }

    package func decrypt(keyID: String, ciphertext: [UInt8]) async throws(KeyError) -> SecretBytes {
        guard !ciphertext.isEmpty else { throw KeyError(.malformed, "the ciphertext is empty") }
        return try await client.decrypt(keyID: keyID, ciphertext: Data(ciphertext).base64EncodedString())
    }

    /// Creates the secret, or replaces its value if it exists.
    package func putSecret(name: String, value: borrowing SecretBytes) async throws(KeyError) {
        // Update first: a 404 is an unambiguous "absent", whereas a refused create would have to be recognised by
        // its message.
        do {
            try await client.updateSecret(name: name, value: value)
        } catch  where error.reason == .notFound {
            try await client.createSecret(name: name, value: value)
        }
    }

    package func secret(name: String) async throws(KeyError) -> SecretBytes {
        try await client.secret(name: name)
    }
}
