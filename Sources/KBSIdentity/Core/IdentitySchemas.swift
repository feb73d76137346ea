package import KBSClaims

/// The claim schemas of authenticated principals, registered with the policy checker.
///
/// `Principal` is what every verifier fills in; each kind's verified extras hang off an optional member named for
/// the kind (`principal.siwe.chain_id`), the same shape ``Principal/json`` prints, so what `kbs identity verify`
/// shows is what a policy reads.
package enum IdentitySchemas {
    /// `Principal` and one record per credential kind.
    package static let all: [ClaimSchema] = [principal, jwt, saml, eip191, eip712, siwe, did, hmac, apiKey]

    /// `registry` with every identity schema added.
    package static func register(into registry: ClaimSchemaRegistry) -> ClaimSchemaRegistry {
        var result = registry
        for schema in all { result.register(schema) }
        return result
    }

    package static let principal = ClaimSchema(
        typeName: "Principal",
        summary: "an authenticated principal: who, vouched for by whom, proved how",
        fields: [
            .init("id", .string, doc: "the subject id role bindings name: oidc:<issuer>#<sub>, saml:<IdP>#<NameID>, eth:<address>, a DID, …"),
            .init("subject", .string, doc: "a JWT `sub`, an EIP-55 address, a DID, an API key's subject"),
            .init("issuer", .string, doc: "the token issuer, `eip155:<chain>`, `did:<method>`, `hmac`"),
            .init("method", .string, doc: "how it was proved: oidc, saml, eip191, eip712, siwe, did, hmac, apikey, capability"),
            .init("verified_at", .time, doc: "when the credential was verified"),
            .init("jwt", .record(jwt.record), optional: true, doc: "present when method is jwt"),
            .init("saml", .record(saml.record), optional: true, doc: "present when method is saml"),
            .init("eip191", .record(eip191.record), optional: true, doc: "present when method is eip191"),
            .init("eip712", .record(eip712.record), optional: true, doc: "present when method is eip712"),
            .init("siwe", .record(siwe.record), optional: true, doc: "present when method is siwe"),
            .init("did", .record(did.record), optional: true, doc: "present when method is did"),
            .init("hmac", .record(hmac.record), optional: true, doc: "present when method is hmac"),
            .init("api_key", .record(apiKey.record), optional: true, doc: "present when method is api_key"),
        ])

    package static let jwt = ClaimSchema(
        typeName: "JWTClaims",
        summary: "verified claims of an OIDC ID token or OAuth access token",
        fields: [
            .init("aud", .list(.string), doc: "the audiences the token names"),
            .init("alg", .string, doc: "the JWS algorithm that verified"),
            .init("kid", .string, optional: true, doc: "the key id that verified"),
            .init("azp", .string, optional: true, doc: "the authorized party"),
            .init("email", .string, optional: true),
            .init("email_verified", .bool, optional: true),
            .init("name", .string, optional: true),
            .init("client_id", .string, optional: true, doc: "the OAuth client (access tokens)"),
            .init("acr", .string, optional: true, doc: "the authentication context class"),
            .init("scope", .list(.string), optional: true, doc: "OAuth scopes (access tokens)"),
            .init("exp", .time, optional: true, doc: "when the token expires"),
        ])

    package static let saml = ClaimSchema(
        typeName: "SAMLClaims",
        summary: "a SAML 2.0 assertion from a pinned IdP",
        fields: [
            .init("assertion_id", .string, doc: "the assertion's ID (used once)"),
            .init("attributes", .map(.list(.string)), doc: "the AttributeStatement: values by attribute Name"),
            .init("name_id_format", .string, optional: true, doc: "the NameID Format URI"),
            .init("session_index", .string, optional: true, doc: "the AuthnStatement SessionIndex"),
            .init("authn_context", .string, optional: true, doc: "the AuthnContextClassRef, e.g. …:PasswordProtectedTransport"),
            .init("session_not_on_or_after", .time, optional: true, doc: "the IdP's SessionNotOnOrAfter: sessions end by then"),
        ])

    package static let eip191 = ClaimSchema(
        typeName: "EIP191Claims",
        summary: "an EIP-191 personal_sign signature",
        fields: [.init("address", .string, doc: "the EIP-55 address that signed")])

    package static let eip712 = ClaimSchema(
        typeName: "EIP712Claims",
        summary: "an EIP-712 typed-data signature",
        fields: [
            .init("address", .string, doc: "the EIP-55 address that signed"),
            .init("primary_type", .string, doc: "the signed struct's type name"),
            .init("digest", .string, doc: "the EIP-712 digest, 0x-prefixed hex"),
            .init("chain_id", .int, optional: true, doc: "the domain's chainId"),
            .init("verifying_contract", .string, optional: true, doc: "the domain's verifyingContract"),
            .init("domain_name", .string, optional: true, doc: "the domain's name"),
        ])

    package static let siwe = ClaimSchema(
        typeName: "SIWEClaims",
        summary: "a Sign-In with Ethereum (EIP-4361) login",
        fields: [
            .init("address", .string, doc: "the EIP-55 address that signed"),
            .init("chain_id", .int),
            .init("domain", .string),
            .init("uri", .string),
            .init("nonce", .string),
            .init("statement", .string, optional: true),
            .init("request_id", .string, optional: true),
            .init("resources", .list(.string), optional: true),
        ])

    package static let did = ClaimSchema(
        typeName: "DIDClaims",
        summary: "a JWS signed by a DID's verification method",
        fields: [
            .init("verification_method", .string, doc: "the DID URL of the key that signed"),
            .init("key_type", .string, doc: "Ed25519, P-256, P-384 or secp256k1"),
            .init("alg", .string, doc: "the JWS algorithm"),
            .init("chain_id", .string, optional: true, doc: "did:pkh: the account's CAIP-2 chain, e.g. eip155:1"),
        ])

    package static let hmac = ClaimSchema(
        typeName: "HMACClaims",
        summary: "an RFC 9421 HTTP message signature with an API key",
        fields: [
            .init("covered", .list(.string), doc: "the covered components, e.g. @method, content-digest"),
            .init("created", .time, doc: "the signature's `created` time"),
        ])

    package static let apiKey = ClaimSchema(
        typeName: "APIKeyClaims",
        summary: "a bearer API key checked against its peppered hash",
        fields: [.init("key_id", .string, doc: "the key's public id")])
}
