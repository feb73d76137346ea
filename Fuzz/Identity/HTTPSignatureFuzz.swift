// RFC 9421 request signatures (the request-credential JSON `{"method", "target_uri", "headers", "body"}`):
// `Tools/fuzz httpsig`. See IdentityFuzz.swift for the shared checks.
//
// The verifier is `HTTPSignatureVerifier(keys:)` with the fixed keys of Fixtures/identity/hmac/keys.json and the strict
// requirements, checked at the manifest's `now`, so the fixtures' valid requests (the seeds, Fixtures/identity/hmac/)
// are accepted and mutations of them reach the request parser, the RFC 8941 structured-field parser
// (`Signature-Input`, `Signature`, `Content-Digest`), the covered-component and parameter checks, the signature base
// and the digest check. Each input gets a fresh replay cache, so inputs do not depend on one another.
//
// Checks on an accepted request, beyond the shared ones: the subject is one of the configured key ids, the issuer is
// `hmac`, the covered components include the required ones; and the same request verified again with the same replay
// cache is refused as a replay (the strict requirements demand a nonce).
import Foundation
import KBSClaims
import KBSIdentity

func makeHTTPSignatureFuzzCheck() -> IdentityFuzzCheck {
    let fixtures = IdentityFixtures.load("hmac")
    let path = fixtures.directory + "/" + (fixtures.options["keys"] ?? "keys.json")
    guard let data = FileManager.default.contents(atPath: path) else { fuzzSetupFailure("cannot read \(path)") }
    let keys: [String: [UInt8]]
    do throws(IdentityError) {
        keys = try HTTPSignatureVerifier.keys(fromJSON: Array(data))
    } catch {
        fuzzSetupFailure("\(path): \(error)")
    }
    let required = HTTPSignatureVerifier.Requirements.strict.components
    let now = fixtures.now

    return { credential in
        let verifier = HTTPSignatureVerifier(keys: keys, replay: MemoryReplayCache())
        guard let principal = checkOutcome(verifySynchronously(verifier, credential, at: now), of: credential, kind: .hmac, at: now) else {
            return
        }
        fuzzCheck(keys[principal.subject] != nil, "httpsig: accepted for key id \(principal.subject.prefix(80)), which is not configured")
        fuzzCheck(principal.issuer == "hmac", "httpsig: issuer \(principal.issuer)")
        guard let covered = fuzzStrings(principal.attributes["covered"]), required.isSubset(of: covered) else {
            fuzzFailure("httpsig: accepted, but `covered` \(String(describing: principal.attributes["covered"])) lacks a required component")
        }
        switch verifySynchronously(verifier, credential, at: now) {
        case .failure(let error) where error.reason == .replay: break
        case .failure(let error): fuzzFailure("httpsig: the second use was refused as \(error), not as a replay")
        case .success: fuzzFailure("httpsig: the same signed request was accepted twice (its nonce is not single-use)")
        }
    }
}
