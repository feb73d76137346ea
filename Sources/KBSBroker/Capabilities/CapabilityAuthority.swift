import Crypto
package import Foundation
import KBSClaims
import KBSKeys

/// Issues, verifies and revokes capability tokens for agents (see `CapabilityToken` for the format): what the admin
/// API and `kbs tokens` drive, in a server or beside one on the same data directory.
///
/// The root key is the data key `kbs-capabilities` (under `kbs-resources-kek`, both created on first use); it is
/// used only inside `KeyHierarchy.useKey`, never copied out. The store keeps each issued token's id and metadata, never
/// its text or signature, and is read on every verification: a revocation by any process sharing the file counts at
/// once, whatever the verification cache holds.
package final class CapabilityAuthority: Sendable {
    let repository: any CapabilityTokenRepository
    let trail: any AuditTrail
    let keySource: KeySource
    let clock: @Sendable () -> Date
    let onAuditFailure: @Sendable () -> Void
    let cache: CapabilityCache

    /// The data key that roots every token's HMAC chain, and the key-encryption key above it.
    package static let rootKeyID = "kbs-capabilities"
    package static let rootParentID = ResourceVault.resourceParentID
    /// The longest lifetime an issuer may give: agents' rights should be short-lived and re-issued, not kept.
    package static let maximumLifetime: TimeInterval = 24 * 3600
    /// How far in the future `iat` may be before the token is refused (clocks of processes sharing a store differ).
    static let clockLeeway: Int64 = 60

    /// Creates an authority over `ports` whose key hierarchy `keys` opens on first use; verified chains are cached
    /// (at most `cacheCapacity`, each for `cacheLifetime` seconds).
    package init(
        ports: BrokerPorts, keys: KeySource, onAuditFailure: @escaping @Sendable () -> Void = {},
        cacheCapacity: Int = 4096, cacheLifetime: TimeInterval = 30
    ) {
        self.repository = ports.capabilityTokens
        self.trail = ports.audit
        self.keySource = keys
        self.clock = ports.clock
        self.onAuditFailure = onAuditFailure
        self.cache = CapabilityCache(capacity: cacheCapacity, lifetime: cacheLifetime)
    }

    /// A token as issued: the text is shown once, to the caller, and stored nowhere.
    package struct Issued: Sendable {
        package var token: String
        package var id: String
        /// Seconds since 1970.
        package var expires: Int64
    }

    /// What a verified token allows, caveats applied.
    package struct Verified: Sendable, Equatable {
        package var id: String
        package var subject: String
        package var capabilities: [Capability]
        /// Seconds since 1970: the earliest expiry of the issuer's and the caveats'.
        package var expires: Int64
    }

    // MARK: Issuing and revoking

    /// Issues a token to `agent` for `capabilities` (`action:resource`, see `Capability`) lasting `lifetime` seconds;
    /// audited (never the token).
    package func issue(agent: String, capabilities: [String], lifetime: TimeInterval, actor: String) async throws(BrokerError) -> Issued {
        guard CapabilityToken.isSubject(agent) else {
            throw .badRequest("invalid_request", "the agent must be 1 to \(CapabilityToken.maximumSubjectBytes) bytes without control characters")
        }
        let parsed = try Self.capabilities(capabilities)
        guard !parsed.isEmpty else { throw .badRequest("invalid_request", "a token needs at least one capability") }
        guard lifetime >= 1, lifetime <= Self.maximumLifetime else {
            throw .badRequest("invalid_request", "the lifetime must be 1 second to \(Int(Self.maximumLifetime)) seconds")
        }
        let now = Int64(clock().timeIntervalSince1970)
        let unsigned = CapabilityToken(
            id: UUID().uuidString.lowercased(), subject: agent, capabilities: parsed, issuedAt: now,
            expiresAt: now + Int64(lifetime), caveats: [], signature: [])
        let (keys, version) = try await rootKey()
        let first = try await Self.sign(unsigned.baseBytes, keys: keys, version: version)
        let token = unsigned.withSignature(first)
        let capsJSON = CapabilityToken.listJSON(parsed)
        // Audited first: a token that cannot be audited is not issued.
        try await audit(
            AuditEntry(
                kind: .admin, actor: actor, action: "issue_capability_token", resource: token.id, outcome: .success,
                details: [
                    "subject": .string(agent), "capabilities": .list(parsed.map { .string($0.description) }), "expires": .integer(token.expiresAt),
                ]))
        do {
            try await repository.insert(
                StoredCapabilityToken(
                    id: token.id, subject: agent, capabilitiesJSON: capsJSON, keyVersion: version,
                    issuedAt: token.issuedAt, expiresAt: token.expiresAt))
        } catch {
            throw BrokerError(.unavailable, "store_unavailable", "the token cannot be recorded, so it is not issued: \(error)")
        }
        return Issued(token: token.text, id: token.id, expires: token.expiresAt)
    }

    /// Revokes token `id`, at once for every process sharing the store; false when no such token was issued. Audited.
    package func revoke(_ id: String, actor: String) async throws(BrokerError) -> Bool {
        guard !id.isEmpty, id.utf8.count <= 64 else { throw .badRequest("invalid_request", "a token id is 1 to 64 bytes") }
        let found: Bool
        // Revoked before it is audited, unlike other changes: an audit log that cannot be written must not keep a
        // token alive. The caller still learns of the failure (`audit_unavailable`).
        do { found = try await repository.revoke(id, at: Int64(clock().timeIntervalSince1970)) } catch {
            throw BrokerError(.unavailable, "store_unavailable", "the token cannot be revoked: \(error)")
        }
        if found {
            try await audit(AuditEntry(kind: .admin, actor: actor, action: "revoke_capability_token", resource: id, outcome: .success))
        }
        return found
    }

    /// Every issued token's metadata (never a token), oldest first.
    package func tokens() async throws(BrokerError) -> [StoredCapabilityToken] {
        do { return try await repository.all() } catch {
            throw BrokerError(.unavailable, "store_unavailable", "tokens cannot be read: \(error)")
        }
    }

    // MARK: Verifying

    /// Verifies `text` and, when `capability` is given, that it grants it.
    ///
    /// Unauthenticated: `invalid_token` (malformed, unknown, or a chain that does not verify under the root key),
    /// `token_revoked`, `token_expired`; forbidden: `capability_denied`; invalid request: a malformed `capability`.
    package func verify(_ text: String, capability: String? = nil) async throws(BrokerError) -> Verified {
        let wanted: Capability?
        if let capability {
            guard let parsed = Capability(capability) else {
                throw .badRequest("invalid_request", "`\(capability.prefix(100))` is not a capability `action:resource`")
            }
            wanted = parsed
        } else {
            wanted = nil
        }
        guard text.utf8.count <= CapabilityToken.maximumBytes else {
            throw .unauthorized("invalid_token", "the capability token is over \(CapabilityToken.maximumBytes) bytes")
        }
        let now = clock()
        let digest = SHA256.hash(data: Array(text.utf8))
        let cached = cache.lookup(digest, now: now)
        let token: CapabilityToken
        if let cached { token = cached } else { token = try CapabilityToken(parsing: text) }
        let stored: StoredCapabilityToken?
        do { stored = try await repository.token(token.id) } catch {
            throw BrokerError(.unavailable, "store_unavailable", "the token store cannot be read, so no token verifies")
        }
        // An unknown id reads as a bad chain: either way the token was not issued here as it stands.
        guard let stored else { throw Self.unverified }
        // Cheap before costly: a token whose base disagrees with what was issued under its id is refused before the
        // root key is touched, since using it may mean a call to the key service or the HSM for every forged token.
        guard cached != nil || Self.matches(token, stored) else { throw Self.unverified }
        if cached == nil {
            let keys = try await keySource.hierarchy()
            let first = try await Self.sign(token.baseBytes, keys: keys, version: stored.keyVersion)
            guard constantTimeEqual(CapabilityToken.chain(from: first, caveats: token.caveats), token.signature) else { throw Self.unverified }
            cache.add(digest, token: token, now: now)
        }
        if stored.revokedAt != nil { throw .unauthorized("token_revoked", "capability token \(token.id) was revoked") }
        let seconds = Int64(now.timeIntervalSince1970)
        guard token.issuedAt <= seconds + Self.clockLeeway else {
            throw .unauthorized("invalid_token", "the capability token is issued in the future")
        }
        guard seconds < token.effectiveExpiry else { throw .unauthorized("token_expired", "capability token \(token.id) has expired") }
        if let wanted, !token.grants(wanted) {
            throw BrokerError(.forbidden, "capability_denied", "capability token \(token.id) does not grant \(wanted)")
        }
        return Verified(id: token.id, subject: token.subject, capabilities: token.effectiveCapabilities, expires: token.effectiveExpiry)
    }

    // MARK: Attenuating

    /// `text` narrowed by one more caveat: only what `capabilities` also allow remains (when given), and it ends by
    /// `expires` (when given). Needs no key, so any holder can narrow a token before handing it on; nothing here
    /// checks that `text` is valid, which the verifier does.
    package static func attenuate(_ text: String, capabilities: [String]?, expires: Date?) throws(BrokerError) -> String {
        let token = try CapabilityToken(parsing: text)
        guard capabilities != nil || expires != nil else {
            throw .badRequest("invalid_request", "a caveat narrows the capabilities, the expiry or both")
        }
        guard token.caveats.count < CapabilityToken.maximumCaveats else {
            throw .badRequest("invalid_request", "a token holds at most \(CapabilityToken.maximumCaveats) caveats")
        }
        var caveat = CapabilityToken.Caveat()
        if let capabilities {
            guard capabilities.count <= CapabilityToken.maximumCapabilities else {
                throw .badRequest("invalid_request", "a caveat lists at most \(CapabilityToken.maximumCapabilities) capabilities")
            }
            caveat.capabilities = try Self.capabilities(capabilities)
        }
        if let expires {
            let seconds = Int64(expires.timeIntervalSince1970.rounded(.down))
            guard seconds >= 0, seconds <= CapabilityToken.maximumTime else { throw .badRequest("invalid_request", "the expiry is out of range") }
            caveat.expires = seconds
        }
        let narrowed = token.appending(caveat).text
        guard narrowed.utf8.count <= CapabilityToken.maximumBytes else {
            throw .badRequest("invalid_request", "the narrowed token would be over \(CapabilityToken.maximumBytes) bytes")
        }
        return narrowed
    }

    // MARK: Helpers

    static let unverified = BrokerError(.unauthenticated, "invalid_token", "the capability token does not verify")

    /// Whether `token`'s base (subject, times, capabilities) is what was issued under its id.
    static func matches(_ token: CapabilityToken, _ stored: StoredCapabilityToken) -> Bool {
        guard token.subject == stored.subject, token.issuedAt == stored.issuedAt, token.expiresAt == stored.expiresAt,
            let node = try? JSONNode.parse(Array(stored.capabilitiesJSON.utf8)), case .array(let items) = node.value
        else { return false }
        return Set(items.compactMap(\.stringValue)) == Set(token.capabilities.map(\.description))
    }

    static func capabilities(_ texts: [String]) throws(BrokerError) -> [Capability] {
        guard texts.count <= CapabilityToken.maximumCapabilities else {
            throw .badRequest("invalid_request", "a token lists at most \(CapabilityToken.maximumCapabilities) capabilities")
        }
        var list: [Capability] = []
        for text in texts {
            guard let capability = Capability(text) else {
                throw .badRequest(
                    "invalid_request", "`\(text.prefix(100))` is not a capability `action:resource` (resource ending in `*` for a prefix)")
            }
            if !list.contains(capability) { list.append(capability) }
        }
        return list
    }

    /// The hierarchy with the root key in it (created on first use, audited) and the root key's current version.
    private func rootKey() async throws(BrokerError) -> (KeyHierarchy, UInt32) {
        let (keys, created) = try await keySource.hierarchy(dataKey: Self.rootKeyID, parent: Self.rootParentID, now: clock())
        for id in created {
            try await audit(AuditEntry(kind: .keyOperation, actor: "kbs", action: "create", resource: id, outcome: .success))
        }
        do { return (keys, try await keys.record(Self.rootKeyID).currentVersion) } catch {
            throw BrokerError(.unavailable, "key_\(error.reason.rawValue)", "the capability root key cannot be read: \(error.message)")
        }
    }

    /// `sig₀`: HMAC-SHA256 of `bytes` under version `version` of the root key, which stays inside `useKey`.
    private static func sign(_ bytes: [UInt8], keys: KeyHierarchy, version: UInt32) async throws(BrokerError) -> [UInt8] {
        do {
            return try await keys.useKey(rootKeyID, version: version) { key in
                Array(HMAC<SHA256>.authenticationCode(for: bytes, using: SymmetricKey(data: key)))
            }
        } catch let error as KeyError {
            throw BrokerError(.unavailable, "key_\(error.reason.rawValue)", "the capability root key refuses use: \(error.message)")
        } catch {
            throw BrokerError(.unavailable, "master_key", "the capability root key cannot be used")
        }
    }

    /// Appends to the audit log, or refuses the step as `audit_unavailable`.
    private func audit(_ entry: AuditEntry) async throws(BrokerError) {
        do { try await trail.append(entry) } catch {
            onAuditFailure()
            throw BrokerError(.unavailable, "audit_unavailable", "the audit log cannot be written, so the change is not acknowledged")
        }
    }
}
