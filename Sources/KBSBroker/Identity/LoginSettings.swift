package import KBSIdentity

/// What the login endpoints accept, from the server's `[identity…]` configuration.
package struct LoginSettings: Sendable {
    /// Sign-In with Ethereum: the domain and URI messages must name, the chains accepted. EIP-712 logins use the same:
    /// the typed data's domain `name` must be `domain` and its `chainId` one of `chainIDs`.
    package struct Ethereum: Sendable {
        package var domain: String
        package var uri: String
        package var chainIDs: [Int64]

        /// Creates the Ethereum settings.
        package init(domain: String, uri: String, chainIDs: [Int64]) {
            self.domain = domain
            self.uri = uri
            self.chainIDs = chainIDs
        }
    }

    /// DID proofs: the methods accepted and the audience a proof must name.
    package struct DIDProofs: Sendable {
        package var methods: [String]
        package var audience: String

        /// Creates the DID settings.
        package init(methods: [String], audience: String) {
            self.methods = methods
            self.audience = audience
        }
    }

    /// One SAML identity provider.
    package struct SAMLProvider: Sendable {
        package var name: String
        package var idpEntityID: String
        /// The IdP's signing certificate (PEM).
        package var certificatePEM: [UInt8]
        package var ssoURL: String
        package var spEntityID: String
        package var acsURL: String
        package var allowIdPInitiated: Bool

        /// Creates a provider entry.
        package init(
            name: String, idpEntityID: String, certificatePEM: [UInt8], ssoURL: String, spEntityID: String, acsURL: String,
            allowIdPInitiated: Bool
        ) {
            self.name = name
            self.idpEntityID = idpEntityID
            self.certificatePEM = certificatePEM
            self.ssoURL = ssoURL
            self.spEntityID = spEntityID
            self.acsURL = acsURL
            self.allowIdPInitiated = allowIdPInitiated
        }
    }

    package var ethereum: Ethereum?
    package var did: DIDProofs?
    package var saml: [SAMLProvider]
    /// Where did:web documents come from.
    package var fetcher: (any DocumentFetcher)?
    /// How long a challenge stays usable, in seconds.
    package var challengeSeconds: Int64 = 300

    /// No login method but the challenge.
    package init(ethereum: Ethereum? = nil, did: DIDProofs? = nil, saml: [SAMLProvider] = [], fetcher: (any DocumentFetcher)? = nil) {
        self.ethereum = ethereum
        self.did = did
        self.saml = saml
        self.fetcher = fetcher
    }
}
