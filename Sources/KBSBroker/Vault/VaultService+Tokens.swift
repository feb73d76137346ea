import Crypto
package import Foundation
package import KBSClaims
import KBSJOSE
import KBSKeys

/// Who calls the Vault API: the token's entry and the identity, tier and evidence it carries.
package struct VaultCaller: Sendable {
    package let identity: CallerIdentity
    package let entry: VaultTokenEntry
    /// The hex SHA-256 of the token: its entry's name.
    let tokenHash: String
    let evidence: ClaimRecord?

    /// The tier the token carries.
    package var tier: Int { entry.tier }

    /// The audit log's actor.
    var actor: String { "subject:\(identity.subject)" }

    /// What every audit record of this caller carries (the accessor, never the token).
    var details: [String: AuditValue] {
        var details: [String: AuditValue] = [
            "tier": .integer(Int64(entry.tier)), "method": "vault-token", "accessor": .string(entry.accessor), "auth": .string(entry.path),
        ]
        if let appraisal = entry.appraisalID { details["appraisal"] = .string(appraisal) }
        return details
    }
}

/// A token just issued: the token itself (shown once) and its entry.
package struct VaultIssuedToken: Sendable {
    package let token: String
    package let entry: VaultTokenEntry
}

extension VaultService {
    /// Tokens start with Vault's service-token prefix, so tools that look at the form see a Vault token.
    static let tokenPrefix = "hvs."
    /// The longest lifetime an administrator may give a token, and the default.
    static let maximumTokenTTL: Int64 = 32 * 86_400
    static let defaultTokenTTL: Int64 = 3600

    // MARK: Issuing

    /// `POST /kbs/v1/vault-tokens`: a token for `subject` (default `vault-token:<accessor>`) with `policies` (default
    /// `default`), living `ttl` seconds (default an hour, at most 32 days), tier 1. Audited as the administrator's.
    package func createToken(subject: String?, policies: [String]?, ttl: Int64?, displayName: String?, actor: String)
        async throws(BrokerError) -> VaultIssuedToken
    {
        let ttl = ttl ?? Self.defaultTokenTTL
        guard (1...Self.maximumTokenTTL).contains(ttl) else { throw Self.invalid("ttl must be between 1s and 768h") }
        let policies = try Self.validatePolicies(policies ?? ["default"])
        if let subject { try Self.validateName(subject, "subject") }
        if let displayName { try Self.validateName(displayName, "display_name") }
        let accessor = Self.randomText(bytes: 18)
        let subjectID = subject ?? "vault-token:\(accessor)"
        let now = Int64(broker.clock().timeIntervalSince1970)
        let identity = CallerIdentity(
            subject: subjectID, method: "vault-token", issuer: "kbs-vault",
            claims: Self.principal(id: subjectID, subject: subject ?? accessor, issuer: "kbs-vault", method: "vault-token", at: now),
            expires: now + ttl, capability: nil)
        return try await issue(
            identity: identity, policies: policies, tier: 1, path: "auth/token/create", displayName: "token-" + (displayName ?? subjectID),
            ttl: ttl, maximumExpiry: now + Self.maximumTokenTTL, accessor: accessor, actor: actor)
    }

    /// `auth/jwt/login`: a token for the OIDC identity a JWT proved (the server verified it against the configured
    /// issuers), with the policies and lifetime of `role`, tier 1.
    package func loginJWT(role name: String, identity: CallerIdentity) async throws(BrokerError) -> VaultIssuedToken {
        guard let role = jwtRoles[name] else { throw Self.invalid("role \"\(name.prefix(64))\" could not be found") }
        guard identity.method == "oidc" else { throw Self.invalid("auth/jwt/login takes a JWT of a configured OIDC issuer") }
        guard role.boundSubjects.isEmpty || role.boundSubjects.contains(identity.subject) else {
            throw Self.error(.forbidden, "permission_denied", "the JWT's subject is not bound to role \"\(name.prefix(64))\"")
        }
        let now = Int64(broker.clock().timeIntervalSince1970)
        return try await issue(
            identity: identity, policies: role.policies, tier: 1, path: "auth/jwt/login", displayName: "jwt-" + identity.subject, ttl: role.ttl,
            maximumExpiry: now + role.maximumTTL, role: name, accessor: Self.randomText(bytes: 18), actor: "subject:\(identity.subject)")
    }

    /// `auth/kbs/login`: a token carrying the tier of an attestation token this broker issued (and its evidence, for
    /// the policy), for the identity the workload attested with; it lives an hour or until the attestation token
    /// expires, whichever is sooner, and is never renewed past that.
    package func loginAttested(_ attestationToken: String) async throws(BrokerError) -> VaultIssuedToken {
        let now = broker.clock()
        let appraisal: Appraisal
        do { appraisal = try await broker.signer.verify(attestationToken, now: now) } catch {
            throw Self.error(.forbidden, "permission_denied", "the attestation token does not verify: \(error.message)")
        }
        let seconds = Int64(now.timeIntervalSince1970)
        let expiry = Self.expiry(of: attestationToken) ?? seconds
        guard expiry > seconds else { throw Self.error(.forbidden, "permission_denied", "the attestation token has expired; attest again") }
        let accessor = Self.randomText(bytes: 18)
        let identity =
            appraisal.identity
            ?? CallerIdentity(
                subject: "attested:\(appraisal.id)", method: "attestation", issuer: "kbs-attestation",
                claims: Self.principal(
                    id: "attested:\(appraisal.id)", subject: appraisal.id, issuer: "kbs-attestation", method: "attestation", at: seconds),
                expires: expiry, capability: nil)
        return try await issue(
            identity: identity, policies: ["default"], tier: appraisal.tier, path: "auth/kbs/login", displayName: "kbs-\(appraisal.kind)",
            ttl: min(Self.defaultTokenTTL, expiry - seconds), maximumExpiry: expiry, accessor: accessor,
            actor: "subject:\(identity.subject)", appraisal: appraisal)
    }

    /// Stores and audits a new token.
    private func issue(
        identity: CallerIdentity, policies: [String], tier: Int, path: String, displayName: String, ttl: Int64, maximumExpiry: Int64,
        role: String? = nil, accessor: String, actor: String, appraisal: Appraisal? = nil
    ) async throws(BrokerError) -> VaultIssuedToken {
        let now = Int64(broker.clock().timeIntervalSince1970)
        let token = Self.tokenPrefix + Self.randomText(bytes: 32)
        var meta: [String: String] = ["kbs_tier": String(tier), "kbs_subject": identity.subject]
        if let role { meta["role"] = role }
        let entry = VaultTokenEntry(
            accessor: accessor, subject: identity.subject, displayName: String(displayName.prefix(256)), policies: policies, tier: tier,
            appraisalID: appraisal?.id, evidenceJSON: appraisal.map { ClaimValue.record($0.claims).json },
            identityJSON: ClaimValue.record(identity.claims).json, path: path, role: role, meta: meta, issuedAt: now,
            expiresAt: min(now + ttl, maximumExpiry), maximumExpiry: maximumExpiry, ttl: ttl, renewable: true)
        var details: [String: AuditValue] = [
            "accessor": .string(accessor), "tier": .integer(Int64(tier)), "policies": .list(policies.map { .string($0) }),
            "ttl": .integer(ttl), "subject": .string(identity.subject),
        ]
        if let appraisal { details["appraisal"] = .string(appraisal.id) }
        // Audited first: a token that cannot be audited is not issued.
        try await broker.audit(
            AuditEntry(kind: .authentication, actor: actor, action: "vault:token:create", resource: path, outcome: .success, details: details))
        // Expired tokens are pruned as new ones come, so the table holds live tokens only.
        _ = try? await repository.prune(.token, expiredBefore: now)
        guard try await store(entry, .token, Self.hash(token), over: nil, expires: entry.maximumExpiry) else {
            throw BrokerError(.unavailable, "vault_internal", "a token collided with another; try again")
        }
        return VaultIssuedToken(token: token, entry: entry)
    }

    // MARK: Using tokens

    /// The caller a token stands for; Vault's 403 `permission denied` for a token that is unknown, revoked or expired.
    package func caller(token: String) async throws(BrokerError) -> VaultCaller {
        let denied = Self.error(.unauthenticated, "permission_denied", "permission denied")
        guard token.hasPrefix(Self.tokenPrefix), token.utf8.count <= 128 else { throw denied }
        let hash = Self.hash(token)
        guard let (entry, _) = try await load(VaultTokenEntry.self, .token, hash) else { throw denied }
        let now = Int64(broker.clock().timeIntervalSince1970)
        guard entry.expiresAt > now else {
            _ = try? await repository.delete(.token, hash)
            throw denied
        }
        guard let node = try? JSONNode.parse(Array(entry.identityJSON.utf8)), case .record(let claims)? = ClaimValue(json: node) else {
            throw BrokerError(.unavailable, "vault_store_corrupt", "a token's identity does not decode")
        }
        var evidence: ClaimRecord?
        if let json = entry.evidenceJSON, let node = try? JSONNode.parse(Array(json.utf8)), case .record(let record)? = ClaimValue(json: node) {
            evidence = record
        }
        let method = CallerIdentity.text(claims["method"]) ?? "vault-token"
        let issuer = CallerIdentity.text(claims["issuer"]) ?? "kbs-vault"
        let identity = CallerIdentity(
            subject: entry.subject, method: method, issuer: issuer, claims: claims, expires: entry.expiresAt, capability: nil)
        return VaultCaller(identity: identity, entry: entry, tokenHash: hash, evidence: evidence)
    }

    /// `auth/token/renew-self`: extends the token by `increment` seconds (default its TTL) from now, never past its
    /// maximum; audited.
    package func renew(_ caller: VaultCaller, increment: Int64?) async throws(BrokerError) -> VaultTokenEntry {
        guard caller.entry.renewable else { throw Self.invalid("lease is not renewable") }
        if let increment, increment < 0 { throw Self.invalid("increment must not be negative") }
        let now = Int64(broker.clock().timeIntervalSince1970)
        guard let (current, revision) = try await load(VaultTokenEntry.self, .token, caller.tokenHash) else {
            throw Self.error(.unauthenticated, "permission_denied", "permission denied")
        }
        var entry = current
        entry.expiresAt = min(now + (increment.flatMap { $0 == 0 ? nil : $0 } ?? entry.ttl), entry.maximumExpiry)
        guard try await store(entry, .token, caller.tokenHash, over: revision, expires: entry.maximumExpiry) else {
            throw Self.error(.conflict, "conflict", "the token changed meanwhile; try again")
        }
        try await audited(caller, "vault:token:renew", "vault-token:\(entry.accessor)", ["expires": .integer(entry.expiresAt)])
        return entry
    }

    /// `auth/token/revoke-self`: the token stops working at once; audited.
    package func revoke(_ caller: VaultCaller) async throws(BrokerError) {
        try await audited(caller, "vault:token:revoke", "vault-token:\(caller.entry.accessor)")
        _ = try await remove(.token, caller.tokenHash)
    }

    /// Any valid token may look itself up, read the mounts, renew and revoke itself: Vault's `default` policy.
    /// Audited, like every use of a token.
    package func lookupSelf(_ caller: VaultCaller) async throws(BrokerError) -> VaultTokenEntry {
        try await audited(caller, "vault:token:lookup-self", "vault-token:\(caller.entry.accessor)")
        return caller.entry
    }

    // MARK: Helpers

    /// The name of a token's entry: its SHA-256 in hex (tokens carry 256 random bits, so no salt is needed).
    static func hash(_ token: String) -> String { Hex.encode(SHA256.hash(data: Array(token.utf8))) }

    /// `bytes` random bytes as unpadded base64url.
    static func randomText(bytes: Int) -> String {
        let material = SecretBytes.random(count: bytes)
        return material.withUnsafeBytes { Base64URL.encode(Array($0)) }
    }

    /// The `exp` of a compact JWS, unverified (the caller verified the token).
    static func expiry(of token: String) -> Int64? {
        guard let jws = try? CompactJWS(Array(token.utf8)), let claims = try? JSONNode.parse(jws.payload) else { return nil }
        return claims["exp"]?.integer
    }

    /// A `Principal` record for an identity this API vouches for itself.
    static func principal(id: String, subject: String, issuer: String, method: String, at seconds: Int64) -> ClaimRecord {
        ClaimRecord([
            ("id", .string(id)), ("subject", .string(subject)), ("issuer", .string(issuer)), ("method", .string(method)),
            ("verified_at", .time(Date(timeIntervalSince1970: Double(seconds)))),
        ])
    }

    /// Policies: `default`, or globs over paths (`secret/app/**`, `transit/payments-*`); at most 64.
    static func validatePolicies(_ policies: [String]) throws(BrokerError) -> [String] {
        guard !policies.isEmpty, policies.count <= 64 else { throw invalid("policies: give 1 to 64 policies") }
        for policy in policies {
            guard (1...256).contains(policy.utf8.count), policy.utf8.allSatisfy({ $0 > 0x20 && $0 < 0x7F }) else {
                throw invalid("policies: a policy is 1 to 256 printable ASCII characters without spaces")
            }
        }
        return Array(Set(policies)).sorted()
    }

    /// A subject or display name: 1 to 256 printable ASCII characters.
    static func validateName(_ text: String, _ member: String) throws(BrokerError) {
        guard (1...256).contains(text.utf8.count), text.utf8.allSatisfy({ $0 >= 0x20 && $0 < 0x7F }) else {
            throw invalid("\(member) must be 1 to 256 printable ASCII characters")
        }
    }
}
