import Dispatch
package import Foundation
import KBSClaims
import KBSEvidence

extension Broker {
    /// The RCAR challenge: a session and the nonce its evidence must bind.
    package struct Challenge: Sendable {
        package var sessionID: String
        package var nonce: String
        package var expires: Date
    }

    /// RCAR `auth`: opens a session with a fresh nonce for evidence of the requested TEE kind.
    package func auth(_ request: AuthRequest) async throws(BrokerError) -> Challenge {
        guard request.version == "0.4.0" else {
            throw .badRequest("protocol_version", "this server speaks KBS protocol 0.4.0, not \(request.version)")
        }
        guard let kind = EvidenceKind(rawValue: request.tee), kind != .sim || configuration.teeMode == .simulator else {
            throw .badRequest(
                "unsupported_tee",
                "no verifier for TEE `\(request.tee)`; this server verifies "
                    + EvidenceKind.allCases.filter { $0 != .sim }.map(\.rawValue).joined(separator: ", "))
        }
        let session = try await openSession(tee: kind.rawValue, client: request.client, now: clock())
        return Challenge(sessionID: session.id, nonce: session.nonce, expires: session.expires)
    }

    /// Opens a session with a fresh 128-bit id and 256-bit nonce, living ``BrokerConfiguration/sessionLifetime``.
    /// `fixedNonce` is for the fuzz harness, which needs inputs bound to a nonce it knows in advance.
    package func openSession(tee: String, client: String = "", now: Date, fixedNonce: String? = nil) async throws(BrokerError) -> RCARSession {
        var generator = SystemRandomNumberGenerator()
        let id = (0..<16).map { _ in UInt8.random(in: 0...255, using: &generator) }
        let nonce = (0..<32).map { _ in UInt8.random(in: 0...255, using: &generator) }
        let session = RCARSession(
            id: Hex.encode(id), nonce: fixedNonce ?? Data(nonce).base64EncodedString(), tee: tee, client: client,
            expires: now + configuration.sessionLifetime)
        do { try await ports.sessions.insert(session, now: now) } catch let error as BrokerError where error.code == BrokerError.sessionsFull.code {
            throw .sessionsFull
        } catch {
            throw BrokerError(.unavailable, "store_unavailable", "the session cannot be recorded")
        }
        return session
    }

    /// The live session with `id`, or nil; a store that cannot be read refuses the step.
    func liveSession(_ id: String?, now: Date) async throws(BrokerError) -> RCARSession? {
        guard let id else { return nil }
        do { return try await ports.sessions.session(id, now: now) } catch {
            throw BrokerError(.unavailable, "store_unavailable", "the session store cannot be read")
        }
    }

    /// RCAR `attest`: verifies the evidence bound to the session's nonce and the TEE key; returns the attestation token.
    ///
    /// `credential` is the bearer credential the request carried, a capability token (`kbsc1.…`) here; a server
    /// configured for more credentials resolves them with an ``Authenticator`` and calls
    /// ``attest(sessionID:request:identity:)``.
    package func attest(sessionID: String?, request: AttestRequest, credential: String?) async throws(BrokerError) -> String {
        let identity: CallerIdentity?
        if let credential { identity = try await Authenticator(broker: self).identify(.bearer(credential)) } else { identity = nil }
        return try await attest(sessionID: sessionID, request: request, identity: identity)
    }

    /// RCAR `attest` for a caller whose credential was already verified: `identity` (nil attests the hardware alone)
    /// is carried in the appraisal and the attestation token, and the release policy reads it.
    package func attest(sessionID: String?, request: AttestRequest, identity: CallerIdentity? = nil) async throws(BrokerError) -> String {
        let now = clock()
        guard let session = try await liveSession(sessionID, now: now) else {
            throw .unauthorized("no_session", "no live session: authenticate first and present the session it opens")
        }
        let started = DispatchTime.now().uptimeNanoseconds
        do throws(BrokerError) {
            var (appraisal, measurement) = try await appraise(session: session, request: request, now: now)
            appraisal.identity = identity
            var details: [String: AuditValue] = ["tier": .integer(Int64(appraisal.tier)), "measurement": .string(measurement)]
            if let identity {
                details["subject"] = .string(identity.subject)
                details["method"] = .string(identity.method)
                if let grant = identity.capability { details["capability_id"] = .string(grant.tokenID) }
            }
            // The nonce is spent with the success record, in one commit: the spend is the authority on replay (the
            // check in `appraise` only refuses early), and a token is issued only once both are durable.
            let spend = SingleUseSpend(request.nonce, namespace: Self.nonceNamespace, expires: session.expires, now: now)
            guard
                try await audit(
                    AuditEntry(
                        kind: .attestation, actor: "tee:\(session.tee)", action: "attest", resource: appraisal.id, outcome: .success,
                        details: details), spending: spend)
            else {
                // A concurrent attest with the same nonce won the race after both verified: the evidence was checked, so
                // unlike the early refusal this one is audited.
                try? await audit(
                    AuditEntry(
                        kind: .attestation, actor: "tee:\(session.tee)", action: "attest", resource: "session", outcome: .failure,
                        details: ["reason": "nonce_used"]))
                throw .unauthorized("nonce_used", "this nonce was already used; authenticate again")
            }
            let token = try await signer.sign(appraisal)
            do { try await ports.sessions.attach(appraisal, to: session.id) } catch {
                throw BrokerError(.unavailable, "store_unavailable", "the appraisal cannot be kept on the session")
            }
            metrics.attested(kind: session.tee, success: true, nanoseconds: DispatchTime.now().uptimeNanoseconds - started)
            return token
        } catch {
            metrics.attested(kind: session.tee, success: false, nanoseconds: DispatchTime.now().uptimeNanoseconds - started)
            // Refusals made before any signature was checked are counted (above), not audited one by one: they cost
            // the caller nothing, so auditing each would let one client write the durable log without limit.
            if error.code != "audit_unavailable" && !Self.uncheckedRefusals.contains(error.code) {
                try? await audit(
                    AuditEntry(
                        kind: .attestation, actor: "tee:\(session.tee)", action: "attest", resource: "session",
                        outcome: .failure, details: ["reason": .string(error.code)]))
            }
            throw error
        }
    }

    /// Where RCAR nonces are spent in the ``NonceLedger``.
    static let nonceNamespace = "rcar-nonce"

    /// Appends `entry` and spends `value` atomically (``AuditTrail/append(_:spending:)``): false when the value was
    /// already spent, and nothing written; a trail that cannot be written refuses the step as `audit_unavailable`.
    private func audit(_ entry: AuditEntry, spending value: SingleUseSpend) async throws(BrokerError) -> Bool {
        do { return try await ports.audit.append(entry, spending: value) } catch {
            metrics.auditFailed()
            throw BrokerError(.unavailable, "audit_unavailable", "the audit log cannot be written, so nothing is released")
        }
    }

    /// Attestation refusals made before any signature or evidence is checked.
    static let uncheckedRefusals: Set<String> = [
        "nonce_mismatch", "nonce_used", "invalid_tee_pubkey", "unsupported_alg", "unsupported_tee", "invalid_request",
    ]

    /// Verifies the request's evidence against the session and computes the tier; also the measurement, for the audit.
    private func appraise(session: RCARSession, request: AttestRequest, now: Date) async throws(BrokerError)
        -> (Appraisal, measurement: String)
    {
        // One attempt per session, right or wrong: a session is not a free supply of tries (or of audit records).
        let first: Bool
        do { first = try await ports.sessions.beginAttempt(session.id) } catch {
            throw BrokerError(.unavailable, "store_unavailable", "the session store cannot be written")
        }
        guard first else { throw .unauthorized("nonce_used", "this session's nonce was already used; authenticate again") }
        guard constantTimeEqual(Array(request.nonce.utf8), Array(session.nonce.utf8)) else {
            throw .unauthorized("nonce_mismatch", "`runtime-data.nonce` is not this session's nonce")
        }
        // And one attempt per nonce in any process sharing the store: a read here refuses a replay before the costly
        // verification; `attest` spends the nonce with its audit record, and that spend decides a race.
        let spent: Bool
        do { spent = try await ports.nonces.isSpent(request.nonce, namespace: Self.nonceNamespace, now: now) } catch {
            throw BrokerError(.unavailable, "store_unavailable", "the nonce ledger cannot be read, so the nonce cannot be accepted")
        }
        guard !spent else { throw .unauthorized("nonce_used", "this nonce was already used; authenticate again") }
        let teePublicKey = try TEEPublicKey(jwk: request.teePublicKey)  // refuse a bad key before the costly verification
        guard let kind = EvidenceKind(rawValue: session.tee) else { throw .badRequest("unsupported_tee", "no verifier for TEE `\(session.tee)`") }
        let primaryData = try Self.runtimeDigest(
            teePublicKey: request.teePublicKey, nonce: request.nonce,
            additionalEvidence: request.additionalEvidence)
        let verified = try await verify(request.primaryEvidence, kind: kind, reportData: primaryData, now: now)
        var devices: [VerifiedEvidence] = []
        if !request.devices.isEmpty {
            let deviceData = try Self.runtimeDigest(teePublicKey: request.teePublicKey, nonce: request.nonce, additionalEvidence: nil)
            for device in request.devices {
                guard let deviceKind = EvidenceKind(rawValue: device.kind), deviceKind != .sim || configuration.teeMode == .simulator else {
                    throw .badRequest("unsupported_tee", "no verifier for additional evidence `\(device.kind)`")
                }
                devices.append(try await verify(device.evidence, kind: deviceKind, reportData: deviceData, now: now))
            }
        }
        let deviceClaims = devices.map(\.claims)
        let tier = tierRules?.tier(evidence: verified.claims, devices: deviceClaims, now: now) ?? 0
        let canonicalKey: [UInt8]
        do { canonicalKey = try JCS.canonicalize(request.teePublicKey) } catch {
            throw .badRequest("invalid_tee_pubkey", "`tee-pubkey` cannot be canonicalised: \(error.message)")
        }
        let appraisal = Appraisal(
            id: UUID().uuidString.lowercased(), kind: kind.rawValue, claims: verified.claims, deviceClaims: deviceClaims,
            tier: tier, teePublicKeyJSON: canonicalKey, teePublicKey: teePublicKey, attestedAt: now)
        return (appraisal, Hex.encode(verified.measurement))
    }

    private func verify(_ evidence: [UInt8], kind: EvidenceKind, reportData: [UInt8], now: Date) async throws(BrokerError) -> VerifiedEvidence {
        var context = VerificationContext(
            time: now, endorsements: configuration.endorsements, trustAnchors: configuration.anchors(for: kind),
            expectedReportData: reportData, collateral: configuration.collateral, allowSimulator: configuration.teeMode == .simulator)
        context.ignoresCollateralSignerExpiry = false
        do {
            return try await EvidenceVerifiers.verify(evidence, kind: kind, context: context)
        } catch {
            throw BrokerError(.unauthenticated, "evidence_\(error.reason.rawValue)", "\(kind.rawValue) evidence refused: \(error.message)")
        }
    }
}
