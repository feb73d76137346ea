/// A runtime error inside a rule. The rule cannot match, and the whole decision denies.
struct EvalError: Error, Sendable {
    var message: String
}

/// The state of one evaluation: the decoded input, local slots, the request's clock and entity provider.
///
/// A policy set keeps one frame between decisions (``FramePool``): the next decision decodes its input over the
/// previous one's storage, so a decision in the steady state allocates neither the frame nor its records.
final class Frame {
    var locals: [Value]
    var input: Record
    var now: Int64 = 0
    var entities: any EntityProvider = EmptyEntityProvider()
    var entityCache: [String: EntityReference?] = [:]
    var lastEntity: (type: String, id: String, reference: EntityReference?)?
    /// The innermost condition that failed while evaluating the current top-level condition.
    var failure: FailedCondition?
    var explaining = false

    init(inputFields: Int, slots: Int) {
        self.input = Record([Value](repeating: .absent, count: inputFields))
        self.locals = [Value](repeating: .absent, count: slots)
    }

    /// Readies the frame for a decision at `now` against `entities`.
    @inline(__always)
    func prepare(now: Int64, entities: any EntityProvider, explaining: Bool) {
        self.now = now
        self.entities = entities
        self.explaining = explaining
    }

    /// Forgets what one decision learnt but the decoded input, whose storage the next decision reuses: entities
    /// (they change between requests), locals (they would share the input's storage and force a copy) and failures.
    @inline(__always)
    func finish() {
        for index in locals.indices { locals[index] = .absent }
        if !entityCache.isEmpty { entityCache.removeAll(keepingCapacity: true) }
        lastEntity = nil
        failure = nil
        entities = EmptyEntityProvider()
    }
}

/// A condition that evaluated to false, with the values needed to explain it.
struct FailedCondition: Sendable {
    var rule: String
    var statement: CompiledStatement
    var actual: Value?
    var expected: Value?
}
