package import Foundation
import KBSClaims
import KBSJOSE

/// A compact JWS signed by a DID's key: the header `kid` is a DID URL naming the verification method, the
/// payload `{iss: DID, aud, nonce, iat, exp}` binds our challenge. did:key and did:jwk are resolved locally, did:web through a fetcher;
/// did:pkh (eip155) names an Ethereum account, proved by an `ES256K-R` signature that recovers to it.
package struct DIDJWSVerifier: CredentialVerifier {
    package var kind: CredentialKind { .did }
    /// The `aud` the proof must name (this KBS).
    package var audience: String
    /// The challenge the proof must carry, when one was issued.
    package var nonce: String?
    /// Where did:web documents come from; nil refuses did:web as `unsupported`.
    package var fetcher: (any DocumentFetcher)?

    /// Creates a verifier.
    package init(audience: String, nonce: String? = nil, fetcher: (any DocumentFetcher)? = nil) {
        self.audience = audience
        self.nonce = nonce
        self.fetcher = fetcher
    }

    package func verify(_ credential: [UInt8], at time: Date) async throws(IdentityError) -> Principal {
        let now = Int64(time.timeIntervalSince1970.rounded(.down))
        let jws: CompactJWS
        let keyID: String?
        do throws(JOSEError) {
            jws = try CompactJWS(credential)
            try jws.checkHeaderKeySources()
            keyID = try jws.keyID()
        } catch {
            throw IdentityError(error)
        }
        guard let keyID, let hash = keyID.firstIndex(of: "#") else {
            throw IdentityError(.verificationMethod, "the header `kid` must be a DID URL with a fragment")
        }
        let did = String(keyID[..<hash])
        let fragment = keyID[keyID.index(after: hash)...]
        if did.hasPrefix("did:pkh:") {
            // An account, not a key: the signature recovers a key whose address must be the account's.
            let account = try DIDPKH(did)
            guard fragment == DIDPKH.fragment else {
                throw IdentityError(.verificationMethod, "`#\(fragment.prefix(60))` is not did:pkh's `#\(DIDPKH.fragment)`")
            }
            guard jws.header["alg"]?.stringValue == DIDPKH.algorithm else {
                throw IdentityError(.algorithm, "a did:pkh proof is signed with \(DIDPKH.algorithm)")
            }
            try account.verify(jws.signature, over: jws.signingInput)
            try checkClaims(jws, did: did, now: now)
            // One account, one principal: the subject spells the address in EIP-55 form however the proof wrote it.
            return Principal(
                subject: account.canonical, issuer: "did:pkh", method: .did, verifiedAt: time,
                attributes: [
                    "verification_method": .string(keyID), "key_type": .string("EC secp256k1 (Ethereum account)"),
                    "alg": .string(DIDPKH.algorithm), "chain_id": .string(account.chain),
                ])
        }
        let algorithm: JWSAlgorithm
        do throws(JOSEError) { algorithm = try jws.algorithm(allowed: [.edDSA, .es256, .es384, .es256k]) } catch { throw IdentityError(error) }
        if did.hasPrefix("did:web:") {
            guard let fetcher else { throw IdentityError(.unsupported, "did:web needs a document fetcher, and none is configured") }
            let key = try await DIDWeb.resolve(did, fragment: fragment, fetcher: fetcher)
            try Self.verify(jws, algorithm, with: key)
            try checkClaims(jws, did: did, now: now)
            return Principal(
                subject: did, issuer: "did:web", method: .did, verifiedAt: time,
                attributes: [
                    "verification_method": .string(keyID), "key_type": .string(key.name), "alg": .string(algorithm.rawValue),
                ])
        }
        let resolved = try DIDResolver.resolve(did)
        guard fragment == resolved.fragment else {
            throw IdentityError(.verificationMethod, "`#\(fragment.prefix(60))` is not a verification method of the DID")
        }
        try Self.verify(jws, algorithm, with: resolved.key)
        try checkClaims(jws, did: did, now: now)
        return Principal(
            subject: did, issuer: "did:" + resolved.method, method: .did, verifiedAt: time,
            attributes: [
                "verification_method": .string(keyID), "key_type": .string(resolved.key.name), "alg": .string(algorithm.rawValue),
            ])
    }

    /// Checks the signature with the DID's key, which the header's algorithm must fit.
    private static func verify(_ jws: CompactJWS, _ algorithm: JWSAlgorithm, with key: VerificationKey) throws(IdentityError) {
        guard algorithm.fits(key) else { throw IdentityError(.algorithm, "\(algorithm.rawValue) does not fit the DID's \(key.name) key") }
        do throws(JOSEError) { try jws.verify(algorithm, with: key) } catch { throw IdentityError(error) }
    }

    /// The proof's claims: `iss` is the signing DID, `aud` names us, the nonce is ours, and it is within its times.
    private func checkClaims(_ jws: CompactJWS, did: String, now: Int64) throws(IdentityError) {
        let claims = try CredentialJSON.object(jws.payload, what: "proof claims")
        guard let issuer = try CredentialJSON.string(claims, "iss", in: "claims") else {
            throw IdentityError(.missingClaim, "the proof has no `iss`")
        }
        guard issuer == did else { throw IdentityError(.verificationMethod, "the proof is signed by another DID's key than its `iss`") }
        let audiences: [String]
        switch claims["aud"]?.value {
        case .string(let single): audiences = [single]
        case .array(let items): audiences = items.compactMap(\.stringValue)
        default: throw IdentityError(.audience, "the proof names no audience")
        }
        guard audiences.contains(audience) else { throw IdentityError(.audience, "the proof is not meant for this audience") }
        if let nonce {
            guard let given = claims["nonce"]?.stringValue, constantTimeEqual(Array(given.utf8), Array(nonce.utf8)) else {
                throw IdentityError(.nonce, "the proof's nonce is not the challenge issued")
            }
        }
        try JWTVerifier.checkTimes(claims, now: now)
    }
}
