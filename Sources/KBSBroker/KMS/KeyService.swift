import Foundation
package import KBSClaims
package import KBSKeys
package import KBSPolicy

/// AWS KMS's operations over the key hierarchy: each KMS key is a data key `kms/<id>` under the key-encryption key
/// `kms-kek`, and its AWS-side metadata and aliases sit in a ``KMSRepository``. What AWS decides with IAM and key
/// policies the `kms` policy bundle decides here, on `{action, identity, roles, tier, resource, encryption_context,
/// evidence}`; every operation leaves a decision-log line and an audit record, and releases nothing it could not audit.
///
/// HTTP-free: the server turns the JSON 1.1 wire format into these calls and their ``BrokerError`` codes (`kms_*`)
/// into AWS's error types.
package struct KeyService: Sendable {
    let broker: Broker
    let repository: any KMSRepository
    /// The `kms` bundle in service; nil when none is served, and then every operation is denied.
    let policy: @Sendable () -> PolicySet?
    let recorder: any DecisionRecorder
    /// The tier a key created without a `kbs:required-tier` tag requires (`PRIVACY_TIER`).
    let defaultTier: PrivacyTier
    /// The account id key ARNs carry (and ARNs in requests must carry).
    package let account: String

    /// The hierarchy id of KMS key `id`, and the key-encryption key above every KMS key.
    static let recordPrefix = "kms/"
    static let parentID = "kms-kek"
    /// The tag that sets a new key's required tier (reserved: it is not kept as a tag).
    package static let tierTag = "kbs:required-tier"

    /// Operations over `broker`'s key hierarchy, with `repository` keeping entries and aliases and `recorder` the
    /// decisions of `policy`.
    package init(
        broker: Broker, repository: any KMSRepository, policy: @escaping @Sendable () -> PolicySet?, recorder: any DecisionRecorder,
        defaultTier: PrivacyTier, account: String = "000000000000"
    ) {
        self.broker = broker
        self.repository = repository
        self.policy = policy
        self.recorder = recorder
        self.defaultTier = defaultTier
        self.account = account
    }

    // MARK: Callers

    /// The caller an identity makes, with the tier an attestation token of this broker vouches for when one is given
    /// (AWS's session token): without one, a verified identity is tier 1 (as for identity-only release).
    ///
    /// The token must name the identity's subject (the workload presented the same API key when it attested), so an
    /// attestation token alone, copied from a TEE, lends its tier to no one else.
    package func caller(identity: CallerIdentity, sessionToken: String?) async throws(BrokerError) -> KMSCaller {
        guard let sessionToken else { return KMSCaller(identity: identity, tier: 1, evidence: nil, appraisalID: nil) }
        let appraisal: Appraisal
        do { appraisal = try await broker.signer.verify(sessionToken, now: broker.clock()) } catch {
            if error.code == "token_expired" { throw Self.error("expired_token", "the security token included in the request is expired") }
            throw Self.error("unrecognized_client", "the security token included in the request is invalid")
        }
        guard appraisal.identity?.subject == identity.subject else {
            throw Self.error(
                "unrecognized_client",
                "the security token included in the request was not issued to this access key's subject: attest with it as the credential")
        }
        return KMSCaller(identity: identity, tier: appraisal.tier, evidence: appraisal.claims, appraisalID: appraisal.id)
    }

    // MARK: Finding keys

    /// The key a `KeyId` names (key id, key ARN, alias name or alias ARN), with its record: `kms_not_found` when there
    /// is none, it was deleted, or its deletion date has passed (it is then destroyed now).
    func resolve(_ reference: String) async throws(BrokerError) -> KMSKeyView {
        guard let parsed = KMSKeyReference(reference, account: account) else {
            throw Self.error("not_found", "Invalid keyId \(reference.prefix(256))")
        }
        switch parsed {
        case .key(let id): return try await view(id)
        case .alias(let name):
            guard let alias = try await repository(.read, { try await repository.alias(name) }) else {
                throw Self.error("not_found", "Alias \(name.prefix(256)) is not found.")
            }
            return try await view(alias.keyID)
        }
    }

    /// Key `id` with its record; `kms_not_found` as for ``resolve(_:)``.
    func view(_ id: String) async throws(BrokerError) -> KMSKeyView {
        guard let entry = try await repository(.read, { try await repository.key(id) }) else {
            throw Self.error("not_found", "Key '\(id)' does not exist")
        }
        let keys = try await broker.vault.keySource.hierarchy()
        var record: KeyRecord
        do { record = try await keys.record(Self.recordPrefix + id) } catch {
            if error.reason == .notFound { throw Self.error("not_found", "Key '\(id)' does not exist") }
            throw Self.keyError(error)
        }
        if case .pendingDeletion(let until) = record.state, broker.clock() >= until {
            // The window has passed: destroy now rather than wait for the sweep, so the key is gone the moment it may be.
            record = try await destroyExpired(record.id, keys: keys, now: broker.clock()).record
        }
        if case .destroyed = record.state { throw Self.error("not_found", "Key '\(id)' does not exist") }
        return KMSKeyView(entry: entry, record: record)
    }

    // MARK: Deciding

    /// What a decision is about besides the key: an alias, a requested key's tier and tags, the encryption context.
    struct Subject {
        var key: KMSKeyView?
        var alias: String?
        /// For `kms:CreateKey`: the key asked for.
        var requested: (tier: PrivacyTier, tags: [String: String], usage: KMSKeyUsage, spec: KMSKeySpec)?
        var context: [String: String]?

        static let account = Subject()

        static func key(_ key: KMSKeyView, context: [String: String]? = nil, alias: String? = nil) -> Subject {
            Subject(key: key, alias: alias, requested: nil, context: context)
        }
    }

    /// Asks the `kms` bundle whether `caller` may do `action` (`kms:Encrypt`, …) on `subject`, and records the decision
    /// (with its explanation) in the decision log first; a deny is audited and refused as `kms_access_denied`, with no
    /// reason for the client: the reason is in the decision log.
    func authorize(_ caller: KMSCaller, _ action: String, _ subject: Subject) async throws(BrokerError) {
        let resourceID = subject.key.map { Self.recordPrefix + $0.entry.id } ?? "*"
        let permitted = try await KMSDecision(broker: broker, policy: policy(), recorder: recorder).decide(
            identity: caller.identity, details: caller.details, action: action, resourceType: "kms_key", resourceID: resourceID,
            input: input(caller, action, subject, resourceID: resourceID))
        guard permitted else {
            throw Self.error(
                "access_denied",
                "User: \(caller.identity.subject) is not authorized to perform: \(action) on resource: \(resourceID); see the decision log")
        }
    }

    /// The policy's input: the caller, the action, the key (or `*`), the context.
    private func input(_ caller: KMSCaller, _ action: String, _ subject: Subject, resourceID: String) -> ClaimRecord {
        var resource = ClaimRecord([("id", .string(resourceID))])
        if let key = subject.key {
            resource["creator"] = .string(key.entry.creator)
            resource["required_tier"] = .int(Int64(key.record.requiredTier.rawValue))
            resource["labels"] = Self.map(key.record.labels)
            resource["key_usage"] = .string(key.entry.usage.rawValue)
            resource["key_spec"] = .string(key.entry.spec.rawValue)
            resource["key_state"] = .string(key.state)
        } else if let requested = subject.requested {
            resource["required_tier"] = .int(Int64(requested.tier.rawValue))
            resource["labels"] = Self.map(requested.tags)
            resource["key_usage"] = .string(requested.usage.rawValue)
            resource["key_spec"] = .string(requested.spec.rawValue)
        } else {
            resource["required_tier"] = .int(0)
            resource["labels"] = Self.map([:])
        }
        if let alias = subject.alias { resource["alias"] = .string(alias) }
        let roles = KMSDecision.roles(broker, of: caller.identity.subject, covering: resourceID)
        var input = ClaimRecord([
            ("action", .string(action)), ("identity", .record(caller.identity.claims)), ("roles", .list(roles.map { .string($0) })),
            ("tier", .int(Int64(caller.tier))), ("resource", .record(resource)),
        ])
        if let context = subject.context { input["encryption_context"] = Self.map(context) }
        if let evidence = caller.evidence { input["evidence"] = .record(evidence) }
        return input
    }

    static func map(_ table: [String: String]) -> ClaimValue {
        .record(ClaimRecord(table.sorted { $0.key < $1.key }.map { ($0.key, .string($0.value)) }))
    }

    // MARK: Auditing

    /// Audits a finished operation; the result is given only once this returns.
    func audited(_ caller: KMSCaller, _ action: String, _ resource: String, _ extra: [String: AuditValue] = [:]) async throws(BrokerError) {
        broker.metrics.keyOperated(action)
        try await broker.audit(
            AuditEntry(
                kind: .keyOperation, actor: caller.actor, action: action, resource: resource, outcome: .success,
                details: caller.details.merging(extra) { $1 }))
    }

    /// Audits a refused or failed operation (best effort: the refusal stands either way) and returns the error.
    func failed(_ caller: KMSCaller, _ action: String, _ resource: String, _ error: BrokerError) async -> BrokerError {
        var details = caller.details
        details["reason"] = .string(error.code)
        try? await broker.audit(
            AuditEntry(kind: .keyOperation, actor: caller.actor, action: action, resource: resource, outcome: .failure, details: details))
        return error
    }

    // MARK: Errors

    /// The kinds of store access, for the message when it fails.
    enum Access { case read, write }

    /// Runs a repository call; a failure is `store_unavailable`.
    func repository<T>(_ access: Access, _ body: () async throws -> T) async throws(BrokerError) -> T {
        do { return try await body() } catch {
            throw BrokerError(.unavailable, "store_unavailable", "the KMS key store cannot be \(access == .read ? "read" : "written")")
        }
    }

    /// A KMS refusal: code `kms_<name>`, which the server maps to AWS's error type.
    static func error(_ name: String, _ message: String) -> BrokerError {
        let kind: BrokerError.Kind =
            switch name {
            case "not_found": .notFound
            case "access_denied": .forbidden
            case "unrecognized_client", "expired_token": .unauthenticated
            case "disabled", "invalid_state", "already_exists": .conflict
            case "internal": .unavailable
            default: .invalidRequest
            }
        return BrokerError(kind, "kms_" + name, message)
    }

    /// A key hierarchy refusal as the KMS API's: the key's state, a missing key, a bad argument, else an internal error.
    static func keyError(_ error: KeyError) -> BrokerError {
        switch error.reason {
        case .disabled: Self.error("disabled", error.message)
        case .pendingDeletion: Self.error("invalid_state", error.message + " (PendingDeletion)")
        case .invalidState: Self.error("invalid_state", error.message)
        case .notFound, .destroyed: Self.error("not_found", error.message)
        case .invalidArgument: Self.error("validation", error.message)
        case .integrity, .malformed: Self.error("invalid_ciphertext", "the ciphertext, its encryption context or its key does not match")
        default: BrokerError(.unavailable, "kms_internal", "the key hierarchy failed: \(error.reason.rawValue)")
        }
    }
}
