// DID-signed proofs (compact JWS, `kid` a DID URL): `Tools/fuzz did`. See IdentityFuzz.swift for the shared checks.
//
// The verifier is `DIDJWSVerifier(audience:, nonce:, fetcher: nil)` with the audience and nonce of
// Fixtures/identity/did/manifest.json, checked at its `now`: did:key (multibase, multicodec varint, Ed25519, P-256
// and secp256k1 points), did:jwk (base64url JWK) and did:pkh (CAIP-10 account, ES256K-R recovery) resolve locally;
// did:web has no fetcher here and is refused as `unsupported` (its documents would come from the network). Seeds:
// Fixtures/identity/did/*.jws.
//
// Checks on an accepted proof, beyond the shared ones: the subject is a DID of a locally resolved method and the
// issuer is `did:<that method>`; the `verification_method` attribute is a DID URL of the subject (or, for did:pkh,
// of the account it canonicalises); the `alg` attribute is one the verifier allows.
import Foundation
import KBSClaims
import KBSIdentity

func makeDIDFuzzCheck() -> IdentityFuzzCheck {
    let fixtures = IdentityFixtures.load("did")
    guard let audience = fixtures.options["audience"], let nonce = fixtures.options["nonce"] else {
        fuzzSetupFailure("Fixtures/identity/did/manifest.json names no `audience` and `nonce`")
    }
    let verifier = DIDJWSVerifier(audience: audience, nonce: nonce, fetcher: nil)
    let now = fixtures.now
    let algorithms: Set<String> = ["EdDSA", "ES256", "ES384", "ES256K", "ES256K-R"]

    return { credential in
        guard let principal = checkOutcome(verifySynchronously(verifier, credential, at: now), of: credential, kind: .did, at: now) else {
            return
        }
        let method = principal.subject.split(separator: ":", maxSplits: 2, omittingEmptySubsequences: false)
        fuzzCheck(method.count == 3 && method[0] == "did", "did: subject \(principal.subject.prefix(80)) is not a DID")
        fuzzCheck(["key", "jwk", "pkh"].contains(method[1]), "did: accepted did:\(method[1]) without resolving it locally")
        fuzzCheck(principal.issuer == "did:" + method[1], "did: issuer \(principal.issuer) for a did:\(method[1]) subject")
        guard case .string(let verificationMethod)? = principal.attributes["verification_method"], verificationMethod.contains("#") else {
            fuzzFailure("did: `verification_method` is \(String(describing: principal.attributes["verification_method"]))")
        }
        if method[1] == "pkh" {
            fuzzCheck(
                verificationMethod.lowercased().hasPrefix(principal.subject.lowercased() + "#"),
                "did: verification method \(verificationMethod.prefix(80)) is not the account \(principal.subject)")
        } else {
            fuzzCheck(verificationMethod.hasPrefix(principal.subject + "#"), "did: verification method of another DID than the subject")
        }
        guard case .string(let algorithm)? = principal.attributes["alg"], algorithms.contains(algorithm) else {
            fuzzFailure("did: accepted with `alg` \(String(describing: principal.attributes["alg"]))")
        }
    }
}
