import KBSClaims

/// A store of named secrets (API keys, passwords, tokens) kept by another service, such as Infisical.
///
/// Values travel as `SecretBytes` so callers wipe them when done; a missing name fails with `notFound`.
package protocol SecretBackend: Sendable {
    /// Stores `value` under `name`, creating the secret or replacing its value.
    func putSecret(name: String, value: borrowing SecretBytes) async throws(KeyError)
    /// The current value of secret `name`.
    func secret(name: String) async throws(KeyError) -> SecretBytes
}
