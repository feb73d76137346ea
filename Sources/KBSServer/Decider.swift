import CoreMetrics
import Foundation
import HTTPTypes
import KBSBroker
import KBSClaims
import KBSPolicy
import Synchronization

/// AuthZEN at the server: turns the request's tokens into the broker's ``AccessDecisions`` use case, which decides
/// and records; counts decisions and refusals in the metrics and maps a refusal to 503.
struct Decider: Sendable {
    let policies: PolicyHolder
    let entities: EntityView
    let decisions: AccessDecisions
    let metrics: ServerMetrics

    init(policies: PolicyHolder, entities: EntityView, log: DecisionLog, metrics: ServerMetrics) {
        self.policies = policies
        self.entities = entities
        self.decisions = AccessDecisions(recorder: log)
        self.metrics = metrics
    }

    /// One decision's outcome, for the response.
    struct Outcome {
        var permitted: Bool
        var obligations: [(name: String, json: String)]
    }

    /// Decides one request (`source` holds the bytes its tokens point into); throws 503 when the decision cannot be
    /// logged (it is then not returned either).
    func decide(
        _ tokens: RequestTokens, input: [UInt8], source: [UInt8], requestID: String?, endpoint: String, index: Int?,
        policy: PolicySet, snapshot: InMemoryEntityProvider
    ) throws(ServerError) -> Outcome {
        let request = AccessDecisions.Request(
            subjectType: Self.string(tokens.subjectType, in: source), subjectID: Self.string(tokens.subjectID, in: source),
            action: Self.string(tokens.actionName, in: source), resourceType: Self.string(tokens.resourceType, in: source),
            resourceID: Self.string(tokens.resourceID, in: source))
        let decision: Decision
        do {
            decision = try decisions.decide(
                input, about: request, policy: policy, entities: snapshot, endpoint: endpoint, requestID: requestID,
                index: index)
        } catch {
            metrics.decisionLogRefused.increment()
            throw BrokerErrorStatus.serverError(error)
        }
        metrics.recordDecision(permitted: decision.isPermitted, hadErrors: !decision.errors.isEmpty)
        return Outcome(permitted: decision.isPermitted, obligations: decision.obligations)
    }

    /// The JSON string token at `range` of `source`, decoded (the request was validated, so it is one).
    static func string(_ range: Range<Int>, in source: [UInt8]) -> String {
        // Every decision does this five times: a token without escapes (the usual one) is its bytes between the quotes.
        let inner = source[(range.lowerBound + 1)..<max(range.lowerBound + 1, range.upperBound - 1)]
        if range.count >= 2, !inner.contains(UInt8(ascii: "\\")) { return String(decoding: inner, as: UTF8.self) }
        return (try? JSONNode.parse(Array(source[range])))?.stringValue ?? ""
    }

    /// `{"decision": …}` with the permit's obligations, if any, under `context`.
    static func responseJSON(_ outcome: Outcome, reason: String? = nil) -> String {
        var text = "{\"decision\":\(outcome.permitted)"
        if !outcome.obligations.isEmpty {
            text +=
                ",\"context\":{\"obligations\":{"
                + outcome.obligations.map { "\(JSONText.quote($0.name)):\($0.json)" }.joined(separator: ",") + "}}"
        } else if let reason {
            text += ",\"context\":{\"reason\":\(JSONText.quote(reason))}"
        }
        return text + "}"
    }

    static func wallClockNanoseconds() -> Int64 { AccessDecisions.wallClock() }

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
