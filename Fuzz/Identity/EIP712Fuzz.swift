// EIP-712 typed-data signatures (`{"typedData", "signature"}`): `Tools/fuzz eip712`. See IdentityFuzz.swift for the
// shared checks.
//
// The verifier is the one `POST /kbs/v1/login/eip712` makes: `TypedDataVerifier(address: nil, domainName:)`, any signer
// (the login learns the account from the signature), the domain name the login fixture's (`Hanzo KBS`, from
// Fixtures/identity/eip712/manifest.json's `login` case), no chain or contract pinned; checked at the manifest's `now`.
// Every input goes through the credential JSON, the typed-data model (types, primary type, struct and array
// encoding, atomic values), the digest and secp256k1 recovery before the domain check, so the fixtures signed for
// `Ether Mail` (refused as `domain`) exercise the parsers as fully as the accepted login fixture. Seeds:
// Fixtures/identity/eip712/*.json.
//
// Checks on accepted typed data, beyond the shared ones: the subject is an EIP-55 address equal to the `address`
// attribute, the issuer is `eip155:<chain_id>` (or `eip712` without a chain id), `domain_name` is ours, `digest` is a
// 32-byte hex digest; and a verifier that expects the subject's address accepts the same credential (recovery and the
// expected-address comparison agree).
import Foundation
import KBSClaims
import KBSIdentity

func makeEIP712FuzzCheck() -> IdentityFuzzCheck {
    let fixtures = IdentityFixtures.load("eip712")
    let domain = "Hanzo KBS"
    let verifier = TypedDataVerifier(address: nil, domainName: domain)
    let now = fixtures.now

    return { credential in
        guard let principal = checkOutcome(verifySynchronously(verifier, credential, at: now), of: credential, kind: .eip712, at: now) else {
            return
        }
        fuzzCheck(principal.subject.utf8.count == 42 && principal.subject.hasPrefix("0x"), "eip712: subject \(principal.subject) is not an address")
        fuzzCheck(principal.attributes["address"] == .string(principal.subject), "eip712: subject and `address` attribute differ")
        switch principal.attributes["chain_id"] {
        case .int(let chain)?: fuzzCheck(principal.issuer == "eip155:\(chain)", "eip712: issuer \(principal.issuer) is not eip155:\(chain)")
        case nil: fuzzCheck(principal.issuer == "eip712", "eip712: issuer \(principal.issuer) without a chain id")
        case let other?: fuzzFailure("eip712: `chain_id` is \(other)")
        }
        let domainName = principal.attributes["domain_name"]
        fuzzCheck(domainName == .string(domain), "eip712: accepted for domain \(String(describing: domainName))")
        guard case .string(let digest)? = principal.attributes["digest"], digest.utf8.count == 66, digest.hasPrefix("0x") else {
            fuzzFailure("eip712: `digest` is \(String(describing: principal.attributes["digest"]))")
        }
        let pinned = TypedDataVerifier(address: principal.subject, domainName: domain)
        guard case .success(let again) = verifySynchronously(pinned, credential, at: now), again == principal else {
            fuzzFailure("eip712: accepted from any signer as \(principal.subject), but not when \(principal.subject) is expected")
        }
    }
}
