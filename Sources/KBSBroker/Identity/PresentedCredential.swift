/// A credential as a request carried it, before anything about it is checked.
package enum PresentedCredential: Sendable {
    /// `Authorization: Bearer <token>`: an OIDC JWT, an API key `kbs_k_…`, a capability token `kbsc1.…`.
    case bearer(String)
    /// The `kbs-login` cookie a login set.
    case loginCookie(String)
    /// An RFC 9421-signed request, as the `hmac` credential JSON gives it (`{"method", "target_uri", "headers", "body"}`).
    case signedRequest([UInt8])
}
