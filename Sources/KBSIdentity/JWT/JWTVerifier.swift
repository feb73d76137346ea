package import Foundation
import KBSClaims
import KBSJOSE

/// OIDC ID tokens and RFC 9068 access tokens: a compact JWS checked against one issuer's keys, then its claims.
///
/// Order follows identity.md §2.1: size and shape, header (algorithm allow-list, no key from the token, no
/// critical extensions, `typ`), key by exact `kid`, signature over the bytes as received, then the payload's
/// claims (exact `iss`, `aud`/`azp`, `exp`/`nbf`/`iat` within 60 s, `nonce`).
package struct JWTVerifier: CredentialVerifier {
    package var kind: CredentialKind { .jwt }

    /// The `iss` tokens must carry, compared as exact strings (no trailing-slash normalisation).
    package var issuer: String
    /// Our client id (ID tokens) or resource identifier (access tokens).
    package var audience: String
    /// The nonce bound to the login, for ID tokens.
    package var nonce: String?
    /// Expect an RFC 9068 access token (`typ: at+jwt`) rather than an ID token.
    package var accessToken: Bool
    /// The algorithms this issuer may use.
    package var algorithms: Set<String>
    private let keys: IssuerKeys

    /// Every asymmetric algorithm but ES256K: RS256/384/512, PS256/384/512, ES256, ES384, EdDSA.
    package static var defaultAlgorithms: Set<String> { Set(JWSAlgorithm.defaultAllowed.map(\.rawValue)) }

    /// Creates a verifier for one issuer.
    package init(
        issuer: String, audience: String, nonce: String? = nil, accessToken: Bool = false,
        algorithms: Set<String> = JWTVerifier.defaultAlgorithms, keys: IssuerKeys
    ) {
        self.issuer = issuer
        self.audience = audience
        self.nonce = nonce
        self.accessToken = accessToken
        self.algorithms = algorithms
        self.keys = keys
    }

    package func verify(_ credential: [UInt8], at time: Date) async throws(IdentityError) -> Principal {
        let now = Int64(time.timeIntervalSince1970.rounded(.down))
        let jws: CompactJWS
        let algorithm: JWSAlgorithm
        let keyID: String?
        do throws(JOSEError) {
            jws = try CompactJWS(credential)
            algorithm = try jws.algorithm(allowed: Set(algorithms.compactMap(JWSAlgorithm.init(rawValue:))))
            try jws.checkHeaderKeySources()
            keyID = try jws.keyID()
        } catch {
            throw IdentityError(error)
        }
        try checkType(jws)
        let key = try await keys.key(for: keyID, now: now)
        if let declared = key.algorithm, declared != algorithm.rawValue {
            throw IdentityError(.algorithm, "the key is declared for \(declared), the token says \(algorithm.rawValue)")
        }
        do throws(JOSEError) { try jws.verify(algorithm, with: key.key) } catch { throw IdentityError(error) }

        let claims = try CredentialJSON.object(jws.payload, what: "JWT claims set")
        guard let tokenIssuer = try CredentialJSON.string(claims, "iss", in: "claims") else {
            throw IdentityError(.missingClaim, "the token has no `iss`")
        }
        guard tokenIssuer == issuer else { throw IdentityError(.issuer, "the token's issuer is not the configured one") }
        guard let subject = try CredentialJSON.string(claims, "sub", in: "claims"), !subject.isEmpty else {
            throw IdentityError(.missingClaim, "the token has no `sub`")
        }
        let audiences = try JWTVerifier.audiences(claims)
        guard audiences.contains(audience) else { throw IdentityError(.audience, "the token is not meant for this audience") }
        let authorizedParty = try CredentialJSON.string(claims, "azp", in: "claims")
        if !accessToken, audiences.count > 1 || authorizedParty != nil {
            // OIDC Core §3.1.3.7: with several audiences, `azp` must be present and be us.
            guard authorizedParty == audience else { throw IdentityError(.audience, "`azp` is not this client") }
        }
        try JWTVerifier.checkTimes(claims, now: now)
        if !accessToken, let nonce {
            guard let tokenNonce = try CredentialJSON.string(claims, "nonce", in: "claims"),
                constantTimeEqual(Array(tokenNonce.utf8), Array(nonce.utf8))
            else { throw IdentityError(.nonce, "the token's nonce is not the one this login sent") }
        }

        var attributes: [String: ClaimValue] = ["aud": .strings(audiences), "alg": .string(algorithm.rawValue)]
        if let keyID { attributes["kid"] = .string(keyID) }
        for name in ["azp", "email", "client_id", "acr", "name"] {
            if let value = claims[name]?.stringValue { attributes[name] = .string(value) }
        }
        if case .bool(let verified) = claims["email_verified"]?.value { attributes["email_verified"] = .bool(verified) }
        if let scope = claims["scope"]?.stringValue { attributes["scope"] = .strings(scope.split(separator: " ").map(String.init)) }
        if let expiry = try CredentialJSON.seconds(claims, "exp", in: "claims") { attributes["exp"] = .seconds(expiry) }
        return Principal(subject: subject, issuer: tokenIssuer, method: .jwt, verifiedAt: time, attributes: attributes)
    }

    /// An ID token is `typ: JWT` or untyped; an access token must be `at+jwt` (RFC 9068 §2.1), and neither may
    /// pass for the other (RFC 8725 §3.11).
    private func checkType(_ jws: CompactJWS) throws(IdentityError) {
        let type = try CredentialJSON.string(jws.header, "typ", in: "JOSE header")?.lowercased()
        let isAccessToken = type == "at+jwt" || type == "application/at+jwt"
        if accessToken {
            guard isAccessToken else { throw IdentityError(.tokenType, "an access token must have `typ: at+jwt`") }
        } else {
            guard type == nil || type == "jwt" || type == "application/jwt" else {
                throw IdentityError(.tokenType, "an ID token must have `typ: JWT`, not `\(type!)`")
            }
        }
    }

    private static func audiences(_ claims: JSONNode) throws(IdentityError) -> [String] {
        guard let node = claims["aud"] else { throw IdentityError(.missingClaim, "the token has no `aud`") }
        if let single = node.stringValue { return [single] }
        guard case .array(let items) = node.value else { throw IdentityError(.malformed, "`aud` must be a string or an array of strings") }
        var result: [String] = []
        for item in items {
            guard let text = item.stringValue else { throw IdentityError(.malformed, "`aud` must be a string or an array of strings") }
            result.append(text)
        }
        return result
    }

    /// `exp` is required; `nbf` and `iat` are checked when present; each with at most 60 s of leeway.
    static func checkTimes(_ claims: JSONNode, now: Int64) throws(IdentityError) {
        guard let expiry = try CredentialJSON.seconds(claims, "exp", in: "claims") else {
            throw IdentityError(.missingClaim, "the token has no `exp`")
        }
        // Subtract from `now` rather than add to the token's value: `exp` may be Int64.max, and adding would trap.
        guard now - clockLeewaySeconds <= expiry else { throw IdentityError(.expired, "the token expired") }
        if let notBefore = try CredentialJSON.seconds(claims, "nbf", in: "claims"), notBefore > now + clockLeewaySeconds {
            throw IdentityError(.notYetValid, "the token is not valid yet")
        }
        if let issued = try CredentialJSON.seconds(claims, "iat", in: "claims"), issued > now + clockLeewaySeconds {
            throw IdentityError(.issuedInFuture, "the token was issued in the future")
        }
    }
}
