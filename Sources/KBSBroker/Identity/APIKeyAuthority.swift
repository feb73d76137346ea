import Foundation
import KBSClaims
package import KBSIdentity
import KBSKeys

/// API keys (`kbs_k_<id>_<secret>`): minted here and shown once, stored as a peppered hash for bearer use and sealed by
/// the key hierarchy for RFC 9421 request signing (and SigV4), which need the secret itself.
package struct APIKeyAuthority: Sendable {
    let repository: any APIKeyRepository
    let checker: APIKeys
    /// Seals and unseals the secrets (the resource data key) and writes the audit records.
    let vault: ResourceVault
    let clock: @Sendable () -> Date

    /// Keys in `broker`'s repository, hashed under `pepper` (32 bytes or more, kept outside the store).
    package init(broker: Broker, pepper: [UInt8]) throws(BrokerError) {
        try self.init(ports: broker.ports, vault: broker.vault, pepper: pepper)
    }

    /// Keys in `ports`' repository, sealed through `vault` (the command line has no broker).
    package init(ports: BrokerPorts, vault: ResourceVault, pepper: [UInt8]) throws(BrokerError) {
        let repository = ports.apiKeys
        self.repository = repository
        self.vault = vault
        self.clock = ports.clock
        do {
            checker = try APIKeys(pepper: pepper) { id throws(IdentityError) in
                do { return try await repository.key(id).map(Self.record) } catch {
                    throw IdentityError(.configuration, "the API key store cannot be read")
                }
            }
        } catch {
            throw BrokerError(.failed, "api_key_pepper", error.message)
        }
    }

    /// A new key for `subject` (default `apikey:<id>`): the record kept and, once, the whole bearer string.
    package func create(subject: String?, name: String, actor: String) async throws(BrokerError) -> (key: StoredAPIKey, secret: String) {
        guard name.utf8.count <= 200, subject.map({ !$0.isEmpty && $0.utf8.count <= 512 }) ?? true else {
            throw .badRequest("invalid_request", "`name` is at most 200 bytes and `subject`, when given, 1 to 512")
        }
        let now = Int64(clock().timeIntervalSince1970)
        let (secret, record) = checker.mint(subject: "")
        let keys = try await vault.keys()
        var bytes = Array(secret.utf8)
        defer { SecretBytes.wipe(&bytes) }
        let sealed: [UInt8]
        do { sealed = try await keys.encrypt(keyID: ResourceVault.resourceKeyID, plaintext: bytes, aad: Self.aad(record.keyID)) } catch {
            throw BrokerError(.unavailable, "key_\(error.reason.rawValue)", "the API key's secret cannot be sealed: \(error.message)")
        }
        let stored = StoredAPIKey(
            keyID: record.keyID, secretHash: record.secretHash, subject: subject ?? "apikey:" + record.keyID, createdAt: now, name: name,
            sealedSecret: sealed)
        do { try await repository.insert(stored) } catch {
            throw BrokerError(.unavailable, "store_unavailable", "the API key cannot be stored")
        }
        try await vault.audit(
            AuditEntry(
                kind: .admin, actor: actor, action: "create_api_key", resource: "api-key:" + record.keyID, outcome: .success,
                details: ["subject": .string(stored.subject)]))
        return (stored, secret)
    }

    /// Every key (no secrets), newest first.
    package func list() async throws(BrokerError) -> [StoredAPIKey] {
        do { return try await repository.all() } catch { throw BrokerError(.unavailable, "store_unavailable", "the API keys cannot be read") }
    }

    /// One key (no secret), or nil.
    package func key(_ id: String) async throws(BrokerError) -> StoredAPIKey? {
        do { return try await repository.key(id) } catch { throw BrokerError(.unavailable, "store_unavailable", "the API key cannot be read") }
    }

    /// Revokes a key at once; false when there is none.
    package func revoke(_ id: String, actor: String) async throws(BrokerError) -> Bool {
        let revoked: Bool
        do { revoked = try await repository.revoke(id, at: Int64(clock().timeIntervalSince1970)) } catch {
            throw BrokerError(.unavailable, "store_unavailable", "the API key cannot be revoked")
        }
        if revoked {
            try await vault.audit(
                AuditEntry(kind: .admin, actor: actor, action: "revoke_api_key", resource: "api-key:" + id, outcome: .success))
        }
        return revoked
    }

    /// The bearer checker the ``Authenticator`` uses.
    package var bearer: APIKeys { checker }

    /// RFC 9421 signatures keyed by API keys: the key is the whole secret string, unsealed per request; a revoked or
    /// expired key signs nothing.
    package func signatures(replay: any ReplayCache) -> HTTPSignatureVerifier {
        let repository = self.repository
        let (vault, clock) = (self.vault, self.clock)
        return HTTPSignatureVerifier(
            lookup: { id throws(IdentityError) in
                let stored: StoredAPIKey?
                do { stored = try await repository.key(id) } catch { throw IdentityError(.configuration, "the API key store cannot be read") }
                guard let stored, let sealed = stored.sealedSecret else { return nil }
                if stored.revokedAt != nil { throw IdentityError(.revoked, "the API key was revoked") }
                let now = Int64(clock().timeIntervalSince1970)
                if let expiry = stored.expiresAt, now >= expiry { throw IdentityError(.expired, "the API key expired") }
                do {
                    let keys = try await vault.keys()
                    var plaintext = try await keys.decrypt(sealed, aad: Self.aad(id))
                    defer { SecretBytes.wipe(&plaintext) }
                    return plaintext
                } catch {
                    throw IdentityError(.configuration, "the API key's secret cannot be unsealed")
                }
            }, replay: replay)
    }

    /// AWS SigV4 signatures for `service` keyed by API keys: the access key id is the key id, the secret access key the
    /// whole secret string (`kbs_k_…`), unsealed per request; a revoked or expired key signs nothing.
    package func sigV4(service: String) -> SigV4Verifier {
        let repository = self.repository
        let (vault, clock) = (self.vault, self.clock)
        return SigV4Verifier(service: service) { id throws(IdentityError) in
            let stored: StoredAPIKey?
            do { stored = try await repository.key(id) } catch { throw IdentityError(.configuration, "the API key store cannot be read") }
            guard let stored, let sealed = stored.sealedSecret else { return nil }
            if stored.revokedAt != nil { throw IdentityError(.revoked, "the API key was revoked") }
            if let expiry = stored.expiresAt, Int64(clock().timeIntervalSince1970) >= expiry {
                throw IdentityError(.revoked, "the API key expired")
            }
            do {
                let keys = try await vault.keys()
                return SigV4Verifier.Key(secret: try await keys.decrypt(sealed, aad: Self.aad(id)), subject: stored.subject)
            } catch {
                throw IdentityError(.configuration, "the API key's secret cannot be unsealed")
            }
        }
    }

    static func aad(_ id: String) -> [UInt8] { Array(("api-key:" + id).utf8) }

    static func record(_ stored: StoredAPIKey) -> APIKeys.Record {
        APIKeys.Record(
            keyID: stored.keyID, secretHash: stored.secretHash, subject: stored.subject, expiresAt: stored.expiresAt, revokedAt: stored.revokedAt)
    }
}
