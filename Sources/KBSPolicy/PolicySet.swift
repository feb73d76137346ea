import Foundation
public import KBSClaims

/// A compiled rule: its body as closures, its obligations, where it is written.
struct CompiledRule: @unchecked Sendable {
    let name: String
    let effect: Syntax.Rule.Effect
    let position: String
    let body: CompiledBlock
    let slotCount: Int
    let obligations: [(name: String, value: Eval)]
    let index: Int
    /// The input attribute and the strings it must equal for the rule to pass its first condition, when that condition
    /// is such a test (`action.name == "read"`, `evidence.type in {"snp", "tdx"}`): what ``RuleIndex`` files it under.
    let guardKey: RuleIndex.Guard?
}

/// A policy bundle compiled for evaluation: immutable and shared by every request.
///
/// Build one with ``PolicySet/load(directory:registry:)``; swap in a new one to reload.
public final class PolicySet: @unchecked Sendable {
    /// The bundle's folder.
    public let directory: String
    /// SHA-256 over the bundle's policy and data files, for decision logs.
    public let hash: String
    /// The entities in the bundle's `entities.json`, used when a request brings no provider of its own.
    public let bundleEntities: InMemoryEntityProvider
    /// Rule names in source order, for coverage.
    public let ruleNames: [String]
    /// Warnings from compiling (errors prevent a policy set from existing).
    public let warnings: [Diagnostic]

    let forbids: [CompiledRule]
    let permits: [CompiledRule]
    /// The forbids and permits that can apply, by the value of the attribute most of them test first.
    let forbidIndex: RuleIndex
    let permitIndex: RuleIndex
    /// One frame kept between decisions, so that serving a decision allocates no frame and decodes over the last input.
    let frames: FramePool
    let inputPlan: RecordPlan
    let maximumSlots: Int
    let entityTypes: [String: RecordType]
    /// Plans that decode every attribute of each entity type, to validate entities before they are stored.
    let entityPlans: [String: RecordPlan]

    init(
        directory: String, hash: String, rules: [CompiledRule], inputPlan: RecordPlan, entities: InMemoryEntityProvider,
        entityTypes: [String: RecordType], entityPlans: [String: RecordPlan], warnings: [Diagnostic]
    ) {
        self.directory = directory
        self.hash = hash
        self.forbids = rules.filter { $0.effect == .forbid }
        self.permits = rules.filter { $0.effect == .permit }
        self.forbidIndex = RuleIndex(forbids)
        self.permitIndex = RuleIndex(permits)
        self.ruleNames = rules.map(\.name)
        self.inputPlan = inputPlan
        self.maximumSlots = rules.map(\.slotCount).max() ?? 0
        self.frames = FramePool(inputFields: inputPlan.names.count, locals: maximumSlots)
        self.bundleEntities = entities
        self.entityTypes = entityTypes
        self.entityPlans = entityPlans
        self.warnings = warnings
    }

    /// The entity types the bundle declares, sorted.
    public var entityTypeNames: [String] { entityTypes.keys.sorted() }

    /// Checks an entity's attributes against its declared type; returns why they do not fit, or nil when they do.
    public func entityProblem(type: String, attributesJSON: [UInt8]) -> String? {
        guard let plan = entityPlans[type] else {
            let hint = Suggestion.closest(to: type, in: entityTypes.keys).map { "; did you mean `\($0)`?" } ?? ""
            return "unknown entity type `\(type)`\(hint)"
        }
        do {
            guard case .record = try TypedDecoder.decode(attributesJSON, as: .record(plan)) else { return "attributes must be an object" }
            return nil
        } catch {
            return "at `\(error.pathText)`: \(error.message)"
        }
    }

    /// Options for one evaluation.
    public struct Options: Sendable {
        /// The request's time in nanoseconds since the epoch: what `now()` returns.
        public var now: Int64
        /// Where entity lookups go; nil means the bundle's own `entities.json`.
        public var entities: (any EntityProvider)?
        /// Whether a deny reports each permit rule's first failing condition (costs time; off for serving).
        public var explain: Bool

        /// Creates options.
        public init(now: Int64 = 0, entities: (any EntityProvider)? = nil, explain: Bool = true) {
            self.now = now
            self.entities = entities
            self.explain = explain
        }
    }

    /// Decides on a JSON input, evaluating every rule so the decision can explain itself.
    public func decide(json: [UInt8], options: Options = Options(), coverage: CoverageRecorder? = nil) -> Decision {
        let frame = frames.take()
        defer { frames.giveBack(frame) }
        do {
            try json.withUnsafeBufferPointer { (buffer) throws(DecodeError) in
                try TypedDecoder.decode(buffer, record: inputPlan, into: &frame.input)
            }
        } catch {
            return invalidInput(error)
        }
        return decide(frame, options: options, coverage: coverage)
    }

    /// Decides on typed claims (what the verifiers yielded, with the request around them), checked against the input
    /// schema as JSON input is; evaluates every rule so the decision can explain itself.
    public func decide(input claims: ClaimRecord, options: Options = Options(), coverage: CoverageRecorder? = nil) -> Decision {
        let frame = frames.take()
        defer { frames.giveBack(frame) }
        do { frame.input = try TypedEncoder.encode(claims, as: inputPlan) } catch { return invalidInput(error) }
        return decide(frame, options: options, coverage: coverage)
    }

    /// The deny an input the schema refuses gets, naming where it went wrong.
    private func invalidInput(_ error: DecodeError) -> Decision {
        Decision(
            effect: .deny, deciding: [], failures: [],
            errors: [.init(rule: nil, message: "invalid input at `\(error.pathText)`: \(error.message)", position: nil)],
            obligations: [], policyHash: hash)
    }

    private func decide(_ frame: Frame, options: Options, coverage: CoverageRecorder?) -> Decision {
        frame.prepare(now: options.now, entities: options.entities ?? bundleEntities, explaining: options.explain)
        var errors: [Decision.EvaluationError] = []
        var matchedForbids: [Decision.RuleReference] = []
        var matchedPermits: [(rule: CompiledRule, reference: Decision.RuleReference, obligations: [(String, Value)])] = []
        var failures: [Decision.Failure] = []
        // Serving (no explanation, no coverage) runs each rule's compiled block straight through.
        let tracing = options.explain || coverage != nil
        // Without tracing, rules whose first condition cannot hold for this input are skipped: they would be false
        // there and say nothing. Tracing runs them all, to explain and count them.
        let forbidRules = tracing ? forbids : forbidIndex.candidates(frame.input)
        let permitRules = tracing ? permits : permitIndex.candidates(frame.input)
        for forbidding in [true, false] {
            for rule in forbidding ? forbidRules : permitRules {
                frame.failure = nil
                do {
                    let matched: Bool
                    if tracing {
                        let (holds, failedIndex) = try run(rule, frame, coverage: coverage)
                        matched = holds
                        coverage?.record(rule: rule.index, matched: holds)
                        if !holds, options.explain, rule.effect == .permit, let failure = frame.failure {
                            failures.append(describe(failure, failedIndex: failedIndex))
                        }
                    } else {
                        matched = try rule.body.run(frame)
                    }
                    guard matched else { continue }
                    // Obligations are part of a permit: one that cannot be computed is an error, not a default.
                    // They are computed now, while this rule's bindings are still in the frame.
                    var values: [(String, Value)] = []
                    for obligation in rule.obligations { values.append((obligation.name, try obligation.value(frame))) }
                    let reference = Decision.RuleReference(name: rule.name, effect: rule.effect.rawValue, position: rule.position)
                    if rule.effect == .forbid { matchedForbids.append(reference) } else { matchedPermits.append((rule, reference, values)) }
                } catch {
                    coverage?.record(rule: rule.index, matched: false)
                    errors.append(.init(rule: rule.name, message: error.message, position: rule.position))
                }
            }
        }
        if !errors.isEmpty || !matchedForbids.isEmpty || matchedPermits.isEmpty {
            return Decision(
                effect: .deny, deciding: matchedForbids, failures: matchedForbids.isEmpty ? failures : [],
                errors: errors, obligations: [], policyHash: hash)
        }
        return Decision(
            effect: .permit, deciding: matchedPermits.map(\.reference), failures: [], errors: [],
            obligations: merge(matchedPermits.map(\.obligations)), policyHash: hash)
    }

    /// Decides quickly: no explanation, stops at the first matching forbid or error (every permit still runs).
    /// Same answer as ``decide(json:options:coverage:)``.
    public func isPermitted(json: UnsafeBufferPointer<UInt8>, options: Options = Options()) -> Bool {
        let frame = frames.take()
        defer { frames.giveBack(frame) }
        do throws(DecodeError) { try TypedDecoder.decode(json, record: inputPlan, into: &frame.input) } catch { return false }
        frame.prepare(now: options.now, entities: options.entities ?? bundleEntities, explaining: false)
        do {
            for rule in forbidIndex.candidates(frame.input) where try rule.body.run(frame) { return false }
            // Every permit rule that can apply runs even after a match: a runtime error in any rule must deny.
            var permitted = false
            for rule in permitIndex.candidates(frame.input) where try rule.body.run(frame) {
                for obligation in rule.obligations { _ = try obligation.value(frame) }
                permitted = true
            }
            return permitted
        } catch {
            return false
        }
    }

    /// Only decodes a JSON input as ``isPermitted(json:options:)`` does, without evaluating: for `kbs policy bench`'s
    /// decode-only figure. True when the input fits the schema.
    package func decodesInput(json: UnsafeBufferPointer<UInt8>) -> Bool {
        let frame = frames.take()
        defer { frames.giveBack(frame) }
        do throws(DecodeError) { try TypedDecoder.decode(json, record: inputPlan, into: &frame.input) } catch { return false }
        return true
    }

    private func run(_ rule: CompiledRule, _ frame: Frame, coverage: CoverageRecorder?) throws(EvalError) -> (Bool, Int?) {
        for statement in rule.body.statements {
            switch statement.kind {
            case .bind(let slot, let eval):
                frame.locals[slot] = try eval(frame)
            case .test(let test):
                frame.failure = nil
                let holds: Bool
                do {
                    holds = try test(frame)
                } catch {
                    coverage?.record(rule: rule.index, statement: statement.index, outcome: nil)
                    throw error
                }
                coverage?.record(rule: rule.index, statement: statement.index, outcome: holds)
                if !holds {
                    if !frame.explaining {
                        return (false, statement.index)
                    } else if frame.failure == nil {
                        frame.failure = rule.body.explain(statement, frame)
                    } else {
                        // An inner definition failed; keep it but name the rule that used it.
                        frame.failure?.rule = rule.name
                    }
                    return (false, statement.index)
                }
            }
        }
        return (true, nil)
    }

    private func describe(_ failure: FailedCondition, failedIndex: Int?) -> Decision.Failure {
        let statement = failure.statement
        var expected: String?
        if let op = statement.op, let rightText = statement.rightText {
            if let value = failure.expected, op != "in", op != "matches" {
                expected = "\(op) \(JSONText.render(value))"
            } else {
                expected = "\(op) \(rightText)"
            }
        } else {
            expected = "true"
        }
        return Decision.Failure(
            rule: failure.rule, condition: statement.text, position: statement.span.position,
            expected: expected, actual: failure.actual.map(JSONText.render) ?? (statement.op == nil ? "false" : nil))
    }

    /// Merges the obligations of matching permits: the strictest TTL wins; others keep the first rule's value.
    private func merge(_ perRule: [[(String, Value)]]) -> [(name: String, json: String)] {
        var result: [(String, Value)] = []
        for obligations in perRule {
            for (name, value) in obligations {
                if let index = result.firstIndex(where: { $0.0 == name }) {
                    if name == "ttl", case .duration(let new) = value, case .duration(let old) = result[index].1, new < old {
                        result[index].1 = value
                    }
                } else {
                    result.append((name, value))
                }
            }
        }
        return result.map { ($0.0, JSONText.render($0.1)) }
    }
}

/// Counts, over many decisions, which rules matched and which conditions were true, false or erred.
public final class CoverageRecorder: @unchecked Sendable {
    /// What was seen of one condition.
    public struct ConditionCount: Sendable {
        /// The condition as written in the policy.
        public var text: String
        /// `file:line:col` of the condition.
        public var position: String
        /// Evaluations in which the condition was true.
        public var trueCount = 0
        /// Evaluations in which the condition was false.
        public var falseCount = 0
        /// Evaluations in which the condition raised a runtime error.
        public var errorCount = 0
    }

    /// What was seen of one rule.
    public struct RuleCount: Sendable {
        /// The rule's name.
        public var name: String
        /// `file:line:col` of the rule.
        public var position: String
        /// Evaluations in which the rule matched.
        public var matched = 0
        /// Times the rule was evaluated.
        public var evaluated = 0
        /// The rule's conditions in source order.
        public var conditions: [ConditionCount]
    }

    /// One count per rule, indexed like ``PolicySet/ruleNames``.
    public private(set) var rules: [RuleCount]

    /// Creates a recorder for a policy set's rules.
    public init(for policySet: PolicySet) {
        var rules = [RuleCount](repeating: RuleCount(name: "", position: "", conditions: []), count: policySet.ruleNames.count)
        for rule in policySet.forbids + policySet.permits {
            rules[rule.index] = RuleCount(
                name: rule.name, position: rule.position,
                conditions: rule.body.statements.map { ConditionCount(text: $0.text, position: $0.span.position) })
        }
        self.rules = rules
    }

    func record(rule: Int, matched: Bool) {
        rules[rule].evaluated += 1
        if matched { rules[rule].matched += 1 }
    }

    func record(rule: Int, statement: Int, outcome: Bool?) {
        switch outcome {
        case true?: rules[rule].conditions[statement].trueCount += 1
        case false?: rules[rule].conditions[statement].falseCount += 1
        case nil: rules[rule].conditions[statement].errorCount += 1
        }
    }
}
