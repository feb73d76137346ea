package import KBSClaims

/// Why a key operation was refused: the one error type of `KBSKeys`.
///
/// `reason` is a stable code that callers map to responses and tests assert; `message` says what was wrong in words
/// and never contains key material.
package typealias KeyError = CodedError<KeyErrorReason>

/// The stable reason codes; the raw value (snake_case) is what reaches the wire and the CLI.
package enum KeyErrorReason: String, Sendable, CaseIterable {
    /// No key record, key version or sealed file by that name.
    case notFound = "not_found"
    /// A record with that id already exists, or the sealed file already exists.
    case alreadyExists = "already_exists"
    /// The key is disabled: it neither encrypts nor decrypts until enabled again.
    case disabled
    /// The key is scheduled for deletion: it neither encrypts nor decrypts until the deletion is cancelled.
    case pendingDeletion = "pending_deletion"
    /// The key was destroyed: its material is gone for good.
    case destroyed
    /// The transition is not allowed from the key's current state (enable while pending deletion, destroy before
    /// the date, encrypt with a key-encryption key).
    case invalidState = "invalid_state"
    /// An argument is out of range: a deletion window outside 7–30 days, a bad key id, a threshold above the
    /// share count, KDF parameters outside their bounds.
    case invalidArgument = "invalid_argument"
    /// The master key is sealed or out of reach: the sealed file is missing, no provider was unsealed, or the
    /// PKCS#11 module or token failed or refused (the message names the function and return code).
    case sealed
    /// The passphrase does not open the sealed master key, or the token rejects the PKCS#11 user PIN.
    case wrongPassphrase = "wrong_passphrase"
    /// The Shamir shares are too few, inconsistent, corrupted, or do not reconstruct the sealing key.
    case shares
    /// Authentication failed: a ciphertext, its additional data, key id or version, or wrapped key material was
    /// altered, or the wrong key was used.
    case integrity
    /// Bytes that do not parse: a ciphertext, a share or a sealed file in an unknown or truncated format.
    case malformed
    /// The record store refused a save because the record changed since it was loaded; load it and try again.
    case conflict
    /// A file could not be read or written, the record store failed, or a remote key service (Infisical) could
    /// not be reached or refused the request.
    case storage
    /// A remote key service (Infisical) refused the credentials, or refused the access token issued for them.
    case unauthenticated
}
