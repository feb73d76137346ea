import KBSClaims

/// The outcome of evaluating a request: permit or deny, and why.
public struct Decision: Sendable {
    /// Permit or deny.
    public enum Effect: String, Sendable { case permit, deny }

    /// A rule that decided, with where it is written.
    public struct RuleReference: Sendable, Hashable {
        /// The rule's name.
        public var name: String
        /// `permit` or `forbid`.
        public var effect: String
        /// `file:line:col` of the rule.
        public var position: String
    }

    /// The first condition that failed in a permit rule that did not match.
    public struct Failure: Sendable, Hashable {
        /// The name of the permit rule.
        public var rule: String
        /// The failing condition as written in the policy.
        public var condition: String
        /// `file:line:col` of the condition.
        public var position: String
        /// What the condition wanted, e.g. `== false` or `in data.measurements`.
        public var expected: String?
        /// What the left-hand side actually was, as JSON.
        public var actual: String?
    }

    /// A runtime error inside a rule. Any error makes the decision deny.
    public struct EvaluationError: Sendable, Hashable {
        /// The rule that erred; nil when the input itself was rejected before any rule ran.
        public var rule: String?
        /// What went wrong.
        public var message: String
        /// `file:line:col` of the rule; nil when no rule was running.
        public var position: String?
    }

    /// Permit or deny.
    public var effect: Effect
    /// The permit rules that matched (on permit) or the forbid rules that matched (on a forbid).
    public var deciding: [RuleReference]
    /// For a deny with no forbid, the first failing condition of each permit rule; empty unless explaining.
    public var failures: [Failure]
    /// Runtime errors in rules or in the input; any one makes the decision deny.
    public var errors: [EvaluationError]
    /// Obligations of the matching permit rules, as JSON values by name; `ttl` is the smallest given.
    public var obligations: [(name: String, json: String)]
    /// The bundle's content hash.
    public var policyHash: String

    /// Whether the request is permitted.
    public var isPermitted: Bool { effect == .permit }

    /// The decision as one JSON object (keys in a stable order).
    public func json(explain: Bool) -> String {
        var fields = ["\"decision\":\(JSONText.quote(effect.rawValue))"]
        fields.append("\"rules\":[" + deciding.map { JSONText.quote($0.name) }.joined(separator: ",") + "]")
        if !obligations.isEmpty {
            fields.append("\"obligations\":{" + obligations.map { "\(JSONText.quote($0.name)):\($0.json)" }.joined(separator: ",") + "}")
        }
        if !errors.isEmpty {
            fields.append(
                "\"errors\":["
                    + errors.map { error in
                        var parts = ["\"message\":\(JSONText.quote(error.message))"]
                        if let rule = error.rule { parts.insert("\"rule\":\(JSONText.quote(rule))", at: 0) }
                        if let position = error.position { parts.append("\"at\":\(JSONText.quote(position))") }
                        return "{" + parts.joined(separator: ",") + "}"
                    }.joined(separator: ",") + "]")
        }
        if explain {
            fields.append(
                "\"deciding\":["
                    + deciding.map {
                        "{\"rule\":\(JSONText.quote($0.name)),\"effect\":\(JSONText.quote($0.effect)),\"at\":\(JSONText.quote($0.position))}"
                    }.joined(separator: ",") + "]")
            fields.append(
                "\"failures\":["
                    + failures.map { failure in
                        var parts = [
                            "\"rule\":\(JSONText.quote(failure.rule))", "\"condition\":\(JSONText.quote(failure.condition))",
                            "\"at\":\(JSONText.quote(failure.position))",
                        ]
                        if let expected = failure.expected { parts.append("\"expected\":\(JSONText.quote(expected))") }
                        if let actual = failure.actual { parts.append("\"actual\":\(actual)") }
                        return "{" + parts.joined(separator: ",") + "}"
                    }.joined(separator: ",") + "]")
        }
        fields.append("\"policy\":\(JSONText.quote(policyHash))")
        return "{" + fields.joined(separator: ",") + "}"
    }
}

extension Decision {
    /// A deny that no policy made, for a request with no bundle to decide it: `message` is its one error.
    public init(denyingWithoutPolicy message: String) {
        self.init(
            effect: .deny, deciding: [], failures: [], errors: [EvaluationError(rule: nil, message: message, position: nil)], obligations: [],
            policyHash: "none")
    }
}

/// JSON text output without Foundation.
package enum JSONText {
    package static func quote(_ text: String) -> String { JSONString.quote(text) }

    /// A value as JSON in the same notation inputs use (hex strings, RFC 3339 times, `"90s"` durations).
    static func render(_ value: Value) -> String {
        switch value {
        case .absent: return "null"
        case .bool(let b): return b ? "true" : "false"
        case .int(let i): return String(i)
        case .string(let s): return quote(s)
        case .bytes(let b): return quote(Hex.encode(b))
        case .time(let t): return quote(Timestamp.format(t))
        case .duration(let d): return quote(DurationText.format(d))
        case .version(let v): return quote(v.description)
        case .tier(let t): return String(t)
        case .list(let l): return "[" + l.map(render).joined(separator: ",") + "]"
        case .set(let s): return "[" + s.map(render).sorted().joined(separator: ",") + "]"
        case .map(let m): return "{" + m.sorted { $0.key < $1.key }.map { "\(quote($0.key)):\(render($0.value))" }.joined(separator: ",") + "}"
        case .record(let r): return "[" + r.slots.map(render).joined(separator: ",") + "]"
        case .entity(let e): return quote("\(e.type)::\(e.id)")
        }
    }
}
