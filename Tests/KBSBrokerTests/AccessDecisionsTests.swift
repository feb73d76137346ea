import Foundation
import KBSClaims
import KBSPolicy
import Synchronization
import Testing

@testable import KBSBroker

/// The AuthZEN use case without a server: decisions are recorded before they are given, and a decision that cannot
/// be recorded is refused.
@Suite struct AccessDecisionsTests {
    final class Recorder: DecisionRecorder {
        let records = Mutex<[AccessDecision]>([])
        let accepting: Bool
        init(accepting: Bool) { self.accepting = accepting }
        func record(_ decision: AccessDecision) -> Bool {
            guard accepting else { return false }
            records.withLock { $0.append(decision) }
            return true
        }
    }

    static let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent().path
    static let request = AccessDecisions.Request(
        subjectType: "user", subjectID: "CiRmZDE2MTRkMy1jMzlhLTQ3ODEtYjdiZC04Yjk2ZjVhNTEwMGQSBWxvY2Fs",
        action: "can_create_todo", resourceType: "todo", resourceID: "1")
    static let input = Array(
        (#"{"subject":{"type":"user","id":"CiRmZDE2MTRkMy1jMzlhLTQ3ODEtYjdiZC04Yjk2ZjVhNTEwMGQSBWxvY2Fs"},"#
            + #""action":{"name":"can_create_todo"},"resource":{"type":"todo","id":"1"}}"#).utf8)

    @Test func aDecisionIsRecordedWithWhatItWasAbout() throws {
        let policy = try PolicySet.load(directory: Self.root + "/Policies/authzen-todo").get()
        let recorder = Recorder(accepting: true)
        let decisions = AccessDecisions(recorder: recorder, clock: { 1_800_000_000_000_000_000 })
        let decision = try decisions.decide(
            Self.input, about: Self.request, policy: policy, entities: policy.bundleEntities, endpoint: "evaluation",
            requestID: "r-1", index: nil)
        #expect(decision.isPermitted)
        let record = try #require(recorder.records.withLock { $0.first })
        #expect(record.time == 1_800_000_000_000_000_000 && record.endpoint == "evaluation" && record.requestID == "r-1")
        #expect(record.action == "can_create_todo" && record.resourceID == "1" && record.decision.isPermitted)
    }

    @Test func aDecisionThatCannotBeRecordedIsNotGiven() throws {
        let policy = try PolicySet.load(directory: Self.root + "/Policies/authzen-todo").get()
        let decisions = AccessDecisions(recorder: Recorder(accepting: false))
        #expect(
            throws: BrokerError(
                .unavailable, "decision_log_unavailable",
                "the decision log cannot keep up or cannot be written, so the decision is not given")
        ) {
            try decisions.decide(
                Self.input, about: Self.request, policy: policy, entities: policy.bundleEntities, endpoint: "evaluation",
                requestID: nil, index: nil)
        }
    }
}
