import Dispatch
import Foundation
import KBSClaims
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
        let stored: StoredResource?
        do { stored = try await ports.resources.resource(at: path) } catch {
            throw BrokerError(.unavailable, "store_unavailable", "the resource store cannot be read")
        }
        guard let stored else {
            try await audit(
                AuditEntry(
                    kind: .decision, actor: "tee:\(appraisal.kind)", action: "release", resource: path, outcome: .deny,
                    details: ["reason": "not_found", "appraisal": .string(appraisal.id)]))
            // The same answer as a deny: a workload that may not list resources learns nothing of which exist.
            throw Self.denied(path)
        }
        if let identity = appraisal.identity {
            do { try await checkIdentity(identity, path: path, now: now) } catch {
                try await audit(
                    AuditEntry(
                        kind: .decision, actor: "tee:\(appraisal.kind)", action: "release", resource: path, outcome: .deny,
                        details: ["reason": .string(error.code), "appraisal": .string(appraisal.id)]))
                throw error
            }
        }
        let decision = try await decide(path: path, stored: stored, appraisal: appraisal, now: now)
        var details: [String: AuditValue] = [
            "rules": .list(decision.deciding.map { .string($0.name) }), "tier": .integer(Int64(appraisal.tier)),
            "required_tier": .integer(Int64(stored.requiredTier)), "appraisal": .string(appraisal.id), "policy": .string(decision.policyHash),
        ]
        if !decision.errors.isEmpty { details["errors"] = .integer(Int64(decision.errors.count)) }
        guard decision.isPermitted else {
            metrics.denied()
            try await audit(
                AuditEntry(
                    kind: .decision, actor: "tee:\(appraisal.kind)", action: "release", resource: path, outcome: .deny,
                    details: details))
            throw Self.denied(path)
        }
        let keys = try await vault.keys()
        var plaintext: [UInt8]
        do { plaintext = try await keys.decrypt(stored.sealed, aad: Array(path.utf8)) } catch {
            details["reason"] = .string(error.reason.rawValue)
            try? await audit(
                AuditEntry(
                    kind: .decision, actor: "tee:\(appraisal.kind)", action: "release", resource: path, outcome: .error,
                    details: details))
            throw BrokerError(.forbidden, "key_\(error.reason.rawValue)", "the resource's key refuses use: \(error.message)")
        }
        metrics.keyOperated("unseal")
        let secret = SecretBytes(copying: plaintext)
        SecretBytes.wipe(&plaintext)
        let jwe = try JWE.encrypt(secret, to: appraisal.teePublicKey)
        // One record for the decision and the release, durable before the secret leaves; if it fails, nothing leaves.
        details["alg"] = .string(appraisal.teePublicKey.algorithm)
        try await audit(
            AuditEntry(
                kind: .decision, actor: "tee:\(appraisal.kind)", action: "release", resource: path, outcome: .permit,
                details: details))
        return jwe
    }

    /// The appraisal behind a release: from the attestation token when one is presented, else from the session.
    private func appraisal(sessionID: String?, bearer: String?, now: Date) async throws(BrokerError) -> Appraisal {
        if let bearer { return try signer.verify(bearer, now: now) }
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
        BrokerError(.forbidden, "policy_deny", "the release policy denies \(path) to this attestation")
    }

    /// Re-checks the identity at release, on every path: not expired (the earliest expiry of the token and its caveats,
    /// as verified at attestation); with the token at hand, it must still verify and grant `release:<path>`; from an
    /// attestation token, the id must not be revoked or expired and the granted list must cover the path.
    private func checkIdentity(_ identity: Appraisal.Identity, path: String, now: Date) async throws(BrokerError) {
        let seconds = Int64(now.timeIntervalSince1970)
        guard seconds < identity.expires else {
            throw .unauthorized("token_expired", "capability token \(identity.tokenID) has expired")
        }
        if let token = identity.token {
            _ = try await capabilities.verify(token, capability: "release:" + path)
            return
        }
        let stored: StoredCapabilityToken?
        do { stored = try await ports.capabilityTokens.token(identity.tokenID) } catch {
            throw BrokerError(.unavailable, "store_unavailable", "the token store cannot be read")
        }
        guard let stored else { throw .unauthorized("invalid_token", "the capability token behind this attestation is unknown") }
        if stored.revokedAt != nil { throw .unauthorized("token_revoked", "capability token \(identity.tokenID) was revoked") }
        guard seconds < stored.expiresAt else { throw .unauthorized("token_expired", "capability token \(identity.tokenID) has expired") }
        guard let wanted = Capability("release:" + path),
            identity.capabilities.compactMap(Capability.init).contains(where: { $0.covers(wanted) })
        else { throw BrokerError(.forbidden, "capability_denied", "capability token \(identity.tokenID) does not grant release:\(path)") }
    }

    /// The release policy's decision on `{action, evidence, resource, tier, reference_values, subject?}`.
    private func decide(path: String, stored: StoredResource, appraisal: Appraisal, now: Date) async throws(BrokerError) -> Decision {
        let references: [String: [String: [String]]]
        do { references = try await ports.referenceValues.all() } catch {
            throw BrokerError(.unavailable, "store_unavailable", "reference values cannot be read")
        }
        // The labels are the JSON this broker stored; anything else reads as none, which a `role` label rule denies.
        var labels = ClaimRecord()
        if let node = try? JSONNode.parse(Array(stored.labelsJSON.utf8)), case .record(let record)? = ClaimValue(json: node) { labels = record }
        var referenceValues = ClaimRecord()
        for (kind, names) in references.sorted(by: { $0.key < $1.key }) {
            referenceValues[kind] = .record(ClaimRecord(names.sorted(by: { $0.key < $1.key }).map { ($0.key, .list($0.value.map { .string($0) })) }))
        }
        var input = ClaimRecord([
            ("action", .string("release")), ("evidence", .record(appraisal.claims)),
            (
                "resource",
                .record(ClaimRecord([("path", .string(path)), ("required_tier", .int(Int64(stored.requiredTier))), ("labels", .record(labels))]))
            ),
            ("tier", .int(Int64(appraisal.tier))), ("reference_values", .record(referenceValues)),
        ])
        if let identity = appraisal.identity {
            input["subject"] = .record(ClaimRecord([("id", .string(identity.subject)), ("issuer", .string(identity.issuer))]))
        }
        return releasePolicy().decide(input: input, options: .init(now: Int64(now.timeIntervalSince1970 * 1e9), entities: entities(), explain: false))
    }
}
