/// A runtime error inside a rule. The rule cannot match, and the whole decision denies.
struct EvalError: Error, Sendable {
    var message: String
}

/// The state of one evaluation: the decoded input, local slots, the request's clock and entity provider.
final class Frame {
    var locals: [Value]
    let input: Record
    let now: Int64
    let entities: any EntityProvider
    var entityCache: [String: EntityReference?] = [:]
    var lastEntity: (type: String, id: String, reference: EntityReference?)?
    /// The innermost condition that failed while evaluating the current top-level condition.
    var failure: FailedCondition?
    var explaining = false

    init(input: Record, slots: Int, now: Int64, entities: any EntityProvider) {
        self.input = input
        self.locals = [Value](repeating: .absent, count: slots)
        self.now = now
        self.entities = entities
    }
}

/// A condition that evaluated to false, with the values needed to explain it.
struct FailedCondition: Sendable {
    var rule: String
    var statement: CompiledStatement
    var actual: Value?
    var expected: Value?
}
