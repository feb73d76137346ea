import Dispatch
import Foundation
package import KBSClaims
import KBSJOSE
import KBSKeys
import KBSPolicy

extension Broker {
    /// RCAR `resource` for `repo/type/tag`: decides, then returns the value as a JWE to the attested TEE key.
    ///
    /// The caller presents the attested session, or `bearer`, an attestation token this broker issued.
    package func release(path: String, sessionID: String?, bearer: String?) async throws(BrokerError) -> String {
        let started = DispatchTime.now().uptimeNanoseconds
        defer { metrics.released(nanoseconds: DispatchTime.now().uptimeNanoseconds - started) }
        try Self.validatePath(path)
        let now = clock()
        let appraisal = try await appraisal(sessionID: sessionID, bearer: bearer, now: now)
        return try await release(
            path: path,
            grounds: ReleaseGrounds(
                actor: "tee:\(appraisal.kind)", evidence: appraisal.claims, tier: appraisal.tier, identity: appraisal.identity,
                recipient: appraisal.teePublicKey, appraisalID: appraisal.id),
            now: now)
    }

    /// Identity-only release (`POST /kbs/v1/release/…`, no TEE): tier 1 for a verified identity, 0 for none; the value
    /// as a JWE to `recipient`, the same as RCAR returns.
    package func release(path: String, identity: CallerIdentity?, recipient: JSONNode) async throws(BrokerError) -> String {
        let started = DispatchTime.now().uptimeNanoseconds
        defer { metrics.released(nanoseconds: DispatchTime.now().uptimeNanoseconds - started) }
        try Self.validatePath(path)
        let key: TEEPublicKey
        do { key = try TEEPublicKey(jwk: recipient) } catch {
            let reason = error.message.replacingOccurrences(of: "`tee-pubkey`: ", with: "")
            throw .badRequest("invalid_recipient", "`recipient`: \(reason)")
        }
        return try await release(
            path: path,
            grounds: ReleaseGrounds(
                actor: identity.map { "subject:\($0.subject)" } ?? "anonymous", evidence: nil, tier: identity == nil ? 0 : 1,
                identity: identity, recipient: key, appraisalID: nil),
            now: clock())
    }

    /// What a release is decided on: the attested evidence (none for identity-only release), the tier it reaches, who
    /// asks, and the key the value is encrypted to.
    struct ReleaseGrounds {
        var actor: String
        var evidence: ClaimRecord?
        var tier: Int
        var identity: CallerIdentity?
        var recipient: TEEPublicKey
        var appraisalID: String?

        /// The audit details every release record carries: the appraisal and the subject, when there are.
        var details: [String: AuditValue] {
            var details: [String: AuditValue] = ["tier": .integer(Int64(tier))]
            if let appraisalID { details["appraisal"] = .string(appraisalID) }
            if let identity {
                details["subject"] = .string(identity.subject)
                details["method"] = .string(identity.method)
            }
            return details
        }
    }

    private func release(path: String, grounds: ReleaseGrounds, now: Date) async throws(BrokerError) -> String {
        let actor = grounds.actor
        let revisions = try await releaseRevisions()
        let resource = try await resource(at: path, revisions: revisions)
        guard let stored = resource.stored else {
            var details = grounds.details
            details["reason"] = "not_found"
            try await audit(AuditEntry(kind: .decision, actor: actor, action: "release", resource: path, outcome: .deny, details: details))
            // The same answer as a deny: a workload that may not list resources learns nothing of which exist.
            throw Self.denied(path)
        }
        if let identity = grounds.identity {
            do { try await checkIdentity(identity, path: path, now: now) } catch {
                var details = grounds.details
                details["reason"] = .string(error.code)
                try await audit(AuditEntry(kind: .decision, actor: actor, action: "release", resource: path, outcome: .deny, details: details))
                throw error
            }
        }
        let decision = try await decide(path: path, inputs: resource, stored: stored, grounds: grounds, revisions: revisions, now: now)
        var details = grounds.details
        details["rules"] = .list(decision.deciding.map { .string($0.name) })
        details["required_tier"] = .integer(Int64(stored.requiredTier))
        details["policy"] = .string(decision.policyHash)
        if !decision.errors.isEmpty { details["errors"] = .integer(Int64(decision.errors.count)) }
        guard decision.isPermitted else {
            metrics.denied()
            try await audit(
                AuditEntry(
                    kind: .decision, actor: actor, action: "release", resource: path, outcome: .deny,
                    details: details))
            throw Self.denied(path)
        }
        let keys = try await vault.keys()
        var plaintext: [UInt8]
        do { plaintext = try await keys.decrypt(stored.sealed, aad: Array(path.utf8), recordsAt: revisions?.keyRecords) } catch {
            details["reason"] = .string(error.reason.rawValue)
            try? await audit(
                AuditEntry(
                    kind: .decision, actor: actor, action: "release", resource: path, outcome: .error,
                    details: details))
            throw BrokerError(.forbidden, "key_\(error.reason.rawValue)", "the resource's key refuses use: \(error.message)")
        }
        metrics.keyOperated("unseal")
        let secret = SecretBytes(copying: plaintext)
        SecretBytes.wipe(&plaintext)
        let jwe = try JWE.encrypt(secret, to: grounds.recipient)
        // One record for the decision and the release, durable before the secret leaves; if it fails, nothing leaves.
        details["alg"] = .string(grounds.recipient.algorithm)
        try await audit(
            AuditEntry(
                kind: .decision, actor: actor, action: "release", resource: path, outcome: .permit,
                details: details))
        return jwe
    }

    /// The appraisal behind a release: from the attestation token when one is presented, else from the session.
    private func appraisal(sessionID: String?, bearer: String?, now: Date) async throws(BrokerError) -> Appraisal {
        if let bearer { return try await signer.verify(bearer, now: now) }
        guard let session = try await liveSession(sessionID, now: now) else {
            throw .unauthorized("no_session", "present an attested session or an attestation token")
        }
        guard let appraisal = session.appraisal else { throw .unauthorized("not_attested", "this session has not attested; attest first") }
        guard now.timeIntervalSince(appraisal.attestedAt) <= configuration.appraisalLifetime else {
            throw .unauthorized(
                "attestation_expired",
                "this session's attestation is over \(Int(configuration.appraisalLifetime)) s old; authenticate and attest again")
        }
        return appraisal
    }

    /// The refusal for a resource the policy denies, and for one that does not exist.
    static func denied(_ path: String) -> BrokerError {
        BrokerError(.forbidden, "policy_deny", "the release policy denies \(path) to this caller")
    }

    /// Re-checks the identity at release, on every path: not expired (a token's `exp`, a login session's end, a
    /// capability token's earliest expiry, as verified when presented). A capability token is re-checked: with the
    /// token at hand it must still verify and grant `release:<path>`; from an attestation token, its id must not be
    /// revoked or expired and the granted list must cover the path.
    private func checkIdentity(_ identity: CallerIdentity, path: String, now: Date) async throws(BrokerError) {
        let seconds = Int64(now.timeIntervalSince1970)
        guard let grant = identity.capability else {
            if let expires = identity.expires, seconds >= expires {
                throw .unauthorized("identity_expired", "the credential behind this request has expired")
            }
            return
        }
        if let expires = identity.expires, seconds >= expires {
            throw .unauthorized("token_expired", "capability token \(grant.tokenID) has expired")
        }
        if let token = grant.token {
            _ = try await capabilities.verify(token, capability: "release:" + path)
            return
        }
        let stored: StoredCapabilityToken?
        do { stored = try await ports.capabilityTokens.token(grant.tokenID) } catch {
            throw BrokerError(.unavailable, "store_unavailable", "the token store cannot be read")
        }
        guard let stored else { throw .unauthorized("invalid_token", "the capability token behind this attestation is unknown") }
        if stored.revokedAt != nil { throw .unauthorized("token_revoked", "capability token \(grant.tokenID) was revoked") }
        guard seconds < stored.expiresAt else { throw .unauthorized("token_expired", "capability token \(grant.tokenID) has expired") }
        guard let wanted = Capability("release:" + path),
            grant.capabilities.compactMap(Capability.init).contains(where: { $0.covers(wanted) })
        else { throw BrokerError(.forbidden, "capability_denied", "capability token \(grant.tokenID) does not grant release:\(path)") }
    }

    /// The release policy's decision on `{action, evidence?, identity?, roles, resource, tier, reference_values}`:
    /// `roles` are the subject's roles that cover this path, from every entity with the subject's id.
    private func decide(
        path: String, inputs: ReleaseInputs.Resource, stored: StoredResource, grounds: ReleaseGrounds, revisions: ReleaseRevisions?, now: Date
    ) async throws(BrokerError) -> Decision {
        let labels = inputs.labels
        let referenceValues = try await referenceValues(revisions: revisions)
        let snapshot = entities()
        var roles: [String] = []
        if let identity = grounds.identity, let snapshot {
            roles = Array(Set(snapshot.roles(ofAnyTypeWithID: identity.subject).filter { $0.covers(path) }.map(\.role))).sorted()
        }
        var resource = ClaimRecord([("path", .string(path)), ("required_tier", .int(Int64(stored.requiredTier))), ("labels", .record(labels))])
        if case .string(let methods)? = labels["identity_methods"] {
            let names = Set(methods.split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty })
            resource["identity_methods"] = .list(names.sorted().map { .string($0) })
        }
        var input = ClaimRecord([
            ("action", .string("release")), ("resource", .record(resource)),
            ("tier", .int(Int64(grounds.tier))), ("reference_values", .record(referenceValues)), ("roles", .list(roles.map { .string($0) })),
            // Rules that only make sense for real hardware (revocation data required) read the mode.
            ("tee_mode", .string(configuration.teeMode.rawValue)),
        ])
        if let evidence = grounds.evidence { input["evidence"] = .record(evidence) }
        if let identity = grounds.identity { input["identity"] = .record(identity.claims) }
        return releasePolicy().decide(input: input, options: .init(now: Int64(now.timeIntervalSince1970 * 1e9), entities: snapshot, explain: false))
    }
}

extension Broker {
    /// The change counters of the release's inputs, or nil when the store keeps none (then every input is read).
    func releaseRevisions() async throws(BrokerError) -> ReleaseRevisions? {
        guard let source = ports.revisions else { return nil }
        do { return try await source.releaseRevisions() } catch {
            throw BrokerError(.unavailable, "store_unavailable", "the store's change counters cannot be read")
        }
    }

    /// The resource at `path` with its labels parsed, from memory while the resources counter stands still.
    func resource(at path: String, revisions: ReleaseRevisions?) async throws(BrokerError) -> ReleaseInputs.Resource {
        if let stamp = revisions?.resources, let known = releaseInputs.resource(path, at: stamp) { return known }
        let stored: StoredResource?
        do { stored = try await ports.resources.resource(at: path) } catch {
            throw BrokerError(.unavailable, "store_unavailable", "the resource store cannot be read")
        }
        // The labels are the JSON this broker stored; anything else reads as none, which a `role` label rule denies.
        var labels = ClaimRecord()
        if let stored, let node = try? JSONNode.parse(Array(stored.labelsJSON.utf8)), case .record(let record)? = ClaimValue(json: node) {
            labels = record
        }
        let resource = ReleaseInputs.Resource(stored: stored, labels: labels)
        if let stamp = revisions?.resources { releaseInputs.remember(resource, at: path, stamp: stamp) }
        return resource
    }

    /// The run-time reference values as the policy reads them (kind → name → values), from memory while their counter
    /// stands still.
    func referenceValues(revisions: ReleaseRevisions?) async throws(BrokerError) -> ClaimRecord {
        if let stamp = revisions?.referenceValues, let known = releaseInputs.referenceValues(at: stamp) { return known }
        let references: [String: [String: [String]]]
        do { references = try await ports.referenceValues.all() } catch {
            throw BrokerError(.unavailable, "store_unavailable", "reference values cannot be read")
        }
        var referenceValues = ClaimRecord()
        for (kind, names) in references.sorted(by: { $0.key < $1.key }) {
            referenceValues[kind] = .record(ClaimRecord(names.sorted(by: { $0.key < $1.key }).map { ($0.key, .list($0.value.map { .string($0) })) }))
        }
        if let stamp = revisions?.referenceValues { releaseInputs.remember(referenceValues: referenceValues, stamp: stamp) }
        return referenceValues
    }
}
