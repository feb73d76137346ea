import CoreMetrics
import Foundation
import HTTPTypes
import KBSPolicy

/// Decides AuthZEN requests with the policy in service and logs each decision.
struct Decider: Sendable {
    let policies: PolicyHolder
    let entities: EntityView
    let log: DecisionLog
    let metrics: ServerMetrics

    /// One decision's outcome, for the response.
    struct Outcome {
        var permitted: Bool
        var obligations: [(name: String, json: String)]
    }

    /// Decides one request; throws 503 when the decision cannot be logged (it is then not returned either).
    func decide(_ request: AccessRequest, input: [UInt8], requestID: String?, endpoint: String, index: Int?,
        policy: PolicySet, snapshot: InMemoryEntityProvider) throws(ServerError) -> Outcome
    {
        let started = DispatchTime.now().uptimeNanoseconds
        let now = Decider.wallClockNanoseconds()
        let decision = policy.decide(json: input, options: .init(now: now, entities: snapshot, explain: false))
        let elapsed = DispatchTime.now().uptimeNanoseconds - started
        metrics.recordDecision(permitted: decision.isPermitted, hadErrors: !decision.errors.isEmpty)
        var line = "{\"time\":\(JSONText.quote(Decider.rfc3339(now))),\"endpoint\":\"\(endpoint)\""
        if let requestID { line += ",\"request_id\":\(JSONText.quote(requestID))" }
        if let index { line += ",\"index\":\(index)" }
        line += ",\"decision\":\(decision.isPermitted)"
        line += ",\"rules\":[" + decision.deciding.map { JSONText.quote($0.name) }.joined(separator: ",") + "]"
        if !decision.errors.isEmpty {
            line += ",\"errors\":[" + decision.errors.map { JSONText.quote(($0.rule.map { "\($0): " } ?? "") + $0.message) }
                .joined(separator: ",") + "]"
        }
        line += ",\"subject\":{\"type\":\(JSONText.quote(request.subjectType)),\"id\":\(JSONText.quote(request.subjectID))}"
        line += ",\"action\":\(JSONText.quote(request.actionName))"
        line += ",\"resource\":{\"type\":\(JSONText.quote(request.resourceType)),\"id\":\(JSONText.quote(request.resourceID))}"
        line += ",\"policy\":\(JSONText.quote(decision.policyHash)),\"eval_ns\":\(elapsed)}"
        guard log.append(line) else {
            metrics.decisionLogFailures.increment()
            throw ServerError(.serviceUnavailable, "decision_log_unavailable",
                "the decision could not be written to the decision log, so it is not given")
        }
        return Outcome(permitted: decision.isPermitted, obligations: decision.obligations)
    }

    /// `{"decision": …}` with the permit's obligations, if any, under `context`.
    static func responseJSON(_ outcome: Outcome, reason: String? = nil) -> String {
        var text = "{\"decision\":\(outcome.permitted)"
        if !outcome.obligations.isEmpty {
            text += ",\"context\":{\"obligations\":{"
                + outcome.obligations.map { "\(JSONText.quote($0.name)):\($0.json)" }.joined(separator: ",") + "}}"
        } else if let reason {
            text += ",\"context\":{\"reason\":\(JSONText.quote(reason))}"
        }
        return text + "}"
    }

    static func wallClockNanoseconds() -> Int64 {
        Int64((Date().timeIntervalSince1970 * 1_000_000).rounded()) * 1000
    }

    static func rfc3339(_ nanoseconds: Int64) -> String {
        var seconds = time_t(nanoseconds / 1_000_000_000)
        var parts = tm()
        gmtime_r(&seconds, &parts)
        let micros = (nanoseconds % 1_000_000_000) / 1000
        func pad(_ value: Int32, _ width: Int) -> String {
            let text = String(value)
            return String(repeating: "0", count: max(0, width - text.count)) + text
        }
        let fraction = String(micros)
        return "\(pad(parts.tm_year + 1900, 4))-\(pad(parts.tm_mon + 1, 2))-\(pad(parts.tm_mday, 2))T"
            + "\(pad(parts.tm_hour, 2)):\(pad(parts.tm_min, 2)):\(pad(parts.tm_sec, 2))."
            + String(repeating: "0", count: 6 - fraction.count) + fraction + "Z"
    }
}
