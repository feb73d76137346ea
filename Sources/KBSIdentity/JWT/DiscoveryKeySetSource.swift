import KBSClaims

/// An issuer's JWK Set found through OpenID Connect Discovery: `<issuer>/.well-known/openid-configuration`, whose
/// `issuer` must be the configured one exactly (Discovery §4.3, against IdP mix-up), then its `jwks_uri`.
package struct DiscoveryKeySetSource: KeySetSource {
    package let issuer: String
    package let fetcher: any DocumentFetcher

    /// Creates a source for `issuer`.
    package init(issuer: String, fetcher: any DocumentFetcher) {
        self.issuer = issuer
        self.fetcher = fetcher
    }

    /// The discovery document's URL: the issuer without a trailing slash, then the well-known path.
    package var discoveryURL: String {
        (issuer.hasSuffix("/") ? String(issuer.dropLast()) : issuer) + "/.well-known/openid-configuration"
    }

    package func fetch() async throws(IdentityError) -> [UInt8] {
        let document = try CredentialJSON.object(try await fetcher.fetch(discoveryURL), what: "discovery document")
        guard document["issuer"]?.stringValue == issuer else {
            throw IdentityError(.issuer, "the discovery document at \(discoveryURL) names another issuer")
        }
        guard let keys = document["jwks_uri"]?.stringValue else { throw IdentityError(.fetch, "the discovery document has no `jwks_uri`") }
        return try await fetcher.fetch(keys)
    }
}
