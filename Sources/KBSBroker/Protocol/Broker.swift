public import Foundation
import Crypto
import KBSClaims
import KBSEvidence
import KBSKeys
public import KBSPolicy
public import KBSStore

/// The key broker: Trustee's RCAR protocol (auth → attest → resource) over the evidence verifiers, the key hierarchy
/// and the release policy, with every step audited.
///
/// Fail closed: a step that cannot finish — evidence that does not verify, a binding that does not match, a policy
/// error, a key that cannot be unwrapped, an audit record that cannot be written — releases nothing.
public final class Broker: Sendable {
    public let configuration: BrokerConfiguration
    let store: Store
    /// Resources and reference values.
    public let vault: ResourceVault
    /// Capability tokens for agents, over the same store and key hierarchy.
    public let capabilities: CapabilityAuthority
    let releasePolicy: @Sendable () -> PolicySet
    let tierRules: TierRules?
    let entities: @Sendable () -> (any EntityProvider)?
    let clock: @Sendable () -> Date
    package let sessions: RCARSessions
    public let signer: AttestationTokenSigner
    let metrics: BrokerMetrics

    /// Creates a broker; `releasePolicy` returns the bundle in service for each decision (it may be swapped at any
    /// time), `entities` the entity snapshot role checks read.
    public init(
        configuration: BrokerConfiguration, store: Store, keys: KeySource, releasePolicy: @escaping @Sendable () -> PolicySet,
        tierRules: TierRules?, entities: @escaping @Sendable () -> (any EntityProvider)? = { nil },
        metrics: BrokerMetrics = BrokerMetrics(), clock: @escaping @Sendable () -> Date = { Date() }
    ) {
        self.configuration = configuration
        self.store = store
        self.releasePolicy = releasePolicy
        self.tierRules = tierRules
        self.entities = entities
        self.clock = clock
        self.metrics = metrics
        self.sessions = RCARSessions(capacity: configuration.maxSessions, lifetime: configuration.sessionLifetime)
        self.signer = AttestationTokenSigner(lifetime: configuration.tokenLifetime)
        self.vault = ResourceVault(store: store, keys: keys, clock: clock, onAuditFailure: { metrics.auditFailed() })
        self.capabilities = CapabilityAuthority(store: store, keys: keys, clock: clock, onAuditFailure: { metrics.auditFailed() })
    }

    // MARK: RCAR

    /// The challenge `POST /kbs/v0/auth` answers.
    public struct Challenge: Sendable {
        public var sessionID: String
        public var nonce: String
        public var expires: Date
    }

    /// `POST /kbs/v0/auth` `{"version": "0.4.0", "tee": KIND, "extra-params": …}`.
    public func auth(_ body: [UInt8]) throws(BrokerError) -> Challenge {
        let object = try Self.object(body)
        guard let version = object["version"] as? String else { throw .badRequest("invalid_request", "`version` must be a string") }
        guard version == "0.4.0" else {
            throw .badRequest("protocol_version", "this server speaks KBS protocol 0.4.0, not \(version)")
        }
        guard let tee = object["tee"] as? String else { throw .badRequest("invalid_request", "`tee` must be a string") }
        guard let kind = EvidenceKind(rawValue: tee), kind != .sim || configuration.teeMode == .simulator else {
            throw .badRequest("unsupported_tee", "no verifier for TEE `\(tee)`; this server verifies "
                + EvidenceKind.allCases.filter { $0 != .sim }.map(\.rawValue).joined(separator: ", "))
        }
        let session = sessions.open(tee: kind.rawValue, now: clock())
        return Challenge(sessionID: session.id, nonce: session.nonce, expires: session.expires)
    }

    /// `POST /kbs/v0/attest`: verifies the evidence bound to the session's nonce and the TEE key; returns the token.
    ///
    /// `authorization` is the request's `Authorization` header: `Bearer kbsc1.…` (a capability token) names the
    /// workload, whose roles the release policy may then ask for; no header attests the hardware alone.
    public func attest(sessionID: String?, body: [UInt8], authorization: String? = nil) async throws(BrokerError) -> String {
        let now = clock()
        guard let sessionID, let session = sessions.session(sessionID, now: now) else {
            throw .unauthorized("no_session", "no live session: POST /kbs/v0/auth first and send its kbs-session-id cookie")
        }
        let started = DispatchTime.now().uptimeNanoseconds
        do {
            let identity = try await identify(authorization)
            var appraisal = try await appraise(session: session, body: body, now: now)
            appraisal.identity = identity
            var details: [String: AuditValue] = [
                "tier": .integer(Int64(appraisal.tier)), "measurement": .string(appraisal.claimsObject["measurement"] as? String ?? ""),
            ]
            if let identity { details["subject"] = .string(identity.subject); details["capability_id"] = .string(identity.tokenID) }
            try audit(AuditEntry(kind: .attestation, actor: "tee:\(session.tee)", action: "attest", resource: appraisal.id, outcome: .success,
                details: details))
            let token = try signer.sign(appraisal)
            sessions.attach(appraisal, to: session.id)
            metrics.attested(kind: session.tee, success: true, nanoseconds: DispatchTime.now().uptimeNanoseconds - started)
            return token
        } catch {
            metrics.attested(kind: session.tee, success: false, nanoseconds: DispatchTime.now().uptimeNanoseconds - started)
            if error.code != "audit_unavailable" {
                try? audit(AuditEntry(kind: .attestation, actor: "tee:\(session.tee)", action: "attest", resource: "session",
                    outcome: .failure, details: ["reason": .string(error.code)]))
            }
            throw error
        }
    }

    /// The workload named by a capability token in `Authorization`, verified (signature chain, revocation, expiry).
    private func identify(_ authorization: String?) async throws(BrokerError) -> Appraisal.Identity? {
        guard let authorization else { return nil }
        guard authorization.count > 7, authorization.prefix(7).lowercased() == "bearer " else {
            throw .unauthorized("invalid_credential", "`Authorization` on attest must be `Bearer <capability token>`")
        }
        let token = String(authorization.dropFirst(7))
        guard token.hasPrefix("kbsc1.") else {
            throw .unauthorized("unsupported_credential", "attest accepts capability tokens (kbsc1.…) as the workload's identity")
        }
        let verified = try await capabilities.verify(token)
        return Appraisal.Identity(subject: verified.subject, issuer: "kbs-capability", tokenID: verified.id, token: token,
            capabilities: verified.capabilities.map(\.description))
    }

    /// Re-checks the identity at release: the token must still verify (not revoked, not expired) and grant
    /// `release:<path>`; from an attestation token, the id must not be revoked and the granted list must cover the path.
    private func checkIdentity(_ identity: Appraisal.Identity, path: String, now: Date) async throws(BrokerError) {
        if let token = identity.token {
            _ = try await capabilities.verify(token, capability: "release:" + path)
            return
        }
        let stored: StoredCapabilityToken?
        do { stored = try store.capabilityToken(identity.tokenID) } catch {
            throw BrokerError(.unavailable, "store_unavailable", "the token store cannot be read")
        }
        guard let stored else { throw .unauthorized("invalid_token", "the capability token behind this attestation is unknown") }
        if stored.revokedAt != nil { throw .unauthorized("token_revoked", "capability token \(identity.tokenID) was revoked") }
        guard let wanted = Capability("release:" + path),
            identity.capabilities.compactMap(Capability.init).contains(where: { $0.covers(wanted) })
        else { throw BrokerError(.forbidden, "capability_denied", "capability token \(identity.tokenID) does not grant release:\(path)") }
    }

    private func appraise(session: RCARSessions.Session, body: [UInt8], now: Date) async throws(BrokerError) -> Appraisal {
        let object = try Self.object(body)
        if object["tee-pubkey"] != nil && object["runtime-data"] == nil {
            throw .badRequest("protocol_version", "this is the pre-0.4 attestation shape; send `runtime-data` and `tee-evidence` (KBS protocol 0.4.0)")
        }
        guard object["init-data"] == nil || object["init-data"] is NSNull else {
            throw .badRequest("unsupported_init_data", "init-data binding is not supported by this server yet")
        }
        guard let runtime = object["runtime-data"] as? [String: Any], let nonce = runtime["nonce"] as? String,
            let jwk = runtime["tee-pubkey"] as? [String: Any]
        else { throw .badRequest("invalid_request", "`runtime-data` needs `nonce` (string) and `tee-pubkey` (a JWK object)") }
        guard let evidence = object["tee-evidence"] as? [String: Any], let primary = evidence["primary_evidence"] else {
            throw .badRequest("invalid_request", "`tee-evidence` needs `primary_evidence`")
        }
        let additional: String
        switch evidence["additional_evidence"] {
        case nil, is NSNull: additional = ""
        case let text as String: additional = text
        default: throw .badRequest("invalid_request", "`additional_evidence` must be a JSON string (a map of TEE to evidence, serialised)")
        }
        guard constantTimeEqual(Array(nonce.utf8), Array(session.nonce.utf8)) else {
            throw .unauthorized("nonce_mismatch", "`runtime-data.nonce` is not this session's nonce")
        }
        // One attempt per nonce, in this process and (through the store) in any process sharing the database.
        guard sessions.beginAttempt(session.id) else { throw .unauthorized("nonce_used", "this session's nonce was already used; POST /kbs/v0/auth again") }
        do {
            guard try store.useOnce(nonce, namespace: "rcar-nonce", expiry: Int64(session.expires.timeIntervalSince1970 * 1000),
                now: Int64(now.timeIntervalSince1970 * 1000))
            else { throw BrokerError.unauthorized("nonce_used", "this nonce was already used; POST /kbs/v0/auth again") }
        } catch let error as BrokerError {
            throw error
        } catch {
            throw BrokerError(.unavailable, "store_unavailable", "the nonce cannot be recorded, so it cannot be accepted")
        }
        _ = try TEEPublicKey(jwk: jwk)  // refuse a bad key before the costly verification
        guard let kind = EvidenceKind(rawValue: session.tee) else { throw .badRequest("unsupported_tee", "no verifier for TEE `\(session.tee)`") }
        // The evidence's bytes as sent, cut from the body (re-serialising a parsed SNP report's byte arrays through
        // Foundation was most of an attestation's CPU); a string is its text (a base64 quote, say).
        let primaryBytes: [UInt8]
        if let node = (try? JSONNode.parse(body))?["tee-evidence"]?["primary_evidence"], node.stringValue == nil {
            primaryBytes = Array(body[node.range])
        } else {
            primaryBytes = try Self.evidenceBytes(primary)
        }
        let primaryData = try Self.runtimeDigest(["tee-pubkey": jwk, "nonce": nonce, "additional-evidence": additional])
        let verified = try await verify(primaryBytes, kind: kind, reportData: primaryData, now: now)
        var devices: [VerifiedEvidence] = []
        if !additional.isEmpty {
            guard let map = try? JSONSerialization.jsonObject(with: Data(additional.utf8)) as? [String: Any] else {
                throw .badRequest("invalid_request", "`additional_evidence` must hold a JSON object of TEE kind to evidence")
            }
            let deviceData = try Self.runtimeDigest(["tee-pubkey": jwk, "nonce": nonce])
            for (name, value) in map.sorted(by: { $0.key < $1.key }) {
                guard let deviceKind = EvidenceKind(rawValue: name), deviceKind != .sim || configuration.teeMode == .simulator else {
                    throw .badRequest("unsupported_tee", "no verifier for additional evidence `\(name)`")
                }
                devices.append(try await verify(try Self.evidenceBytes(value), kind: deviceKind, reportData: deviceData, now: now))
            }
        }
        let devicesJSON = devices.map(\.json)
        let tier = tierRules?.tier(evidenceJSON: verified.json, devicesJSON: devicesJSON, now: now) ?? 0
        let claims = (try? JSONSerialization.jsonObject(with: Data(verified.json.utf8)) as? [String: Any]) ?? [:]
        let deviceClaims = devicesJSON.compactMap { (try? JSONSerialization.jsonObject(with: Data($0.utf8))) as? [String: Any] }
            .map(Appraisal.DeviceClaims.init(object:))
        return try Appraisal(id: UUID().uuidString.lowercased(), kind: kind.rawValue, claimsObject: claims, claimsJSON: verified.json,
            deviceClaims: deviceClaims,
            tier: tier, teePublicKeyJWK: jwk, attestedAt: now)
    }

    private func verify(_ evidence: [UInt8], kind: EvidenceKind, reportData: [UInt8], now: Date) async throws(BrokerError) -> VerifiedEvidence {
        var context = VerificationContext(time: now, endorsements: configuration.endorsements, trustAnchors: configuration.anchors(for: kind),
            expectedReportData: reportData, collateral: configuration.collateral, allowSimulator: configuration.teeMode == .simulator)
        context.ignoresCollateralSignerExpiry = false
        do {
            return try await EvidenceVerifiers.verify(evidence, kind: kind, context: context)
        } catch {
            throw BrokerError(.unauthorized, "evidence_\(error.reason.rawValue)", "\(kind.rawValue) evidence refused: \(error.message)")
        }
    }

    // MARK: Release

    /// `GET /kbs/v0/resource/{repo}/{type}/{tag}`: decides, then returns the value as a JWE to the attested TEE key.
    public func release(path: String, sessionID: String?, bearer: String?) async throws(BrokerError) -> String {
        let started = DispatchTime.now().uptimeNanoseconds
        defer { metrics.released(nanoseconds: DispatchTime.now().uptimeNanoseconds - started) }
        try Self.validatePath(path)
        let now = clock()
        let appraisal = try appraisal(sessionID: sessionID, bearer: bearer, now: now)
        let stored: StoredResource?
        do { stored = try store.resource(path) } catch { throw BrokerError(.unavailable, "store_unavailable", "the resource store cannot be read") }
        guard let stored else {
            try audit(AuditEntry(kind: .decision, actor: "tee:\(appraisal.kind)", action: "release", resource: path, outcome: .deny,
                details: ["reason": "not_found", "appraisal": .string(appraisal.id)]))
            throw BrokerError(.notFound, "not_found", "no resource at \(path)")
        }
        if let identity = appraisal.identity {
            do { try await checkIdentity(identity, path: path, now: now) } catch {
                try audit(AuditEntry(kind: .decision, actor: "tee:\(appraisal.kind)", action: "release", resource: path, outcome: .deny,
                    details: ["reason": .string(error.code), "appraisal": .string(appraisal.id)]))
                throw error
            }
        }
        let decision = try decide(path: path, stored: stored, appraisal: appraisal, now: now)
        var details: [String: AuditValue] = [
            "rules": .list(decision.deciding.map { .string($0.name) }), "tier": .integer(Int64(appraisal.tier)),
            "required_tier": .integer(Int64(stored.requiredTier)), "appraisal": .string(appraisal.id), "policy": .string(decision.policyHash),
        ]
        if !decision.errors.isEmpty { details["errors"] = .integer(Int64(decision.errors.count)) }
        guard decision.isPermitted else {
            metrics.denied()
            try audit(AuditEntry(kind: .decision, actor: "tee:\(appraisal.kind)", action: "release", resource: path, outcome: .deny, details: details))
            throw BrokerError(.forbidden, "policy_deny", "the release policy denies \(path) to this attestation")
        }
        let keys = try await vault.keys()
        var plaintext: [UInt8]
        do { plaintext = try await keys.decrypt(stored.sealed, aad: Array(path.utf8)) } catch {
            details["reason"] = .string(error.reason.rawValue)
            try? audit(AuditEntry(kind: .decision, actor: "tee:\(appraisal.kind)", action: "release", resource: path, outcome: .error, details: details))
            throw BrokerError(.forbidden, "key_\(error.reason.rawValue)", "the resource's key refuses use: \(error.message)")
        }
        metrics.keyOperated("unseal")
        let secret = SecretBytes(copying: plaintext)
        SecretBytes.wipe(&plaintext)
        let jwe = try JWE.encrypt(secret, to: appraisal.teePublicKey)
        // One record for the decision and the release, durable before the secret leaves; if it fails, nothing leaves.
        details["alg"] = .string(appraisal.teePublicKey.algorithm)
        try audit(AuditEntry(kind: .decision, actor: "tee:\(appraisal.kind)", action: "release", resource: path, outcome: .permit, details: details))
        return jwe
    }

    private func appraisal(sessionID: String?, bearer: String?, now: Date) throws(BrokerError) -> Appraisal {
        if let bearer { return try signer.verify(bearer, now: now) }
        guard let sessionID, let session = sessions.session(sessionID, now: now) else {
            throw .unauthorized("no_session", "send the kbs-session-id cookie of an attested session, or `Authorization: Bearer <attestation token>`")
        }
        guard let appraisal = session.appraisal else { throw .unauthorized("not_attested", "this session has not attested; POST /kbs/v0/attest first") }
        guard now.timeIntervalSince(appraisal.attestedAt) <= configuration.appraisalLifetime else {
            throw .unauthorized("attestation_expired", "this session's attestation is over \(Int(configuration.appraisalLifetime)) s old; authenticate and attest again")
        }
        return appraisal
    }

    private func decide(path: String, stored: StoredResource, appraisal: Appraisal, now: Date) throws(BrokerError) -> Decision {
        let references: [String: [String: [String]]]
        do { references = try store.referenceValues() } catch { throw BrokerError(.unavailable, "store_unavailable", "reference values cannot be read") }
        let referencesJSON = (try? JSONSerialization.data(withJSONObject: references)).map { String(decoding: $0, as: UTF8.self) } ?? "{}"
        var input = "{\"action\":\"release\",\"evidence\":\(appraisal.claimsJSON),\"resource\":{\"path\":"
        input += JSONString.quote(path) + ",\"required_tier\":\(stored.requiredTier),\"labels\":\(stored.labelsJSON)},"
        input += "\"tier\":\(appraisal.tier),\"reference_values\":\(referencesJSON)"
        if let identity = appraisal.identity {
            input += ",\"subject\":{\"id\":" + JSONString.quote(identity.subject) + ",\"issuer\":" + JSONString.quote(identity.issuer) + "}"
        }
        input += "}"
        return releasePolicy().decide(json: Array(input.utf8),
            options: .init(now: Int64(now.timeIntervalSince1970 * 1e9), entities: entities(), explain: false))
    }

    // MARK: Helpers

    /// Appends to the audit log, or refuses the step with 503.
    func audit(_ entry: AuditEntry) throws(BrokerError) {
        try vault.audit(entry)
    }

    static func object(_ body: [UInt8]) throws(BrokerError) -> [String: Any] {
        guard let value = try? JSONSerialization.jsonObject(with: Data(body)) else {
            throw .badRequest("invalid_json", "the request body is not valid JSON")
        }
        guard let object = value as? [String: Any] else { throw .badRequest("invalid_request", "the request body must be a JSON object") }
        return object
    }

    /// The evidence's bytes for its verifier: a string as its UTF-8 (a base64 quote, say), anything else as JSON.
    static func evidenceBytes(_ value: Any) throws(BrokerError) -> [UInt8] {
        if let text = value as? String { return Array(text.utf8) }
        guard JSONSerialization.isValidJSONObject(value), let data = try? JSONSerialization.data(withJSONObject: value) else {
            throw .badRequest("invalid_request", "the evidence must be a JSON object, array or string")
        }
        return Array(data)
    }

    /// SHA-384 of the JCS form of a runtime-data object (Trustee's built-in verifier hash).
    package static func runtimeDigest(_ object: [String: Any]) throws(BrokerError) -> [UInt8] {
        guard let data = try? JSONSerialization.data(withJSONObject: object), let canonical = try? JCS.canonicalize(Array(data)) else {
            throw .badRequest("invalid_request", "`runtime-data` cannot be canonicalised")
        }
        return Array(SHA384.hash(data: canonical))
    }

    /// `repo/type/tag`, each part letters, digits, `.`, `_`, `-`, and none of them `.` or `..`.
    public static func validatePath(_ path: String) throws(BrokerError) {
        let parts = path.split(separator: "/", omittingEmptySubsequences: false)
        guard parts.count == 3, parts.allSatisfy({ part in
            !part.isEmpty && part.utf8.count <= 128 && part != "." && part != ".."
                && part.utf8.allSatisfy { ($0 >= 0x30 && $0 <= 0x39) || ($0 >= 0x41 && $0 <= 0x5A) || ($0 >= 0x61 && $0 <= 0x7A) || $0 == 0x2E || $0 == 0x5F || $0 == 0x2D }
        }) else {
            throw .badRequest("invalid_path", "a resource path is repo/type/tag, each of letters, digits, `.`, `_`, `-` (at most 128)")
        }
    }

}
