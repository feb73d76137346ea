package import Foundation
package import KBSClaims
import KBSKeys
package import KBSPolicy
import Synchronization

/// HashiCorp Vault's token auth, KV v2 and Transit engines over the key hierarchy, decided by the `kms` policy bundle.
///
/// Tokens come from an administrator (`POST /kbs/v1/vault-tokens`), from an OIDC login (`auth/jwt/login`, through a
/// configured role) or from an attestation token of this broker (`auth/kbs/login`, carrying the attested tier). Every
/// KV and Transit operation is a decision on `{action: "vault:…", identity, roles, tier, token_policies, resource}`,
/// recorded in the decision log; every success and refusal is audited, never with a plaintext, a data key or a token.
///
/// HTTP-free: the server turns Vault's wire format into these calls and their ``BrokerError`` codes (`vault_*`) into
/// Vault's `{"errors": […]}` responses.
package struct VaultService: Sendable {
    let broker: Broker
    let repository: any VaultRepository
    let policy: @Sendable () -> PolicySet?
    let recorder: any DecisionRecorder
    /// The tier a Transit key or KV secret created without one requires (`PRIVACY_TIER`).
    let defaultTier: PrivacyTier
    /// The roles `auth/jwt/login` issues tokens for, by name.
    let jwtRoles: [String: VaultJWTRole]
    /// Whether the Vault key-encryption key and KV data key are known to exist (shared by copies of the service).
    let prepared = SharedFlag()

    /// The key-encryption key above every Transit key, and the data key that seals KV v2 values under it.
    static let parentID = "vault-kek"
    static let kvKeyID = "vault-kv"

    /// The Vault API over `broker`, keeping its state in `repository`; `recorder` logs the decisions of `policy`.
    package init(
        broker: Broker, repository: any VaultRepository, policy: @escaping @Sendable () -> PolicySet?, recorder: any DecisionRecorder,
        defaultTier: PrivacyTier, jwtRoles: [VaultJWTRole] = []
    ) {
        self.broker = broker
        self.repository = repository
        self.policy = policy
        self.recorder = recorder
        self.defaultTier = defaultTier
        self.jwtRoles = Dictionary(jwtRoles.map { ($0.name, $0) }) { first, _ in first }
    }

    /// Whether the master key cannot be reached (Vault's "sealed"): the hierarchy does not open.
    package func isSealed() async -> Bool {
        (try? await broker.vault.keySource.hierarchy()) == nil
    }

    // MARK: Deciding

    /// What a decision is about: a `secret/…` or `transit/…` path, who created it, the tier it requires, its labels.
    struct Target {
        var id: String
        var creator: String?
        var requiredTier: Int
        var labels: [String: String]

        /// A path no entry stands for yet (a listing, a key or secret about to be created).
        static func path(_ id: String, requiredTier: Int = 0, labels: [String: String] = [:]) -> Target {
            Target(id: id, creator: nil, requiredTier: requiredTier, labels: labels)
        }
    }

    /// Asks the `kms` bundle whether `caller` may do `action` (`vault:transit:encrypt`, …) on `target`; a denial is
    /// recorded, audited and refused as `vault_permission_denied` (Vault's 403), its reason left in the decision log.
    func authorize(_ caller: VaultCaller, _ action: String, _ target: Target) async throws(BrokerError) {
        var resource = ClaimRecord([("id", .string(target.id))])
        if let creator = target.creator { resource["creator"] = .string(creator) }
        resource["required_tier"] = .int(Int64(target.requiredTier))
        resource["labels"] = KeyService.map(target.labels)
        let roles = KMSDecision.roles(broker, of: caller.identity.subject, covering: target.id)
        var input = ClaimRecord([
            ("action", .string(action)), ("identity", .record(caller.identity.claims)), ("roles", .list(roles.map { .string($0) })),
            ("tier", .int(Int64(caller.tier))), ("token_policies", .list(caller.entry.policies.map { .string($0) })),
            ("resource", .record(resource)),
        ])
        if let evidence = caller.evidence { input["evidence"] = .record(evidence) }
        let permitted = try await KMSDecision(broker: broker, policy: policy(), recorder: recorder).decide(
            identity: caller.identity, details: caller.details, action: action, resourceType: "vault_path", resourceID: target.id, input: input)
        guard permitted else { throw Self.error(.forbidden, "permission_denied", "permission denied") }
    }

    // MARK: Auditing

    /// Audits a finished operation; the result is given only once this returns.
    func audited(_ caller: VaultCaller, _ action: String, _ resource: String, _ extra: [String: AuditValue] = [:]) async throws(BrokerError) {
        broker.metrics.keyOperated(action)
        try await broker.audit(
            AuditEntry(
                kind: .keyOperation, actor: caller.actor, action: action, resource: resource, outcome: .success,
                details: caller.details.merging(extra) { $1 }))
    }

    /// Audits a refused or failed operation (best effort: the refusal stands either way) and returns the error.
    func failed(_ caller: VaultCaller, _ action: String, _ resource: String, _ error: BrokerError) async -> BrokerError {
        var details = caller.details
        details["reason"] = .string(error.code)
        try? await broker.audit(
            AuditEntry(kind: .keyOperation, actor: caller.actor, action: action, resource: resource, outcome: .failure, details: details))
        return error
    }

    // MARK: Store access

    /// An entry of `kind`, decoded, with its revision.
    func load<T: Decodable>(_ type: T.Type, _ kind: VaultEntryKind, _ name: String) async throws(BrokerError) -> (T, Int)? {
        let found: (document: [UInt8], revision: Int)?
        do { found = try await repository.entry(kind, name) } catch { throw Self.storeUnavailable("read") }
        guard let found else { return nil }
        guard let value = VaultDocument.decode(type, found.document) else {
            throw BrokerError(.unavailable, "vault_store_corrupt", "a stored \(kind.rawValue) entry does not decode")
        }
        return (value, found.revision)
    }

    /// Stores `value` over `revision` (nil: a new entry); false when another request changed it first.
    func store<T: Encodable>(_ value: T, _ kind: VaultEntryKind, _ name: String, over revision: Int?, expires: Int64? = nil)
        async throws(BrokerError) -> Bool
    {
        do { return try await repository.save(kind, name, VaultDocument.encode(value), expectedRevision: revision, expires: expires) } catch {
            throw Self.storeUnavailable("written")
        }
    }

    /// Removes an entry; false when there was none.
    func remove(_ kind: VaultEntryKind, _ name: String) async throws(BrokerError) -> Bool {
        do { return try await repository.delete(kind, name) } catch { throw Self.storeUnavailable("written") }
    }

    static func storeUnavailable(_ access: String) -> BrokerError {
        BrokerError(.unavailable, "store_unavailable", "the Vault store cannot be \(access)")
    }

    // MARK: Errors

    /// A Vault refusal: code `vault_<name>`, its message Vault-like (clients show it as is).
    static func error(_ kind: BrokerError.Kind, _ name: String, _ message: String) -> BrokerError {
        BrokerError(kind, "vault_" + name, message)
    }

    /// A bad request (Vault's 400).
    static func invalid(_ message: String) -> BrokerError { error(.invalidRequest, "invalid_request", message) }

    /// A key hierarchy refusal as Vault's: a key's state or a bad ciphertext is the caller's 400, else unavailable.
    static func keyError(_ error: KeyError) -> BrokerError {
        switch error.reason {
        case .disabled, .pendingDeletion, .invalidState, .destroyed, .notFound: invalid(error.message)
        case .integrity, .malformed: invalid("invalid ciphertext: unable to decrypt")
        case .invalidArgument: invalid(error.message)
        default: BrokerError(.unavailable, "vault_internal", "the key hierarchy failed: \(error.reason.rawValue)")
        }
    }
}

/// A flag shared by the copies of a value type.
final class SharedFlag: Sendable {
    private let value = Mutex(false)

    func withLock<T>(_ body: (inout Bool) -> T) -> T { value.withLock { body(&$0) } }
}

/// A role of `auth/jwt/login`: which OIDC subjects may log in with it, and the token they get.
package struct VaultJWTRole: Sendable, Equatable {
    package var name: String
    /// The token's Vault policies.
    package var policies: [String]
    /// The token's lifetime and the longest it may be renewed to, in seconds.
    package var ttl: Int64
    package var maximumTTL: Int64
    /// Subject ids (`oidc:<issuer>#<sub>`) allowed; empty allows any subject of a configured issuer.
    package var boundSubjects: [String]

    /// A role.
    package init(name: String, policies: [String], ttl: Int64 = 3600, maximumTTL: Int64 = 86_400, boundSubjects: [String] = []) {
        self.name = name
        self.policies = policies
        self.ttl = ttl
        self.maximumTTL = maximumTTL
        self.boundSubjects = boundSubjects
    }
}
