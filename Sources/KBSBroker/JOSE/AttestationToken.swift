import Crypto
package import Foundation
import KBSClaims
import KBSJOSE

/// The attestation-result token an attestation returns: an EAR-style JWT (ES256), in the shape Trustee's
/// attestation service issues (`eat_profile`, `submods.cpu0` with `ear.status`, the trustworthiness vector and the
/// annotated evidence, whose `runtime_data_claims` hold the `tee-pubkey`), plus `kbs.tier`, the achieved tier. Status
/// and vector come from what was verified (``AttestationResult``).
///
/// The signing keys live in the store (``TokenSigningKeys``): a token verifies after a restart and on every replica
/// that shares the store, and `GET /.well-known/jwks.json` publishes them. The header names its key as `kid` and
/// carries the public key as `jwk`, as Trustee's does; this broker never trusts that member, only its own keys by `kid`.
package struct AttestationTokenSigner: Sendable {
    /// The keys tokens are signed and verified with.
    package let keys: TokenSigningKeys
    /// How long a token is valid.
    package var lifetime: TimeInterval { keys.tokenLifetime }

    static let profile = "tag:github.com,2024:confidential-containers/Trustee"

    /// Creates a signer over `keys`.
    init(keys: TokenSigningKeys) {
        self.keys = keys
    }

    /// A signer whose keys live in this process's memory and end with it (tests, tools): its tokens verify nowhere else.
    package static func ephemeral(lifetime: TimeInterval = 300, clock: @escaping @Sendable () -> Date = { Date() }) -> AttestationTokenSigner {
        AttestationTokenSigner(
            keys: TokenSigningKeys(
                repository: InMemoryTokenSigningKeys(), sealing: .ephemeral(), rotationPeriod: 7 * 24 * 3600, tokenLifetime: lifetime,
                clock: clock))
    }

    /// Signs the token for `appraisal`.
    func sign(_ appraisal: Appraisal) async throws(BrokerError) -> String {
        let key = try await keys.signingKey()
        var header = JSONWriter()
        header.object { header in
            header.member("alg", "ES256")
            header.member("typ", "JWT")
            header.member("kid", key.id)
            header.key("jwk")
            header.object { jwk in
                for (name, value) in TokenSigningKeys.publicJWK(key.publicKey).sorted(by: { $0.key < $1.key }) { jwk.member(name, value) }
            }
        }
        let result = AttestationResult(kind: appraisal.kind, claims: appraisal.claims, devices: appraisal.deviceClaims, tier: appraisal.tier)
        var payload = JSONWriter()
        payload.object { claims in
            claims.member("eat_profile", Self.profile)
            claims.member("iat", Int64(appraisal.attestedAt.timeIntervalSince1970))
            claims.member("exp", Int64(appraisal.attestedAt.timeIntervalSince1970 + lifetime))
            claims.member("jti", appraisal.id)
            claims.key("ear.verifier-id")
            claims.object { verifier in
                verifier.member("developer", "https://github.com/hanzoai/kbs")
                verifier.member("build", "hanzo-kbs")
            }
            claims.key("submods")
            claims.object { submods in
                submods.key("cpu0")
                submods.object { submod in
                    submod.member("ear.status", result.status)
                    submod.key("ear.trustworthiness-vector")
                    submod.object { vector in
                        for (name, value) in result.vector.sorted(by: { $0.key < $1.key }) { vector.member(name, value) }
                    }
                    submod.member("ear.appraisal-policy-id", "default_cpu")
                    submod.key("ear.veraison.annotated-evidence")
                    submod.object { annotated in
                        annotated.key(appraisal.kind)
                        annotated.raw(ClaimValue.record(appraisal.claims).json.utf8)
                        annotated.key("runtime_data_claims")
                        annotated.object { runtime in
                            runtime.key("tee-pubkey")
                            runtime.raw(appraisal.teePublicKeyJSON)
                        }
                    }
                    if !appraisal.deviceClaims.isEmpty {
                        submod.key("kbs.devices")
                        submod.array { devices in
                            for device in appraisal.deviceClaims { devices.raw(ClaimValue.record(device).json.utf8) }
                        }
                    }
                }
            }
            claims.member("kbs.tier", appraisal.tier)
            if let identity = appraisal.identity {
                // The capability token's id, not the token itself: a bearer of this JWT must not hold the agent's credential.
                claims.key("kbs.subject")
                claims.object { subject in
                    subject.member("id", identity.subject)
                    subject.member("method", identity.method)
                    subject.member("issuer", identity.issuer)
                    if let expires = identity.expires { subject.member("expires", expires) }
                    subject.key("claims")
                    subject.raw(ClaimValue.record(identity.claims).json.utf8)
                    if let grant = identity.capability {
                        subject.member("capability_token", grant.tokenID)
                        subject.key("capabilities")
                        subject.array { list in
                            for capability in grant.capabilities { list.string(capability) }
                        }
                    }
                }
            }
        }
        do throws(JOSEError) {
            return try CompactJWS.sign(header: header.bytes, payload: payload.bytes, algorithm: .es256, with: .p256(key.privateKey))
        } catch {
            throw BrokerError(.failed, "token", "the attestation token could not be signed")
        }
    }

    /// Largest bearer token read: the claims carry the evidence's claims and every device's.
    static let maximumTokenBytes = 256 * 1024

    /// The appraisal a token this server (or a replica sharing its store) issued carries, when its signature holds
    /// under the key its `kid` names and it has not expired.
    package func verify(_ token: String, now: Date) async throws(BrokerError) -> Appraisal {
        let refused = BrokerError.unauthorized("invalid_token", "the bearer token is not an attestation token this server issued")
        let jws: CompactJWS
        let keyID: String?
        do throws(JOSEError) {
            jws = try CompactJWS(Array(token.utf8), maximumBytes: Self.maximumTokenBytes)
            keyID = try jws.keyID()
        } catch {
            throw refused
        }
        guard let keyID, let key = await keys.verificationKey(keyID) else { throw refused }
        do throws(JOSEError) {
            try jws.verify(try jws.algorithm(allowed: [.es256]), with: .p256(key.publicKey))
        } catch {
            throw refused
        }
        let payload = jws.payload
        guard let claims = try? JSONNode.parse(payload),
            let exp = claims["exp"]?.integer, let iat = claims["iat"]?.integer, let id = claims["jti"]?.stringValue,
            let tier = claims["kbs.tier"]?.integer, let cpu = claims["submods"]?["cpu0"],
            let annotated = cpu["ear.veraison.annotated-evidence"], case .object(let members) = annotated.value,
            let jwk = annotated["runtime_data_claims"]?["tee-pubkey"],
            let evidence = members.first(where: { $0.key != "runtime_data_claims" }), evidence.value.kind == .object
        else { throw .unauthorized("invalid_token", "the attestation token lacks the claims this server puts in it") }
        guard Double(exp) > now.timeIntervalSince1970 else { throw .unauthorized("token_expired", "the attestation token has expired; attest again") }
        var devices: [ClaimRecord] = []
        if case .array(let list)? = cpu["kbs.devices"]?.value {
            devices = list.compactMap { node in
                if case .record(let record)? = ClaimValue(json: node) { return record }
                return nil
            }
        }
        guard case .record(let evidenceClaims)? = ClaimValue(json: evidence.value) else {
            throw .unauthorized("invalid_token", "the attestation token's claims are not an object")
        }
        let canonicalKey: [UInt8]
        do { canonicalKey = try JCS.canonicalize(jwk) } catch {
            throw .unauthorized("invalid_token", "the attestation token's key does not canonicalise")
        }
        var appraisal = Appraisal(
            id: id, kind: evidence.key, claims: evidenceClaims, deviceClaims: devices, tier: Int(tier), teePublicKeyJSON: canonicalKey,
            teePublicKey: try TEEPublicKey(jwk: jwk),
            attestedAt: Date(timeIntervalSince1970: TimeInterval(iat)))
        if let subject = claims["kbs.subject"] {
            guard let id = subject["id"]?.stringValue, let method = subject["method"]?.stringValue,
                let issuer = subject["issuer"]?.stringValue, let claimsNode = subject["claims"],
                case .record(let identityClaims)? = ClaimValue(json: claimsNode)
            else { throw .unauthorized("invalid_token", "the attestation token's subject is malformed") }
            var grant: CallerIdentity.CapabilityGrant?
            if let tokenID = subject["capability_token"]?.stringValue {
                guard case .array(let list)? = subject["capabilities"]?.value, case let capabilities = list.compactMap(\.stringValue),
                    capabilities.count == list.count
                else { throw .unauthorized("invalid_token", "the attestation token's capabilities are malformed") }
                grant = .init(tokenID: tokenID, token: nil, capabilities: capabilities)
            }
            appraisal.identity = CallerIdentity(
                subject: id, method: method, issuer: issuer, claims: identityClaims, expires: subject["expires"]?.integer, capability: grant)
        }
        return appraisal
    }
}
