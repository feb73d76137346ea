import Crypto
package import Foundation
import KBSClaims
import KBSKeys
import Synchronization

/// The keys attestation tokens are signed with: made once, sealed by the key hierarchy, kept in the store, so a token
/// verifies after a restart and on every replica that shares the store; rotated with overlap.
///
/// The newest key signs. A key older than the rotation period is superseded by a new one the next time a token is
/// signed; superseded keys keep verifying for the rotation period again plus a token's lifetime (so every token they
/// signed has expired), then they are removed. Two replicas rotating at once each add a key, and both verify.
/// A token naming a `kid` this process has not seen reloads the keys from the store, at most once a second, so a
/// key another replica made is found and random `kid`s cost no more than one read a second.
package final class TokenSigningKeys: Sendable {
    /// One usable key.
    struct Key: Sendable {
        var id: String
        var privateKey: P256.Signing.PrivateKey
        var createdAt: Int64

        var publicKey: P256.Signing.PublicKey { privateKey.publicKey }
    }

    private struct State: Sendable {
        var keys: [String: Key] = [:]
        /// When an unknown `kid` last made this process re-read the store.
        var lastReload: Date?
        /// When the JWK Set was last read from the store: kept apart, so callers of the open endpoint cannot use up
        /// the re-reads verification needs.
        var lastPublished: Date?
    }

    /// How key material is sealed for the store and opened again, and where key creation is audited.
    struct Sealing: Sendable {
        var seal: @Sendable (_ plaintext: [UInt8], _ aad: [UInt8]) async throws(BrokerError) -> [UInt8]
        var open: @Sendable (_ sealed: [UInt8], _ aad: [UInt8]) async throws(BrokerError) -> [UInt8]
        var audit: @Sendable (AuditEntry) async throws(BrokerError) -> Void

        /// Sealed by the key hierarchy's resource data key, audited in the broker's log.
        static func vault(_ vault: ResourceVault) -> Sealing {
            Sealing(
                seal: { plaintext, aad throws(BrokerError) in
                    let keys = try await vault.keys()
                    do throws(KeyError) { return try await keys.encrypt(keyID: ResourceVault.resourceKeyID, plaintext: plaintext, aad: aad) } catch {
                        throw BrokerError(.unavailable, "key_\(error.reason.rawValue)", "the token signing key cannot be sealed: \(error.message)")
                    }
                },
                open: { sealed, aad throws(BrokerError) in
                    let keys = try await vault.keys()
                    do throws(KeyError) { return try await keys.decrypt(sealed, aad: aad) } catch {
                        throw BrokerError(.unavailable, "key_\(error.reason.rawValue)", "a token signing key cannot be opened: \(error.message)")
                    }
                },
                audit: { entry throws(BrokerError) in try await vault.audit(entry) })
        }

        /// Sealed under a key made for this process alone, audited nowhere: for signers whose keys live in memory
        /// (tests), so nothing they hold could be opened by another process even if it were written somewhere.
        static func ephemeral() -> Sealing {
            let key = SymmetricKey(size: .bits256)
            return Sealing(
                seal: { plaintext, aad throws(BrokerError) in
                    do { return Array(try AES.GCM.seal(plaintext, using: key, authenticating: aad).combined ?? Data()) } catch {
                        throw BrokerError(.failed, "token", "the token signing key cannot be sealed")
                    }
                },
                open: { sealed, aad throws(BrokerError) in
                    do { return Array(try AES.GCM.open(AES.GCM.SealedBox(combined: sealed), using: key, authenticating: aad)) } catch {
                        throw BrokerError(.failed, "token", "a token signing key cannot be opened")
                    }
                },
                audit: { _ throws(BrokerError) in })
        }
    }

    private let repository: any TokenSigningKeyRepository
    private let sealing: Sealing
    private let clock: @Sendable () -> Date
    /// How long a key signs before a new one takes over.
    package let rotationPeriod: TimeInterval
    /// How long a token lives: superseded keys verify at least that long after the last token they signed.
    package let tokenLifetime: TimeInterval
    private let state = Mutex(State())

    init(
        repository: any TokenSigningKeyRepository, sealing: Sealing, rotationPeriod: TimeInterval, tokenLifetime: TimeInterval,
        clock: @escaping @Sendable () -> Date
    ) {
        self.repository = repository
        self.sealing = sealing
        self.rotationPeriod = rotationPeriod
        self.tokenLifetime = tokenLifetime
        self.clock = clock
    }

    /// The key to sign with now: the newest, made (and stored) when there is none younger than the rotation period.
    func signingKey() async throws(BrokerError) -> Key {
        let now = Int64(clock().timeIntervalSince1970)
        if let key = newest(), Double(now - key.createdAt) < rotationPeriod { return key }
        try await reload()
        if let key = newest(), Double(now - key.createdAt) < rotationPeriod { return key }
        let key = try await make(now: now)
        // Keys past any token they could have signed go; a failure only leaves them a little longer.
        let horizon = now - Int64(2 * rotationPeriod + tokenLifetime)
        if (try? await repository.removeSigningKeys(createdBefore: horizon)) != nil {
            state.withLock { $0.keys = $0.keys.filter { $0.value.createdAt >= horizon } }
        }
        return key
    }

    /// The key `id` names, from memory or, at most once a second, from the store.
    func verificationKey(_ id: String) async -> Key? {
        if let key = state.withLock({ $0.keys[id] }) { return key }
        let now = clock()
        let due = state.withLock { state -> Bool in
            if let last = state.lastReload, now.timeIntervalSince(last) < 1 { return false }
            state.lastReload = now
            return true
        }
        guard due else { return nil }
        try? await reload()
        return state.withLock { $0.keys[id] }
    }

    /// Every key that verifies, as public JWKs (`kid`, `use`, `alg`), newest first: the JWK Set to publish. Re-read
    /// from the store at most once a second, since the endpoint is open to anyone.
    package func publicJWKs() async throws(BrokerError) -> [[String: String]] {
        let now = clock()
        let due = state.withLock { state -> Bool in
            if let last = state.lastPublished, now.timeIntervalSince(last) < 1 { return false }
            state.lastPublished = now
            return true
        }
        if due { try await reload() }
        return state.withLock { Array($0.keys.values) }.sorted { ($0.createdAt, $0.id) > ($1.createdAt, $1.id) }.map { key in
            var jwk = Self.publicJWK(key.publicKey)
            jwk["kid"] = key.id
            jwk["use"] = "sig"
            return jwk
        }
    }

    /// A public key as a JWK (`kty`, `crv`, `alg`, `x`, `y`).
    static func publicJWK(_ key: P256.Signing.PublicKey) -> [String: String] {
        let raw = key.rawRepresentation
        return ["kty": "EC", "crv": "P-256", "alg": "ES256", "x": Base64URL.encode(raw.prefix(32)), "y": Base64URL.encode(raw.suffix(32))]
    }

    /// RFC 7638 thumbprint of a public key: the `kid`, the same on every replica that reads the key.
    static func thumbprint(_ key: P256.Signing.PublicKey) -> String {
        let jwk = publicJWK(key)
        let canonical = #"{"crv":"P-256","kty":"EC","x":"\#(jwk["x"] ?? "")","y":"\#(jwk["y"] ?? "")"}"#
        return Base64URL.encode(Array(SHA256.hash(data: Array(canonical.utf8))))
    }

    private func newest() -> Key? {
        state.withLock { $0.keys.values.max { ($0.createdAt, $0.id) < ($1.createdAt, $1.id) } }
    }

    /// Reads every stored key, unsealing the ones not yet in memory.
    private func reload() async throws(BrokerError) {
        let stored: [StoredTokenSigningKey]
        do { stored = try await repository.signingKeys() } catch {
            throw BrokerError(.unavailable, "store_unavailable", "the token signing keys cannot be read")
        }
        let known = state.withLock { Set($0.keys.keys) }
        var loaded: [Key] = []
        for row in stored where !known.contains(row.keyID) {
            do {
                var raw = try await sealing.open(row.sealedPrivateKey, Self.aad(row.keyID))
                defer { SecretBytes.wipe(&raw) }
                let key = try P256.Signing.PrivateKey(rawRepresentation: raw)
                guard Self.thumbprint(key.publicKey) == row.keyID else { continue }
                loaded.append(Key(id: row.keyID, privateKey: key, createdAt: row.createdAt))
            } catch {
                // A key that cannot be opened signs and verifies nothing; the others still do.
                continue
            }
        }
        let ids = Set(stored.map(\.keyID))
        state.withLock { state in
            state.keys = state.keys.filter { ids.contains($0.key) }
            for key in loaded { state.keys[key.id] = key }
        }
    }

    /// A new key, sealed and stored before it signs anything.
    private func make(now: Int64) async throws(BrokerError) -> Key {
        let privateKey = P256.Signing.PrivateKey()
        let id = Self.thumbprint(privateKey.publicKey)
        var raw = Array(privateKey.rawRepresentation)
        defer { SecretBytes.wipe(&raw) }
        let sealed = try await sealing.seal(raw, Self.aad(id))
        do { try await repository.addSigningKey(StoredTokenSigningKey(keyID: id, sealedPrivateKey: sealed, createdAt: now)) } catch {
            throw BrokerError(.unavailable, "store_unavailable", "the token signing key cannot be stored")
        }
        try await sealing.audit(
            AuditEntry(kind: .keyOperation, actor: "kbs", action: "create", resource: "token-signing-key:" + id, outcome: .success))
        let key = Key(id: id, privateKey: privateKey, createdAt: now)
        state.withLock { $0.keys[id] = key }
        return key
    }

    static func aad(_ id: String) -> [UInt8] { Array(("token-signing-key:" + id).utf8) }
}
