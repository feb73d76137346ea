// JWT (OIDC ID tokens and RFC 9068 access tokens): `Tools/fuzz jwt`. See IdentityFuzz.swift for the shared checks.
//
// Trust options are Fixtures/identity/jwt/manifest.json's (its JWKS, issuer, audience and nonce), checked at its
// `now`, so the fixtures' valid tokens (the seed corpus) are accepted. Every input is verified twice: as an ID token
// (the manifest's options) and as an access token (`access_token`, no nonce, as the fixture case
// `valid_access_token`), which reach different `typ`, `azp` and nonce branches. Each verifier keeps its key cache
// across inputs, as the server does; an unknown `kid` forces one re-read of the JWKS file per 300 s of token time,
// and that time is fixed, so it happens at most once per verifier.
//
// Checks on an accepted token, beyond the shared ones: the principal's issuer is the configured one, its `aud`
// attribute holds our audience, its `alg` is one the verifier allows; and no token passes as both an ID token
// and an access token (their `typ`s exclude each other).
import Foundation
import KBSClaims
import KBSIdentity

func makeJWTFuzzCheck() -> IdentityFuzzCheck {
    let fixtures = IdentityFixtures.load("jwt")
    let idTokenOptions = fixtures.options
    var accessTokenOptions = fixtures.options
    accessTokenOptions["nonce"] = nil
    accessTokenOptions["access_token"] = "true"
    let idTokens = fixtures.verifier(.jwt, idTokenOptions)
    let accessTokens = fixtures.verifier(.jwt, accessTokenOptions)
    let issuer = fixtures.options["issuer"]!
    let audience = fixtures.options["audience"]!
    let algorithms = fixtures.options["algorithms"].map { Set($0.split(separator: ",").map(String.init)) } ?? JWTVerifier.defaultAlgorithms
    let now = fixtures.now

    return { credential in
        let asIDToken = checkOutcome(verifySynchronously(idTokens, credential, at: now), of: credential, kind: .jwt, at: now)
        let asAccessToken = checkOutcome(verifySynchronously(accessTokens, credential, at: now), of: credential, kind: .jwt, at: now)
        for principal in [asIDToken, asAccessToken].compactMap({ $0 }) {
            fuzzCheck(principal.issuer == issuer, "jwt: accepted with issuer \(principal.issuer), not \(issuer)")
            guard let audiences = fuzzStrings(principal.attributes["aud"]), audiences.contains(audience) else {
                fuzzFailure("jwt: accepted, but `aud` \(String(describing: principal.attributes["aud"])) lacks \(audience)")
            }
            guard case .string(let algorithm)? = principal.attributes["alg"], algorithms.contains(algorithm) else {
                fuzzFailure("jwt: accepted with `alg` \(String(describing: principal.attributes["alg"])), not on the allow-list")
            }
        }
        fuzzCheck(asIDToken == nil || asAccessToken == nil, "jwt: one token accepted both as an ID token and as an access token")
    }
}
