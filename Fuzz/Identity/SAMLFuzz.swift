// SAML 2.0 responses: `Tools/fuzz saml`. The slot for the SAML verifier (Sources/KBSIdentity/SAML/).
//
// Runs once Fixtures/identity/saml/manifest.json exists: until then `Tools/fuzz saml` stops with a message and
// `Tools/fuzz all` skips saml. Nothing else needs to change when the fixtures land: this harness takes the manifest's
// trust options (`idp_cert`, `issuer`, `sp_entity_id`, `acs_url`, and `request_id` if set) and `now`, the seed corpus
// is the fixture folder, and the shared checks of IdentityFuzz.swift apply. Each input gets a fresh verifier and
// replay cache, so inputs do not depend on one another. libxml2 and libxmlsec1 are system libraries, not built with
// the sanitizers: libFuzzer sees coverage of the Swift side only, and ASan checks their memory use only through its
// malloc and libc interceptors.
//
// Checks on an accepted response, beyond the shared ones: the principal's issuer is the configured IdP entity id,
// and the same response verified again with the same replay cache is refused as a replay (SAMLVerifier: "the
// assertion id used once").
// Worth adding once the SAML contract says so: with `request_id` set, an accepted response answered it; comments or
// entity tricks inside NameID never change the subject of an otherwise accepted response.
import Foundation
import KBSClaims
import KBSIdentity

func makeSAMLFuzzCheck() -> IdentityFuzzCheck {
    let fixtures = IdentityFixtures.load("saml")
    let options = fixtures.options
    _ = fixtures.verifier(.saml, options)  // a configuration problem stops the run before the first input
    let issuer = options["issuer"]
    let now = fixtures.now

    return { credential in
        let verifier = fixtures.verifier(.saml, options, replay: MemoryReplayCache())
        guard let principal = checkOutcome(verifySynchronously(verifier, credential, at: now), of: credential, kind: .saml, at: now) else {
            return
        }
        if let issuer { fuzzCheck(principal.issuer == issuer, "saml: accepted with issuer \(principal.issuer), not \(issuer)") }
        switch verifySynchronously(verifier, credential, at: now) {
        case .failure(let error) where error.reason == .replay: break
        case .failure(let error): fuzzFailure("saml: the second use was refused as \(error), not as a replay")
        case .success: fuzzFailure("saml: the same response was accepted twice (its assertion id is not single-use)")
        }
    }
}
