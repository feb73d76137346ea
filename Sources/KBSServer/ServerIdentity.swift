import Foundation
import Hummingbird
import KBSBroker
import KBSIdentity
import KBSStore

/// The server's identity side, made once from the `[identity…]` configuration: who may present which credential, the
/// login endpoints, and the API keys.
package struct ServerIdentity: Sendable {
    let authenticator: Authenticator
    let logins: Logins
    let apiKeys: APIKeyAuthority
    /// AWS SigV4 for the KMS API, with API keys as access keys.
    let sigV4: SigV4Verifier
    /// The scheme signed requests were sent with (`https` under TLS): RFC 9421's `@target-uri` covers it.
    let scheme: String

    /// Wires the verifiers to `sessions` and `replay` (whichever store keeps them: on PostgreSQL, shared by every
    /// replica), the API-key `pepper` and the broker (API keys, capability tokens, the key hierarchy that seals API-key
    /// secrets).
    init(
        configuration: ServerConfiguration, sessions sessionStore: any SessionStore, replay: any ReplayCache, pepper: [UInt8], broker: Broker
    ) throws(ServerError) {
        let identity = configuration.identity
        scheme = configuration.servesTLS ? "https" : "http"
        do { apiKeys = try APIKeyAuthority(broker: broker, pepper: pepper) } catch {
            throw ServerError(.internalServerError, error.code, error.message)
        }
        sigV4 = apiKeys.sigV4(service: "kms")
        let sessions = Sessions(
            store: sessionStore, lifetimeSeconds: identity.sessionLifetimeSeconds, idleSeconds: identity.sessionIdleSeconds)
        var authenticator = Authenticator(broker: broker)
        authenticator.apiKeys = apiKeys.bearer
        authenticator.sessions = sessions
        authenticator.signatures = apiKeys.signatures(replay: replay)
        authenticator.issuers = try identity.oidc.map { (issuer) throws(ServerError) -> OIDCIssuer in
            let source: any KeySetSource
            if let file = issuer.jwksFile {
                source = FileKeySetSource(paths: [file])
            } else if issuer.discovery {
                source = DiscoveryKeySetSource(issuer: issuer.issuer, fetcher: HTTPSFetcher())
            } else {
                throw ServerError(.internalServerError, "configuration", "OIDC issuer `\(issuer.name)` needs jwks_file or discovery = true")
            }
            return OIDCIssuer(
                name: issuer.name, issuer: issuer.issuer, audiences: issuer.audiences, tokenTypes: issuer.tokenTypes,
                algorithms: Set(issuer.algorithms), keys: IssuerKeys(source: source))
        }
        self.authenticator = authenticator

        var settings = LoginSettings(fetcher: HTTPSFetcher())
        if let siwe = identity.siwe { settings.ethereum = .init(domain: siwe.domain, uri: siwe.uri, chainIDs: siwe.chainIDs) }
        if let did = identity.did { settings.did = .init(methods: did.methods, audience: did.audience) }
        settings.saml = try identity.saml.map { (provider) throws(ServerError) -> LoginSettings.SAMLProvider in
            guard let pem = FileManager.default.contents(atPath: provider.idpCertificate) else {
                throw ServerError(.internalServerError, "configuration", "cannot read the IdP certificate \(provider.idpCertificate)")
            }
            return .init(
                name: provider.name, idpEntityID: provider.idpEntityID, certificatePEM: Array(pem), ssoURL: provider.idpSSOURL,
                spEntityID: provider.spEntityID, acsURL: provider.acsURL, allowIdPInitiated: provider.allowIdPInitiated)
        }
        logins = Logins(broker: broker, settings: settings, sessions: sessions, replay: replay)
    }

    /// The pepper API-key hashes are keyed with on SQLite: `DATA_DIR/api-key-pepper` (mode 0600), made on first use.
    /// Outside the database, so a copy of the store alone cannot test guesses against the hashes (on PostgreSQL it is
    /// sealed under the master key instead: ``ServerStorage``).
    package static func apiKeyPepper(dataDirectory: String) throws(ServerError) -> [UInt8] {
        Array(try SecretFile.readOrCreate(path: dataDirectory + "/api-key-pepper", code: "api_key_pepper").text.utf8)
    }

    /// The identity behind the request's credential; nil when it carries none. A credential that does not verify is
    /// refused (401), never treated as none.
    func identify(_ request: Request, body: [UInt8]) async throws(ServerError) -> CallerIdentity? {
        guard let credential = try RequestCredential.presented(request, body: body, scheme: scheme) else { return nil }
        return try await KBSProtocolRoutes.brokering { () async throws(BrokerError) in try await authenticator.identify(credential) }
    }
}
