package import Foundation
import KBSClaims
package import KBSIdentity

/// The login use cases: a challenge, then SIWE, EIP-712, DID-proof or SAML logins that start a login session
/// (``Sessions``, kept in the store), and logout. Every login and every refusal is audited; every single-use value (the
/// challenge, the SAML request id, the assertion id) is spent in the store, so a replay fails across restarts too.
package struct Logins: Sendable {
    let settings: LoginSettings
    let sessions: Sessions
    let replay: any ReplayCache
    let ports: BrokerPorts
    let broker: Broker

    /// Logins over `broker`'s store ports; `sessions` and `replay` are backed by the same store.
    package init(broker: Broker, settings: LoginSettings, sessions: Sessions, replay: any ReplayCache) {
        self.settings = settings
        self.sessions = sessions
        self.replay = replay
        self.ports = broker.ports
        self.broker = broker
    }

    /// A started login session: the cookie value, whom it names, when it ends.
    package struct Session: Sendable {
        package var id: String
        package var subject: String
        package var expires: Int64
    }

    static let challengeNamespace = "login-challenge"

    /// A fresh challenge nonce (128 bits, hex: letters and digits, as EIP-4361 asks), single use, for 5 minutes.
    package func challenge() async throws(BrokerError) -> (nonce: String, expires: Date) {
        let now = broker.clock()
        var generator = SystemRandomNumberGenerator()
        let nonce = Hex.encode((0..<16).map { _ in UInt8.random(in: 0...255, using: &generator) })
        let expires = now + TimeInterval(settings.challengeSeconds)
        do { _ = try await ports.nonces.useOnce(nonce, namespace: Self.challengeNamespace, expires: expires, now: now) } catch {
            throw BrokerError(.unavailable, "store_unavailable", "the challenge cannot be recorded")
        }
        return (nonce, expires)
    }

    /// `POST /kbs/v1/login/siwe {"message", "signature"}`: an EIP-4361 message for this domain and URI, on an accepted
    /// chain, whose nonce is a challenge this server issued.
    package func siwe(_ body: [UInt8]) async throws(BrokerError) -> Session {
        try await login(method: "siwe") { () async throws(BrokerError) in
            guard let ethereum = settings.ethereum else { throw Self.notConfigured("SIWE") }
            let now = broker.clock()
            let verifier = SIWEVerifier(domain: ethereum.domain, replay: replay)
            let principal = try await Authenticator.verified { () async throws(IdentityError) in try await verifier.verify(body, at: now) }
            let attributes = principal.claims.value(at: "siwe")
            guard case .string(let uri)? = attributes.flatMap({ Self.member($0, "uri") }), uri == ethereum.uri else {
                throw BrokerError(.unauthenticated, "identity_domain", "the message's URI is not this service's")
            }
            guard case .int(let chain)? = attributes.flatMap({ Self.member($0, "chain_id") }), ethereum.chainIDs.contains(chain) else {
                throw BrokerError(.unauthenticated, "identity_chain", "the message is for a chain this service does not accept")
            }
            guard case .string(let nonce)? = attributes.flatMap({ Self.member($0, "nonce") }) else {
                throw BrokerError(.unauthenticated, "identity_nonce", "the message has no nonce")
            }
            try await spendChallenge(nonce)
            return (principal, nil)
        }
    }

    /// `POST /kbs/v1/login/eip712 {"typedData", "signature"}`: typed data whose domain is this service's (name =
    /// the SIWE domain, an accepted chain) and whose message carries a challenge nonce as `nonce`.
    package func eip712(_ body: [UInt8]) async throws(BrokerError) -> Session {
        try await login(method: "eip712") { () async throws(BrokerError) in
            guard let ethereum = settings.ethereum else { throw Self.notConfigured("EIP-712") }
            let now = broker.clock()
            let verifier = TypedDataVerifier(address: nil, domainName: ethereum.domain)
            let principal = try await Authenticator.verified { () async throws(IdentityError) in try await verifier.verify(body, at: now) }
            guard case .int(let chain)? = principal.claims.value(at: "eip712.chain_id"), ethereum.chainIDs.contains(chain) else {
                throw BrokerError(.unauthenticated, "identity_chain", "the typed data is for a chain this service does not accept")
            }
            // The signature verified over the whole typed data, so its message's nonce is the signer's.
            guard let root = try? JSONNode.parse(body), let nonce = root["typedData"]?["message"]?["nonce"]?.stringValue else {
                throw BrokerError(.unauthenticated, "identity_nonce", "the typed data's message carries no string `nonce`")
            }
            // A message that names an account (what the wallet showed) must be signed by that account, as SIWE's is.
            if let named = root["typedData"]?["message"]?["address"], named.stringValue?.lowercased() != principal.subject.lowercased() {
                throw BrokerError(.unauthenticated, "identity_address", "the typed data names another account than the one that signed it")
            }
            try await spendChallenge(nonce)
            return (principal, nil)
        }
    }

    /// `POST /kbs/v1/login/did {"proof"}`: a compact JWS by a DID of an accepted method, `aud` this service, `nonce` a
    /// challenge this server issued.
    package func did(_ body: [UInt8]) async throws(BrokerError) -> Session {
        try await login(method: "did") { () async throws(BrokerError) in
            guard let did = settings.did else { throw Self.notConfigured("DID") }
            guard let root = try? JSONNode.parse(body), let proof = root["proof"]?.stringValue else {
                throw BrokerError(.invalidRequest, "invalid_request", "the body is {\"proof\": \"<compact JWS>\"}")
            }
            // The nonce is read before the signature is checked only to tell the verifier what to require; it is spent
            // after the proof verifies, so a forged proof spends nothing.
            let claimedNonce = Self.payloadNonce(proof)
            let now = broker.clock()
            let verifier = DIDJWSVerifier(audience: did.audience, nonce: claimedNonce ?? "", fetcher: settings.fetcher)
            let principal = try await Authenticator.verified { () async throws(IdentityError) in
                try await verifier.verify(Array(proof.utf8), at: now)
            }
            let method = principal.subject.split(separator: ":", maxSplits: 2).dropFirst().first.map(String.init) ?? ""
            guard did.methods.contains(method) else {
                throw BrokerError(.unauthenticated, "identity_unsupported", "DID method `\(method)` is not accepted here")
            }
            try await spendChallenge(claimedNonce ?? "")
            return (principal, nil)
        }
    }

    /// `GET /kbs/v1/login/saml/{name}`: the IdP's SSO URL with a deflated, base64 AuthnRequest (HTTP-Redirect binding)
    /// and the request id as `RelayState`; the id is recorded for 10 minutes and spent by the response that answers it.
    package func samlRedirect(provider name: String) async throws(BrokerError) -> String {
        guard let provider = settings.saml.first(where: { $0.name == name }) else {
            throw BrokerError(.notFound, "unknown_idp", "no SAML identity provider is configured as `\(name)`")
        }
        let now = broker.clock()
        var generator = SystemRandomNumberGenerator()
        let id = "_" + Hex.encode((0..<20).map { _ in UInt8.random(in: 0...255, using: &generator) })
        do { _ = try await ports.nonces.useOnce(id, namespace: "saml-request:" + name, expires: now + 600, now: now) } catch {
            throw BrokerError(.unavailable, "store_unavailable", "the request id cannot be recorded")
        }
        return SAMLRedirect.url(provider: provider, requestID: id, issueInstant: now)
    }

    /// `POST /kbs/v1/login/saml/{name}` (form fields `SAMLResponse`, `RelayState`): a signed response from the IdP that
    /// answers the request `RelayState` names (spent here), or, when the IdP is so configured, an unsolicited one.
    package func saml(provider name: String, response: String, relayState: String?) async throws(BrokerError) -> Session {
        try await login(method: "saml") { () async throws(BrokerError) in
            guard let provider = settings.saml.first(where: { $0.name == name }) else {
                throw BrokerError(.notFound, "unknown_idp", "no SAML identity provider is configured as `\(name)`")
            }
            guard let xml = Base64URL.decodeStandard(response.utf8.filter { $0 != 0x0A && $0 != 0x0D }) else {
                throw BrokerError(.invalidRequest, "invalid_request", "`SAMLResponse` is not base64")
            }
            let now = broker.clock()
            // `RelayState` is the request id; it is spent only once a response answering it verifies, so a forged post
            // cannot use up a user's pending login.
            var requestID: String?
            if let relayState, !relayState.isEmpty {
                requestID = relayState
            } else if !provider.allowIdPInitiated {
                throw BrokerError(.unauthenticated, "identity_in_response_to", "this IdP's responses must answer a login request")
            }
            let verifier: SAMLVerifier = try Authenticator.checked { () throws(IdentityError) in
                try SAMLVerifier(
                    certificatePEM: provider.certificatePEM, issuer: provider.idpEntityID, serviceProvider: provider.spEntityID,
                    consumerURL: provider.acsURL, requestID: requestID, replay: replay)
            }
            let principal = try await Authenticator.verified { () async throws(IdentityError) in try await verifier.verify(xml, at: now) }
            if let requestID {
                let spent: Bool
                do { spent = try await ports.nonces.consume(requestID, namespace: "saml-request:" + name, now: now) } catch {
                    throw BrokerError(.unavailable, "store_unavailable", "the request id cannot be checked")
                }
                guard spent else {
                    throw BrokerError(.unauthenticated, "identity_in_response_to", "the response answers no open login request (used or expired)")
                }
            }
            var notAfter: Int64?
            if case .time(let end)? = principal.claims.value(at: "saml.session_not_on_or_after") { notAfter = Int64(end.timeIntervalSince1970) }
            return (principal, notAfter)
        }
    }

    /// `DELETE /kbs/v1/login`: ends the session at once; false when the id names none.
    package func logout(_ id: String) async throws(BrokerError) -> Bool {
        let now = broker.clock()
        let ended: Bool
        do { ended = try await sessions.revoke(id, at: now) } catch {
            throw BrokerError(.unavailable, "store_unavailable", "the session cannot be ended")
        }
        if ended {
            try await broker.audit(AuditEntry(kind: .authentication, actor: "login", action: "logout", resource: "session", outcome: .success))
        }
        return ended
    }

    // MARK: Helpers

    /// Runs one login: verifies, starts the session, audits the outcome either way.
    private func login(
        method: String, verify: () async throws(BrokerError) -> (Principal, notAfter: Int64?)
    ) async throws(BrokerError) -> Session {
        do throws(BrokerError) {
            let (principal, notAfter) = try await verify()
            let now = broker.clock()
            // The session's end comes back from starting it: no second read of the row just written.
            let started: (id: String, expires: Int64)
            do { started = try await sessions.begin(for: principal, at: now, notAfter: notAfter) } catch {
                throw Authenticator.refusal(error)
            }
            try await broker.audit(
                AuditEntry(
                    kind: .authentication, actor: principal.subjectID, action: "login", resource: method, outcome: .success,
                    details: ["method": .string(method), "issuer": .string(principal.issuer)]))
            return Session(id: started.id, subject: principal.subjectID, expires: started.expires)
        } catch {
            if error.code != "audit_unavailable" {
                try? await broker.audit(
                    AuditEntry(
                        kind: .authentication, actor: "login", action: "login", resource: method, outcome: .failure,
                        details: ["reason": .string(error.code)]))
            }
            throw error
        }
    }

    /// Spends an issued challenge: refused when it was never issued, was used, or expired.
    private func spendChallenge(_ nonce: String) async throws(BrokerError) {
        let spent: Bool
        do { spent = try await ports.nonces.consume(nonce, namespace: Self.challengeNamespace, now: broker.clock()) } catch {
            throw BrokerError(.unavailable, "store_unavailable", "the challenge cannot be checked")
        }
        guard spent else {
            throw BrokerError(.unauthenticated, "identity_replay", "the nonce is not a live challenge of this server (used or expired)")
        }
    }

    /// The `nonce` claim of a compact JWS's payload, read without checking anything.
    static func payloadNonce(_ jws: String) -> String? {
        let parts = jws.split(separator: ".", omittingEmptySubsequences: false)
        guard parts.count == 3, let payload = Base64URL.decode(Array(parts[1].utf8)), let root = try? JSONNode.parse(payload) else { return nil }
        return root["nonce"]?.stringValue
    }

    static func member(_ value: ClaimValue, _ name: String) -> ClaimValue? {
        guard case .record(let record) = value else { return nil }
        return record[name]
    }

    static func notConfigured(_ what: String) -> BrokerError {
        BrokerError(.notFound, "login_not_configured", "\(what) logins are not configured on this server")
    }
}
