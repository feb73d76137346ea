// Bearer API keys (`kbs_k_<16 hex key id>_<base64url 32-byte secret>`): `Tools/fuzz apikey`. See IdentityFuzz.swift for
// the shared checks.
//
// `APIKeys.verify` with a fixed pepper and an in-memory lookup of three records: a live key, a revoked one and an
// expired one (the secrets are the bytes 0…31, 32…63 and 64…95; the key ids `00…01`, `00…02`, `00…03`), checked at a
// fixed time. The input is the presented key, as the `Authorization: Bearer` value reaches the checker (its bytes
// decoded as UTF-8). Seeds (Tools/fuzz writes them): the three keys, and the live key with a wrong secret.
//
// Checks, beyond the shared ones: a refusal is one of the reasons `APIKeys.verify` documents (`malformed`,
// `unknown_key`, `signature`, `revoked`, `expired`); a key is accepted only as the live record (its subject and key
// id), and only when the input is exactly that key's text (no other spelling of the id or secret passes).
import Crypto
import Foundation
import KBSClaims
import KBSIdentity

/// `APIKeys` as a ``CredentialVerifier``, so the shared checks apply.
private struct APIKeyFuzzVerifier: CredentialVerifier {
    var kind: CredentialKind { .apiKey }
    let keys: APIKeys

    func verify(_ credential: [UInt8], at time: Date) async throws(IdentityError) -> Principal {
        try await keys.verify(String(decoding: credential, as: UTF8.self), at: time)
    }
}

/// The live key's text (Tools/fuzz writes the same seeds).
let apiKeyFuzzLiveKey = APIKeys.prefix + "0000000000000001_" + Base64URL.encode(Array(0..<32))

func makeAPIKeyFuzzCheck() -> IdentityFuzzCheck {
    let now = Date(timeIntervalSince1970: 1_800_000_000)
    let pepper = [UInt8](repeating: 0x70, count: 32)
    // What the store keeps: HMAC-SHA256(pepper, secret), as `APIKeys.mint` computes it.
    func record(_ id: String, _ secret: [UInt8], expiresAt: Int64? = nil, revokedAt: Int64? = nil) -> APIKeys.Record {
        let hash = Array(HMAC<SHA256>.authenticationCode(for: secret, using: SymmetricKey(data: pepper)))
        return APIKeys.Record(keyID: id, secretHash: hash, subject: "apikey:" + id, expiresAt: expiresAt, revokedAt: revokedAt)
    }
    let records: [String: APIKeys.Record] = [
        "0000000000000001": record("0000000000000001", Array(0..<32)),
        "0000000000000002": record("0000000000000002", Array(32..<64), revokedAt: 1_700_000_000),
        "0000000000000003": record("0000000000000003", Array(64..<96), expiresAt: 1_799_999_999),
    ]
    let keys: APIKeys
    do throws(IdentityError) {
        keys = try APIKeys(pepper: pepper) { id throws(IdentityError) in records[id] }
    } catch {
        fuzzSetupFailure("APIKeys: \(error)")
    }
    let verifier = APIKeyFuzzVerifier(keys: keys)
    let reasons: Set<IdentityErrorReason> = [.malformed, .unknownKey, .signature, .revoked, .expired]

    return { credential in
        let outcome = verifySynchronously(verifier, credential, at: now)
        if case .failure(let error) = outcome {
            fuzzCheck(reasons.contains(error.reason), "apikey: refused as \(error.reason.rawValue), not a reason APIKeys.verify documents")
        }
        guard let principal = checkOutcome(outcome, of: credential, kind: .apiKey, at: now) else { return }
        fuzzCheck(principal.subject == "apikey:0000000000000001", "apikey: accepted as \(principal.subject)")
        let keyID = principal.attributes["key_id"]
        fuzzCheck(keyID == .string("0000000000000001"), "apikey: accepted with key id \(String(describing: keyID))")
        fuzzCheck(credential.elementsEqual(apiKeyFuzzLiveKey.utf8), "apikey: accepted another spelling of the live key")
    }
}
