package import KBSClaims

/// Why a credential was refused: the one error type of `KBSIdentity`.
///
/// `reason` is a stable code (the list in `Fixtures/identity/FORMAT.md`); `message` says what was wrong in words
/// and never quotes secrets or whole tokens.
package typealias IdentityError = CodedError<IdentityErrorReason>

/// The stable reason codes.
package enum IdentityErrorReason: String, Sendable, CaseIterable {
    case malformed
    case algorithm
    case untrustedKey = "untrusted_key"
    case unknownKey = "unknown_key"
    case weakKey = "weak_key"
    case invalidKey = "invalid_key"
    case unsupported
    case signature
    case malleable
    case expired
    case notYetValid = "not_yet_valid"
    case issuedInFuture = "issued_in_future"
    case missingClaim = "missing_claim"
    case issuer
    case audience
    case nonce
    case tokenType = "token_type"
    case critical
    case replay
    case domain
    case chain
    case address
    case digest
    case missingComponent = "missing_component"
    case unsigned
    case wrapping
    case recipient
    case destination
    case inResponseTo = "in_response_to"
    case status
    case verificationMethod = "verification_method"
    /// A session or API key that was revoked.
    case revoked
    /// A document the credential needs (a did:web DID document, an issuer's JWK Set) could not be fetched
    /// within policy: not https, a non-public address, a redirect, an error status, too large.
    case fetch
    /// The verifier's own trust options are unusable (a JWKS file that does not parse, no key configured).
    case configuration
}
