import KBSClaims

/// The checked form of an expression: every name resolved, every node typed.
indirect enum IR: Sendable {
    case constant(Value)
    case inputField(Int)
    case local(Int)
    case member(IR, Int)
    case entityAttribute(IR, Int)
    case entityID(IR)
    case lookupEntity(type: String, plan: RecordPlan, id: IR)
    case mapIndex(IR, IR)
    case listIndex(IR, IR)
    case call(Builtin, [IR])
    case makeList([IR])
    case makeSet([IR])
    case not(IR)
    case negate(IR)
    case and(IR, IR)
    case or(IR, IR)
    case compare(Syntax.BinaryOperator, IR, IR)
    /// `element in collection`, by the collection's kind.
    case memberOf(element: IR, collection: IR, kind: CollectionKind)
    case matches(IR, Glob)
    case matchesDynamic(IR, IR)
    case hasField(IR, Int)
    case hasInputField(Int)
    case hasEntityAttribute(IR, Int)
    case hasKey(IR, IR)
    case hasEntity(type: String, id: IR)
    case quantifier(Syntax.Quantifier, slot: Int, domain: IR, body: IR)
    case conditional(IR, IR, IR)
    case arithmetic(Syntax.BinaryOperator, IR, IR, ClaimType)
    /// A named definition's body, inlined: statements run in order, conditions joined by `and`.
    case block(CheckedBlock)

    enum CollectionKind: Sendable { case set, list, mapKeys, substring }
}

/// The built-in functions.
enum Builtin: String, CaseIterable, Sendable {
    case len, lower, upper, contains, now, hex, version, roles
    case startsWith = "starts_with"
    case endsWith = "ends_with"
    case hasRole = "has_role"
    case durationSeconds = "duration_seconds"
}

/// One checked condition or binding of a `when` block.
struct CheckedStatement: Sendable {
    enum Kind: Sendable {
        case condition(IR)
        case binding(slot: Int, IR)
    }
    var kind: Kind
    var span: SourceSpan
    /// The condition as written, for explanations and coverage.
    var text: String
    /// For a comparison or membership condition, its two sides, so a failure can show the actual value.
    var sides: (left: IR, op: String, right: IR, rightText: String)?
}

/// The checked body of a rule or definition.
final class CheckedBlock: Sendable {
    let statements: [CheckedStatement]
    let name: String

    init(name: String, statements: [CheckedStatement]) {
        self.name = name
        self.statements = statements
    }
}

/// A checked permit or forbid rule.
struct CheckedRule: Sendable {
    var name: String
    var effect: Syntax.Rule.Effect
    var span: SourceSpan
    var body: CheckedBlock
    var obligations: [(name: String, value: IR, type: ClaimType)]
    /// How many local slots the rule needs.
    var slotCount: Int
    /// The action names that can make this rule match, when its first condition pins the action.
    var actionIndex: Set<String>?
}
