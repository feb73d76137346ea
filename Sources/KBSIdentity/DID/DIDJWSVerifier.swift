public import Foundation
import KBSClaims

/// A compact JWS signed by a DID's key: the header `kid` is a DID URL naming the verification method, the
/// payload `{iss: DID, aud, nonce, iat, exp}` binds our challenge. did:key and did:jwk are resolved locally.
public struct DIDJWSVerifier: CredentialVerifier {
    public var kind: CredentialKind { .did }
    /// The `aud` the proof must name (this KBS).
    public var audience: String
    /// The challenge the proof must carry, when one was issued.
    public var nonce: String?

    /// Creates a verifier.
    public init(audience: String, nonce: String? = nil) {
        self.audience = audience
        self.nonce = nonce
    }

    public func verify(_ credential: [UInt8], at time: Date) async throws(IdentityError) -> Principal {
        let now = Int64(time.timeIntervalSince1970.rounded(.down))
        let jws = try CompactJWS(credential)
        let algorithm = try jws.algorithm(allowed: [.edDSA, .es256, .es384, .es256k])
        try jws.checkHeaderKeySources()
        guard let keyID = try jws.keyID(), let hash = keyID.firstIndex(of: "#") else {
            throw IdentityError(.verificationMethod, "the header `kid` must be a DID URL with a fragment")
        }
        let did = String(keyID[..<hash])
        let resolved = try DIDResolver.resolve(did)
        guard keyID[keyID.index(after: hash)...] == resolved.fragment else {
            throw IdentityError(.verificationMethod, "`#\(keyID[keyID.index(after: hash)...].prefix(60))` is not a verification method of the DID")
        }
        guard algorithm.fits(resolved.key) else { throw IdentityError(.algorithm, "\(algorithm.rawValue) does not fit the DID's \(resolved.key.name) key") }
        try algorithm.verify(jws.signature, over: jws.signingInput, with: resolved.key)

        let claims = try CredentialJSON.object(jws.payload, what: "proof claims")
        guard let issuer = try CredentialJSON.string(claims, "iss", in: "claims") else { throw IdentityError(.missingClaim, "the proof has no `iss`") }
        guard issuer == did else { throw IdentityError(.verificationMethod, "the proof is signed by another DID's key than its `iss`") }
        let audiences: [String]
        switch claims["aud"]?.value {
        case .string(let single): audiences = [single]
        case .array(let items): audiences = items.compactMap(\.stringValue)
        default: throw IdentityError(.audience, "the proof names no audience")
        }
        guard audiences.contains(audience) else { throw IdentityError(.audience, "the proof is not meant for this audience") }
        if let nonce {
            guard let given = claims["nonce"]?.stringValue, ConstantTime.equal(Array(given.utf8), Array(nonce.utf8)) else {
                throw IdentityError(.nonce, "the proof's nonce is not the challenge issued")
            }
        }
        try JWTVerifier.checkTimes(claims, now: now)
        return Principal(subject: did, issuer: "did:" + resolved.method, method: .did, verifiedAt: time, attributes: [
            "verification_method": .string(keyID), "key_type": .string(resolved.key.name), "alg": .string(algorithm.rawValue),
        ])
    }
}
