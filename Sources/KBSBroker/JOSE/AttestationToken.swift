public import Foundation
import Crypto

/// The attestation-result token `POST /kbs/v0/attest` returns: an EAR-style JWT (ES256), in the shape Trustee's
/// attestation service issues (`eat_profile`, `submods.cpu0` with `ear.status`, the trustworthiness vector and the
/// annotated evidence, whose `runtime_data_claims` hold the `tee-pubkey`), plus `kbs.tier`, the achieved tier. Status
/// and vector come from what was verified (``AttestationResult``).
///
/// The signing key lives for the process: a token outlives neither its five minutes nor a restart. The header
/// carries the public key as `jwk`, as Trustee's does; this broker never trusts that member, only its own key.
public struct AttestationTokenSigner: Sendable {
    private let key: P256.Signing.PrivateKey
    /// How long a token is valid.
    public let lifetime: TimeInterval

    static let profile = "tag:github.com,2024:confidential-containers/Trustee"

    /// Creates a signer with a fresh key.
    public init(lifetime: TimeInterval = 300) {
        self.key = P256.Signing.PrivateKey()
        self.lifetime = lifetime
    }

    /// The public key as a JWK object.
    public var publicJWK: [String: String] {
        let raw = key.publicKey.rawRepresentation
        return ["kty": "EC", "crv": "P-256", "alg": "ES256", "x": Base64URL.encode(raw.prefix(32)), "y": Base64URL.encode(raw.suffix(32))]
    }

    /// Signs the token for `appraisal`.
    func sign(_ appraisal: Appraisal) throws(BrokerError) -> String {
        let result = AttestationResult(
            kind: appraisal.kind, claims: appraisal.claimsObject, devices: appraisal.deviceClaims.map(\.object), tier: appraisal.tier)
        var submod: [String: Any] = [
            "ear.status": result.status,
            "ear.trustworthiness-vector": result.vector,
            "ear.appraisal-policy-id": "default_cpu",
            "ear.veraison.annotated-evidence": [
                appraisal.kind: appraisal.claimsObject,
                "runtime_data_claims": ["tee-pubkey": appraisal.teePublicKeyJWK],
            ],
        ]
        if !appraisal.deviceClaims.isEmpty { submod["kbs.devices"] = appraisal.deviceClaims.map(\.object) }
        var claims: [String: Any] = [
            "eat_profile": Self.profile,
            "iat": Int(appraisal.attestedAt.timeIntervalSince1970),
            "exp": Int(appraisal.attestedAt.timeIntervalSince1970 + lifetime),
            "jti": appraisal.id,
            "ear.verifier-id": ["developer": "https://github.com/hanzoai/kbs", "build": "hanzo-kbs"],
            "submods": ["cpu0": submod],
            "kbs.tier": appraisal.tier,
        ]
        if let identity = appraisal.identity {
            // The token id, not the capability token itself: a bearer of this JWT must not hold the agent's credential.
            claims["kbs.subject"] = ["id": identity.subject, "issuer": identity.issuer, "capability_token": identity.tokenID,
                "capabilities": identity.capabilities]
        }
        do {
            // Unsorted: Foundation sorts keys through ICU collation, which cost more than the signature; JWTs need no order.
            let header = try JSONSerialization.data(withJSONObject: ["alg": "ES256", "typ": "JWT", "jwk": publicJWK])
            let payload = try JSONSerialization.data(withJSONObject: claims)
            let input = Base64URL.encode(header) + "." + Base64URL.encode(payload)
            let signature = try key.signature(for: Array(input.utf8))
            return input + "." + Base64URL.encode(signature.rawRepresentation)
        } catch {
            throw BrokerError(.internalError, "token", "the attestation token could not be signed")
        }
    }

    /// The appraisal a token this signer issued carries, when its signature holds and it has not expired.
    package func verify(_ token: String, now: Date) throws(BrokerError) -> Appraisal {
        let parts = token.split(separator: ".", omittingEmptySubsequences: false)
        guard token.utf8.count <= 256 * 1024, parts.count == 3,
            let header = Base64URL.decode(String(parts[0])), let payload = Base64URL.decode(String(parts[1])),
            let signatureBytes = Base64URL.decode(String(parts[2])),
            let headerObject = try? JSONSerialization.jsonObject(with: Data(header)) as? [String: Any],
            headerObject["alg"] as? String == "ES256",
            let signature = try? P256.Signing.ECDSASignature(rawRepresentation: signatureBytes),
            key.publicKey.isValidSignature(signature, for: Array((parts[0] + "." + parts[1]).utf8))
        else { throw .unauthorized("invalid_token", "the bearer token is not an attestation token this server issued") }
        guard let claims = try? JSONSerialization.jsonObject(with: Data(payload)) as? [String: Any],
            let exp = claims["exp"] as? Int, let iat = claims["iat"] as? Int, let id = claims["jti"] as? String,
            let tier = claims["kbs.tier"] as? Int,
            let cpu = (claims["submods"] as? [String: Any])?["cpu0"] as? [String: Any],
            let annotated = cpu["ear.veraison.annotated-evidence"] as? [String: Any],
            let runtime = annotated["runtime_data_claims"] as? [String: Any], let jwk = runtime["tee-pubkey"] as? [String: Any],
            let (kind, evidence) = annotated.first(where: { $0.key != "runtime_data_claims" }).map({ ($0.key, $0.value) }),
            let evidenceObject = evidence as? [String: Any]
        else { throw .unauthorized("invalid_token", "the attestation token lacks the claims this server puts in it") }
        guard Double(exp) > now.timeIntervalSince1970 else { throw .unauthorized("token_expired", "the attestation token has expired; attest again") }
        let devices = (cpu["kbs.devices"] as? [[String: Any]] ?? []).map(Appraisal.DeviceClaims.init(object:))
        var appraisal = try Appraisal(id: id, kind: kind, claimsObject: evidenceObject, deviceClaims: devices, tier: tier,
            teePublicKeyJWK: jwk, attestedAt: Date(timeIntervalSince1970: TimeInterval(iat)))
        if let subject = claims["kbs.subject"] as? [String: Any] {
            guard let id = subject["id"] as? String, let issuer = subject["issuer"] as? String,
                let tokenID = subject["capability_token"] as? String, let capabilities = subject["capabilities"] as? [String]
            else { throw .unauthorized("invalid_token", "the attestation token's subject is malformed") }
            appraisal.identity = Appraisal.Identity(subject: id, issuer: issuer, tokenID: tokenID, token: nil, capabilities: capabilities)
        }
        return appraisal
    }
}
