/// Which credentials the server accepts and whom it trusts to vouch for them: the `[identity…]` sections of the
/// configuration file. Empty accepts what needs no outside trust: API keys, HMAC signatures with API keys,
/// capability tokens and login cookies.
package struct IdentityConfiguration: Sendable, Equatable {
    /// One OpenID Connect issuer whose JWTs are accepted as bearer tokens (`[[identity.oidc]]`).
    package struct OIDCIssuer: Sendable, Equatable {
        /// A short name for logs and metrics.
        package var name: String
        /// The `iss` the tokens carry, exactly.
        package var issuer: String
        /// The `aud` values accepted; a token must name one of them.
        package var audiences: [String]
        /// A JWK Set file (absolute, or relative to the configuration file as loaded); nil with ``discovery``.
        package var jwksFile: String?
        /// Fetch the keys through OpenID discovery at `issuer` (HTTPS, public addresses only).
        package var discovery: Bool
        /// The JWS algorithms accepted.
        package var algorithms: [String]
        /// `access` (RFC 9068, `typ: at+jwt`) and/or `id` (OIDC ID tokens).
        package var tokenTypes: [String]

        /// Creates an issuer entry.
        package init(
            name: String, issuer: String, audiences: [String], jwksFile: String? = nil, discovery: Bool = false,
            algorithms: [String] = ["RS256", "ES256"], tokenTypes: [String] = ["access", "id"]
        ) {
            self.name = name
            self.issuer = issuer
            self.audiences = audiences
            self.jwksFile = jwksFile
            self.discovery = discovery
            self.algorithms = algorithms
            self.tokenTypes = tokenTypes
        }
    }

    /// One SAML 2.0 identity provider (`[[identity.saml]]`), logged in through `/kbs/v1/login/saml/{name}`.
    package struct SAMLProvider: Sendable, Equatable {
        package var name: String
        package var idpEntityID: String
        /// The IdP's signing certificate, a PEM file.
        package var idpCertificate: String
        /// Where the AuthnRequest is sent (HTTP-Redirect binding).
        package var idpSSOURL: String
        package var spEntityID: String
        /// This server's assertion consumer URL, as the IdP posts to it.
        package var acsURL: String
        /// Accept responses no AuthnRequest of ours asked for.
        package var allowIdPInitiated: Bool

        /// Creates an IdP entry.
        package init(
            name: String, idpEntityID: String, idpCertificate: String, idpSSOURL: String, spEntityID: String, acsURL: String,
            allowIdPInitiated: Bool = false
        ) {
            self.name = name
            self.idpEntityID = idpEntityID
            self.idpCertificate = idpCertificate
            self.idpSSOURL = idpSSOURL
            self.spEntityID = spEntityID
            self.acsURL = acsURL
            self.allowIdPInitiated = allowIdPInitiated
        }
    }

    /// Sign-In with Ethereum (`[identity.siwe]`); also bounds EIP-712 logins (domain name, chain ids).
    package struct SIWE: Sendable, Equatable {
        package var domain: String
        package var uri: String
        package var chainIDs: [Int64]

        /// Creates the SIWE section.
        package init(domain: String, uri: String, chainIDs: [Int64] = [1]) {
            self.domain = domain
            self.uri = uri
            self.chainIDs = chainIDs
        }
    }

    /// DID proof logins (`[identity.did]`).
    package struct DID: Sendable, Equatable {
        /// The DID methods accepted: `key`, `jwk`, `pkh`, `web`.
        package var methods: [String]
        /// The `aud` a proof must carry.
        package var audience: String

        /// Creates the DID section.
        package init(methods: [String] = ["key", "jwk", "pkh", "web"], audience: String) {
            self.methods = methods
            self.audience = audience
        }
    }

    package var oidc: [OIDCIssuer]
    package var saml: [SAMLProvider]
    package var siwe: SIWE?
    package var did: DID?
    /// How long a login session lasts, in seconds, unless the credential says less.
    package var sessionLifetimeSeconds: Int64
    /// How long a login session may go unused, in seconds.
    package var sessionIdleSeconds: Int64

    /// No outside issuers; 8-hour sessions that end after 1 hour unused.
    package init(
        oidc: [OIDCIssuer] = [], saml: [SAMLProvider] = [], siwe: SIWE? = nil, did: DID? = nil,
        sessionLifetimeSeconds: Int64 = 8 * 3600, sessionIdleSeconds: Int64 = 3600
    ) {
        self.oidc = oidc
        self.saml = saml
        self.siwe = siwe
        self.did = did
        self.sessionLifetimeSeconds = sessionLifetimeSeconds
        self.sessionIdleSeconds = sessionIdleSeconds
    }
}
