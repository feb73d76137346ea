import CoreMetrics
import Foundation
import Synchronization
import HTTPTypes
import KBSClaims
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

    /// Decides one request (`source` holds the bytes its nodes point into); throws 503 when the decision cannot be logged (it is then not returned either).
    func decide(_ tokens: RequestTokens, input: [UInt8], source: [UInt8], requestID: String?, endpoint: String, index: Int?,
        policy: PolicySet, snapshot: InMemoryEntityProvider) throws(ServerError) -> Outcome
    {
        let started = DispatchTime.now().uptimeNanoseconds
        let now = Decider.wallClockNanoseconds()
        let decision = policy.decide(json: input, options: .init(now: now, entities: snapshot, explain: false))
        let elapsed = DispatchTime.now().uptimeNanoseconds - started
        metrics.recordDecision(permitted: decision.isPermitted, hadErrors: !decision.errors.isEmpty)
        var line = LogLine()
        line.raw("{\"time\":")
        line.quoted(Decider.logTime(now))
        line.raw(",\"endpoint\":")
        line.quoted(endpoint)
        if let requestID {
            line.raw(",\"request_id\":")
            line.quoted(requestID)
        }
        if let index {
            line.raw(",\"index\":")
            line.number(index)
        }
        line.raw(decision.isPermitted ? ",\"decision\":true,\"rules\":[" : ",\"decision\":false,\"rules\":[")
        for (position, rule) in decision.deciding.enumerated() {
            if position > 0 { line.raw(",") }
            line.quoted(rule.name)
        }
        line.raw("]")
        if !decision.errors.isEmpty {
            line.raw(",\"errors\":[")
            for (position, error) in decision.errors.enumerated() {
                if position > 0 { line.raw(",") }
                line.quoted((error.rule.map { "\($0): " } ?? "") + error.message)
            }
            line.raw("]")
        }
        // The request's own string tokens are valid JSON already: copy them rather than decode and re-quote.
        line.raw(",\"subject\":{\"type\":")
        line.token(tokens.subjectType, in: source)
        line.raw(",\"id\":")
        line.token(tokens.subjectID, in: source)
        line.raw("},\"action\":")
        line.token(tokens.actionName, in: source)
        line.raw(",\"resource\":{\"type\":")
        line.token(tokens.resourceType, in: source)
        line.raw(",\"id\":")
        line.token(tokens.resourceID, in: source)
        line.raw("},\"policy\":")
        line.quoted(decision.policyHash)
        line.raw(",\"eval_ns\":")
        line.number(elapsed)
        line.raw("}\n")
        guard log.append(line.bytes) else {
            metrics.decisionLogRefused.increment()
            throw ServerError(.serviceUnavailable, "decision_log_unavailable",
                "the decision log cannot keep up or cannot be written, so the decision is not given")
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

    /// The last second formatted, so that a busy server formats each second once.
    private static let secondCache = Mutex<(second: Int64, text: String)>((-1, ""))

    /// The decision log's time: RFC 3339 in UTC with exactly six fraction digits (microseconds).
    static func logTime(_ nanoseconds: Int64) -> String {
        let second = nanoseconds / 1_000_000_000
        let micros = String((nanoseconds % 1_000_000_000) / 1000)
        let fraction = "." + String(repeating: "0", count: 6 - micros.count) + micros + "Z"
        if let cached = secondCache.withLock({ $0.second == second ? $0.text : nil }) { return cached + fraction }
        let text = Timestamp.dateAndTime(seconds: second)
        secondCache.withLock { $0 = (second, text) }
        return text + fraction
    }
}
