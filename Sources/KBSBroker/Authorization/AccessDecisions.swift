import Dispatch
import Foundation
package import KBSPolicy

/// AuthZEN's use case: decide an access request with the policy in service and the entity snapshot, and record the
/// decision before it is given — a decision that cannot be recorded is not given.
package struct AccessDecisions: Sendable {
    let recorder: any DecisionRecorder
    /// The time decisions are made at, in nanoseconds since 1970.
    let clock: @Sendable () -> Int64

    /// Decides with `recorder` keeping every decision.
    package init(recorder: any DecisionRecorder, clock: @escaping @Sendable () -> Int64 = AccessDecisions.wallClock) {
        self.recorder = recorder
        self.clock = clock
    }

    /// What an access request is about, for the record.
    package struct Request: Sendable {
        package var subjectType: String
        package var subjectID: String
        package var action: String
        package var resourceType: String
        package var resourceID: String

        /// Creates a request description.
        package init(subjectType: String, subjectID: String, action: String, resourceType: String, resourceID: String) {
            self.subjectType = subjectType
            self.subjectID = subjectID
            self.action = action
            self.resourceType = resourceType
            self.resourceID = resourceID
        }
    }

    /// Decides `input` (the policy's input as JSON: AuthZEN's request is that input) and records the decision;
    /// refuses with `decision_log_unavailable` when it cannot be recorded.
    package func decide(
        _ input: [UInt8], about request: Request, policy: PolicySet, entities: any EntityProvider, endpoint: String, requestID: String?,
        index: Int?
    ) throws(BrokerError) -> Decision {
        let started = DispatchTime.now().uptimeNanoseconds
        let now = clock()
        let decision = policy.decide(json: input, options: .init(now: now, entities: entities, explain: false))
        let record = AccessDecision(
            time: now, endpoint: endpoint, requestID: requestID, index: index, subjectType: request.subjectType, subjectID: request.subjectID,
            action: request.action, resourceType: request.resourceType, resourceID: request.resourceID, decision: decision,
            elapsed: DispatchTime.now().uptimeNanoseconds - started)
        guard recorder.record(record) else {
            throw BrokerError(
                .unavailable, "decision_log_unavailable",
                "the decision log cannot keep up or cannot be written, so the decision is not given")
        }
        return decision
    }

    /// The system clock in nanoseconds, at microsecond precision (what the decision log prints).
    @Sendable package static func wallClock() -> Int64 {
        Int64((Date().timeIntervalSince1970 * 1_000_000).rounded()) * 1000
    }
}
