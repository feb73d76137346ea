package import Foundation
import KBSClaims
import KBSXMLSecurity

/// SAML 2.0 Web SSO: a `<samlp:Response>` (the XML, not base64) whose assertion is signed by the pinned IdP
/// certificate, checked through libxmlsec1 and read only from the signed bytes (``SAMLSignedResponse``).
///
/// Then the bearer profile's checks: status, destination, issuer, audience, recipient, validity window,
/// `InResponseTo`, and the assertion id used once.
package struct SAMLVerifier: CredentialVerifier {
    package var kind: CredentialKind { .saml }
    /// The IdP's signing certificates (several during a rollover).
    var certificates: PEMCertificates
    /// The IdP entity id the assertion's `Issuer` must equal.
    package var issuer: String
    /// Our entity id, which an `Audience` must name.
    package var serviceProvider: String
    /// Our assertion consumer service URL: the `Destination` and the bearer `Recipient`.
    package var consumerURL: String
    /// The id of the `AuthnRequest` we sent, when the login started here; nil accepts IdP-initiated logins only.
    package var requestID: String?
    /// Where used assertion ids are remembered.
    package var replay: any ReplayCache

    /// Creates a verifier from the IdP's PEM certificate file contents.
    package init(
        certificatePEM: [UInt8], issuer: String, serviceProvider: String, consumerURL: String, requestID: String? = nil,
        replay: any ReplayCache = MemoryReplayCache()
    ) throws(IdentityError) {
        certificates = try PEMCertificates(certificatePEM)
        self.issuer = issuer
        self.serviceProvider = serviceProvider
        self.consumerURL = consumerURL
        self.requestID = requestID
        self.replay = replay
    }

    package func verify(_ credential: [UInt8], at time: Date) async throws(IdentityError) -> Principal {
        let now = Int64(time.timeIntervalSince1970.rounded(.down))
        // Libraries that do not initialise are this process's configuration, not the credential's fault.
        let unavailable = { (error: XMLSecurityError) in IdentityError(.configuration, error.message) }
        let claims = try XMLSecurity.withLock(unavailable: unavailable) { () throws(IdentityError) -> Claims in
            let signed = try SAMLSignedResponse(credential, certificates: certificates)
            return try check(signed, now: now)
        }
        let until = claims.expiry ?? now + 300
        guard try await replay.insert(claims.assertionID, namespace: "saml:" + issuer, expiry: until + clockLeewaySeconds, now: now) else {
            throw IdentityError(.replay, "this assertion was already used")
        }
        var attributes: [String: ClaimValue] = ["assertion_id": .string(claims.assertionID), "attributes": .lists(claims.attributes)]
        if let format = claims.nameIDFormat { attributes["name_id_format"] = .string(format) }
        if let session = claims.sessionIndex { attributes["session_index"] = .string(session) }
        if let context = claims.authnContext { attributes["authn_context"] = .string(context) }
        if let end = claims.sessionEnd { attributes["session_not_on_or_after"] = .seconds(end) }
        return Principal(subject: claims.subject, issuer: issuer, method: .saml, verifiedAt: time, attributes: attributes)
    }

    /// What the checks keep of a response.
    struct Claims {
        var subject: String
        var assertionID: String
        var expiry: Int64?
        var nameIDFormat: String?
        var sessionIndex: String?
        var authnContext: String?
        /// The IdP's `SessionNotOnOrAfter`: no session started from this login outlives it.
        var sessionEnd: Int64?
        var attributes: [String: [String]]
    }

    func check(_ signed: SAMLSignedResponse, now: Int64) throws(IdentityError) -> Claims {
        let saml = SAMLNames.assertionNamespace
        let samlp = SAMLNames.protocolNamespace
        let response = signed.response
        let assertion = signed.assertion

        let statusCode = try response.element("Status", in: samlp)?.element("StatusCode", in: samlp)?.attribute("Value")
        guard statusCode == SAMLNames.success else {
            throw IdentityError(.status, "the IdP answered \(statusCode.map { "`\($0.prefix(100))`" } ?? "no status"), not Success")
        }
        if let destination = response.attribute("Destination"), destination != consumerURL {
            throw IdentityError(.destination, "the response is addressed to another service")
        }
        if let responseIssuer = try response.element("Issuer", in: saml), responseIssuer.text != issuer {
            throw IdentityError(.issuer, "the response is from another IdP")
        }
        try checkInResponseTo(response.attribute("InResponseTo"), required: true)

        guard let assertionID = assertion.attribute("ID"), !assertionID.isEmpty else { throw IdentityError(.malformed, "the assertion has no ID") }
        guard try assertion.element("Issuer", in: saml)?.text == issuer else { throw IdentityError(.issuer, "the assertion is from another IdP") }
        let issued = try Self.time(assertion.attribute("IssueInstant"), "IssueInstant")
        guard let issued else { throw IdentityError(.missingClaim, "the assertion has no IssueInstant") }
        guard issued <= now + clockLeewaySeconds else { throw IdentityError(.issuedInFuture, "the assertion was issued in the future") }

        guard let subjectElement = try assertion.element("Subject", in: saml), let nameID = try subjectElement.element("NameID", in: saml) else {
            throw IdentityError(.missingClaim, "the assertion has no <Subject><NameID>")
        }
        let subject = nameID.text
        guard !subject.isEmpty else { throw IdentityError(.missingClaim, "the NameID is empty") }
        let expiry = try checkBearerConfirmation(subjectElement, now: now)

        var conditionsExpiry: Int64?
        if let conditions = try assertion.element("Conditions", in: saml) {
            if let notBefore = try Self.time(conditions.attribute("NotBefore"), "NotBefore"), notBefore > now + clockLeewaySeconds {
                throw IdentityError(.notYetValid, "the assertion is not valid yet")
            }
            if let notOnOrAfter = try Self.time(conditions.attribute("NotOnOrAfter"), "NotOnOrAfter") {
                guard now < notOnOrAfter + clockLeewaySeconds else { throw IdentityError(.expired, "the assertion's conditions expired") }
                conditionsExpiry = notOnOrAfter
            }
            let restrictions = conditions.elements("AudienceRestriction", in: saml)
            guard !restrictions.isEmpty else { throw IdentityError(.audience, "the assertion names no audience") }
            // Several restrictions must all hold; within one, any audience will do (SAML core §2.5.1.4).
            for restriction in restrictions where !restriction.elements("Audience", in: saml).contains(where: { $0.text == serviceProvider }) {
                throw IdentityError(.audience, "the assertion is for another service provider")
            }
        } else {
            throw IdentityError(.audience, "the assertion has no <Conditions> naming us as its audience")
        }

        var attributes: [String: [String]] = [:]
        for statement in assertion.elements("AttributeStatement", in: saml) {
            for attribute in statement.elements("Attribute", in: saml) {
                guard let name = attribute.attribute("Name") else { continue }
                attributes[name, default: []] += attribute.elements("AttributeValue", in: saml).map(\.text)
            }
        }
        // Web SSO (profiles §4.1.4.2) needs an authentication statement: an assertion of attributes alone is no login.
        guard let authn = try assertion.element("AuthnStatement", in: saml) else {
            throw IdentityError(.missingClaim, "the assertion has no <AuthnStatement>")
        }
        let sessionEnd = try Self.time(authn.attribute("SessionNotOnOrAfter"), "SessionNotOnOrAfter")
        let context = try authn.element("AuthnContext", in: saml)?.element("AuthnContextClassRef", in: saml)?.text
        return Claims(
            subject: subject, assertionID: assertionID, expiry: [expiry, conditionsExpiry].compactMap { $0 }.min(),
            nameIDFormat: nameID.attribute("Format"), sessionIndex: authn.attribute("SessionIndex"), authnContext: context,
            sessionEnd: sessionEnd, attributes: attributes)
    }

    /// A bearer `SubjectConfirmation` for our ACS URL that has not expired; returns its `NotOnOrAfter`.
    private func checkBearerConfirmation(_ subject: XMLElement, now: Int64) throws(IdentityError) -> Int64 {
        let saml = SAMLNames.assertionNamespace
        let bearers = subject.elements("SubjectConfirmation", in: saml).filter { $0.attribute("Method") == SAMLNames.bearer }
        guard !bearers.isEmpty else { throw IdentityError(.recipient, "the subject has no bearer confirmation") }
        var failure = IdentityError(.recipient, "no bearer confirmation names our ACS URL")
        for confirmation in bearers {
            guard let data = try confirmation.element("SubjectConfirmationData", in: saml), data.attribute("Recipient") == consumerURL else {
                continue
            }
            guard let notOnOrAfter = try Self.time(data.attribute("NotOnOrAfter"), "NotOnOrAfter") else {
                failure = IdentityError(.missingClaim, "the bearer confirmation has no NotOnOrAfter")
                continue
            }
            guard now < notOnOrAfter + clockLeewaySeconds else {
                failure = IdentityError(.expired, "the bearer confirmation expired")
                continue
            }
            if let notBefore = try Self.time(data.attribute("NotBefore"), "NotBefore"), notBefore > now + clockLeewaySeconds {
                failure = IdentityError(.notYetValid, "the bearer confirmation is not valid yet")
                continue
            }
            do throws(IdentityError) {
                // Profiles §4.1.4.2: a bearer confirmation answering an AuthnRequest carries its id too.
                try checkInResponseTo(data.attribute("InResponseTo"), required: true)
            } catch {
                failure = error
                continue
            }
            return notOnOrAfter
        }
        throw failure
    }

    /// `InResponseTo` must answer the request we sent, and must be absent when we sent none.
    private func checkInResponseTo(_ value: String?, required: Bool) throws(IdentityError) {
        switch (requestID, value) {
        case (nil, nil): return
        case (nil, .some): throw IdentityError(.inResponseTo, "the response answers a request this login did not send")
        case (.some, nil):
            if required { throw IdentityError(.inResponseTo, "the response does not say which request it answers") }
        case (.some(let expected), .some(let actual)):
            guard constantTimeEqual(Array(expected.utf8), Array(actual.utf8)) else {
                throw IdentityError(.inResponseTo, "the response answers another request")
            }
        }
    }

    /// Seconds since the epoch of an `xs:dateTime` attribute, nil when absent; `malformed` when unreadable.
    static func time(_ text: String?, _ name: String) throws(IdentityError) -> Int64? {
        guard let text else { return nil }
        guard let nanos = Timestamp.nanoseconds(fromRFC3339: text) else { throw IdentityError(.malformed, "`\(name)` is not a UTC dateTime") }
        return nanos / 1_000_000_000
    }
}
