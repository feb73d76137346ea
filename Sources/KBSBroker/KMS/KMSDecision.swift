import Foundation
import KBSClaims
import KBSPolicy

/// One decision of the `kms` bundle, for the AWS KMS and the Vault APIs alike: evaluated with its explanation,
/// recorded in the decision log before it is given, and a denial audited with the reason an operator reads.
struct KMSDecision {
    let broker: Broker
    /// The `kms` bundle in service; nil denies everything.
    let policy: PolicySet?
    let recorder: any DecisionRecorder

    /// The roles bound to `subject` (under any entity type) whose scope covers `resourceID`, sorted: the policy's
    /// `roles`.
    static func roles(_ broker: Broker, of subject: String, covering resourceID: String) -> [String] {
        guard let snapshot = broker.entities() else { return [] }
        return Array(Set(snapshot.roles(ofAnyTypeWithID: subject).filter { $0.covers(resourceID) }.map(\.role))).sorted()
    }

    /// Whether `identity` may do `action` on `resourceID`, the bundle reading `input`. Throws only when the decision
    /// cannot be recorded or a denial cannot be audited (then nothing is given either way).
    func decide(
        identity: CallerIdentity, details: [String: AuditValue], action: String, resourceType: String, resourceID: String, input: ClaimRecord
    ) async throws(BrokerError) -> Bool {
        let now = broker.clock()
        let started = DispatchTime.now().uptimeNanoseconds
        var decision: Decision
        if let policy {
            decision = policy.decide(
                input: input, options: .init(now: Int64(now.timeIntervalSince1970 * 1e9), entities: broker.entities(), explain: true))
            // Rules open with the actions they are about, so the failure worth reading first is of a rule that got past
            // its action: the one that was about this request.
            let (past, atAction) = decision.failures.reduce(into: ([Decision.Failure](), [Decision.Failure]())) { sorted, failure in
                if failure.condition.hasPrefix("action ") || failure.condition.hasPrefix("vault_action") || failure.condition.hasSuffix("_action") {
                    sorted.1.append(failure)
                } else {
                    sorted.0.append(failure)
                }
            }
            decision.failures = past + atAction
        } else {
            decision = Decision(denyingWithoutPolicy: "no `kms` policy bundle is served (--policies Policies/kms)")
        }
        let record = AccessDecision(
            time: Int64(now.timeIntervalSince1970 * 1e9), endpoint: "kms", requestID: nil, index: nil, subjectType: identity.method,
            subjectID: identity.subject, action: action, resourceType: resourceType, resourceID: resourceID, decision: decision,
            elapsed: DispatchTime.now().uptimeNanoseconds - started)
        guard recorder.record(record) else {
            throw BrokerError(.unavailable, "decision_log_unavailable", "the decision log cannot be written, so the decision is not given")
        }
        guard !decision.isPermitted else { return true }
        broker.metrics.denied()
        var audited = details
        audited["rules"] = .list(decision.deciding.map { .string($0.name) })
        audited["policy"] = .string(decision.policyHash)
        if let failure = decision.failures.first { audited["reason"] = .string("\(failure.rule): \(failure.condition)") }
        try await broker.audit(
            AuditEntry(
                kind: .decision, actor: "subject:\(identity.subject)", action: action, resource: resourceID, outcome: .deny, details: audited))
        return false
    }
}
