// Sign-In with Ethereum (EIP-4361, `{"message", "signature"}`): `Tools/fuzz siwe`. See IdentityFuzz.swift for the
// shared checks.
//
// The only trust option is the manifest's `domain` (Fixtures/identity/siwe/manifest.json), checked at its `now`: no
// expected nonce, chain or address, so mutated messages are not stopped at those comparisons and reach the time and
// replay checks. Each input gets a fresh verifier and replay cache, so inputs do not depend on one another.
//
// Checks on an accepted message, beyond the shared ones: the subject is the EIP-55 address the principal carries,
// the issuer is `eip155:<its chain id>`, its domain is ours; and the same message verified again with the same
// replay cache is refused as a replay (the nonce is single-use).
import Foundation
import KBSClaims
import KBSIdentity

func makeSIWEFuzzCheck() -> IdentityFuzzCheck {
    let fixtures = IdentityFixtures.load("siwe")
    guard let domain = fixtures.options["domain"] else { fuzzSetupFailure("Fixtures/identity/siwe/manifest.json names no `domain`") }
    let options = ["domain": domain]
    _ = fixtures.verifier(.siwe, options)  // a configuration problem stops the run before the first input
    let now = fixtures.now

    return { credential in
        let verifier = fixtures.verifier(.siwe, options, replay: MemoryReplayCache())
        guard let principal = checkOutcome(verifySynchronously(verifier, credential, at: now), of: credential, kind: .siwe, at: now) else {
            return
        }
        checkAcceptedSIWE(principal, credential, verifier: verifier, domain: domain, at: now)
    }
}

/// The checks on an accepted SIWE message (see the top of this file); `verifier` is the one that accepted it.
func checkAcceptedSIWE(_ principal: Principal, _ credential: [UInt8], verifier: any CredentialVerifier, domain: String, at now: Date) {
    fuzzCheck(principal.subject.utf8.count == 42 && principal.subject.hasPrefix("0x"), "siwe: subject \(principal.subject) is not an address")
    fuzzCheck(principal.attributes["address"] == .string(principal.subject), "siwe: subject and `address` attribute differ")
    guard case .int(let chain)? = principal.attributes["chain_id"], principal.issuer == "eip155:\(chain)" else {
        fuzzFailure("siwe: issuer \(principal.issuer) does not match `chain_id` \(String(describing: principal.attributes["chain_id"]))")
    }
    fuzzCheck(principal.attributes["domain"] == .string(domain), "siwe: accepted for domain \(String(describing: principal.attributes["domain"]))")
    switch verifySynchronously(verifier, credential, at: now) {
    case .failure(let error) where error.reason == .replay: break
    case .failure(let error): fuzzFailure("siwe: the second use was refused as \(error), not as a replay")
    case .success: fuzzFailure("siwe: the same message was accepted twice (its nonce is not single-use)")
    }
}
