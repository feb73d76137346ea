// JWT claims sets behind a valid signature: `Tools/fuzz jwt-claims`. See IdentityFuzz.swift for the shared checks.
//
// The `jwt` target cannot forge the fixture issuer's signatures, so every mutation of a token's payload stops at the
// signature check and the claim checks after it (`iss`, `sub`, `aud`/`azp`, `exp`/`nbf`/`iat`, `nonce`, attributes)
// only ever see the fixtures' own payloads. Here the input is the claims set itself (the JSON, not base64url): the
// harness signs it with ES256 under a key of its own that the verifiers trust (a JWKS with that one key, written to a
// temporary file at start), once with `typ: JWT` for the ID-token verifier and once with `typ: at+jwt` for the
// access-token verifier. Issuer, audience, nonce and time are the jwt manifest's, as in the `jwt` target. Seeds:
// Tools/fuzz decodes the payloads of Fixtures/identity/jwt/*.jwt into the corpus.
//
// Checks, beyond the shared ones: a token this harness signed is never refused for its signature, algorithm, key,
// type or critical headers (only for its claims, or as malformed when the claims set is not a JSON object); an
// accepted token's principal has the configured issuer and our audience, and the claims set's `sub` and `iss` are the
// principal's. (Unlike the `jwt` target, both verifiers may accept the same claims set: each gets its own `typ`.)
import Crypto
import Foundation
import KBSClaims
import KBSIdentity

func makeJWTClaimsFuzzCheck() -> IdentityFuzzCheck {
    let fixtures = IdentityFixtures.load("jwt")
    // A fixed key, so runs are repeatable (ECDSA signatures still differ; verification does not depend on that).
    let key = try! P256.Signing.PrivateKey(rawRepresentation: [UInt8](repeating: 0x4B, count: 32))
    let keyID = "kbs-fuzz-es256"
    let point = Array(key.publicKey.rawRepresentation)
    let jwks =
        #"{"keys":[{"kty":"EC","crv":"P-256","x":"\#(base64URL(point[0..<32]))","y":"\#(base64URL(point[32...]))","#
        + #""kid":"\#(keyID)","alg":"ES256","use":"sig"}]}"#
    let jwksPath = NSTemporaryDirectory() + "/kbs-fuzz-jwt-claims.jwks.json"  // same content in every process
    guard FileManager.default.createFile(atPath: jwksPath, contents: Data(jwks.utf8)) else {
        fuzzSetupFailure("cannot write the harness's JWKS to \(jwksPath)")
    }
    var idTokenOptions = fixtures.options
    idTokenOptions["jwks"] = jwksPath
    idTokenOptions["jwks_refresh"] = nil
    idTokenOptions["algorithms"] = nil
    var accessTokenOptions = idTokenOptions
    accessTokenOptions["nonce"] = nil
    accessTokenOptions["access_token"] = "true"
    let idTokens = fixtures.verifier(.jwt, idTokenOptions)
    let accessTokens = fixtures.verifier(.jwt, accessTokenOptions)
    let issuer = fixtures.options["issuer"]!
    let audience = fixtures.options["audience"]!
    let now = fixtures.now
    let idHeader = base64URL(Array(#"{"alg":"ES256","kid":"\#(keyID)","typ":"JWT"}"#.utf8))
    let accessHeader = base64URL(Array(#"{"alg":"ES256","kid":"\#(keyID)","typ":"at+jwt"}"#.utf8))
    /// Refusals a token this harness signed must never get.
    let impossible: Set<IdentityErrorReason> = [
        .signature, .algorithm, .unknownKey, .untrustedKey, .weakKey, .invalidKey,
        .unsupported, .tokenType, .critical,
    ]

    @Sendable func token(_ header: String, _ claims: [UInt8]) -> [UInt8] {
        let signingInput = header + "." + base64URL(claims)
        let signature = try! key.signature(for: Data(signingInput.utf8))
        return Array((signingInput + "." + base64URL(Array(signature.rawRepresentation))).utf8)
    }

    /// The checks on an accepted token beyond the shared ones.
    @Sendable func checkAccepted(_ principal: Principal, claims: [UInt8]) {
        fuzzCheck(principal.issuer == issuer, "jwt-claims: accepted with issuer \(principal.issuer), not \(issuer)")
        guard let audiences = fuzzStrings(principal.attributes["aud"]), audiences.contains(audience) else {
            fuzzFailure("jwt-claims: accepted, but `aud` \(String(describing: principal.attributes["aud"])) lacks \(audience)")
        }
        guard let node = try? JSONNode.parse(claims), node["sub"]?.stringValue == principal.subject,
            node["iss"]?.stringValue == principal.issuer
        else { fuzzFailure("jwt-claims: accepted, but the claims set's `sub`/`iss` are not the principal's") }
    }

    return { claims in
        for (verifier, header) in [(idTokens, idHeader), (accessTokens, accessHeader)] {
            let credential = token(header, claims)
            let outcome = verifySynchronously(verifier, credential, at: now)
            if case .failure(let error) = outcome {
                fuzzCheck(!impossible.contains(error.reason), "jwt-claims: a token signed by the trusted key was refused: \(error)")
            }
            if let principal = checkOutcome(outcome, of: credential, kind: .jwt, at: now) { checkAccepted(principal, claims: claims) }
        }
    }
}

/// Base64url without padding (RFC 7515 §2).
func base64URL(_ bytes: some Collection<UInt8>) -> String {
    Data(bytes).base64EncodedString().replacingOccurrences(of: "+", with: "-").replacingOccurrences(of: "/", with: "_")
        .replacingOccurrences(of: "=", with: "")
}
