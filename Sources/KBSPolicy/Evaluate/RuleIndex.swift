/// Rules filed by the value of the input attribute their first condition tests against constant strings
/// (`action.name == "can_read_user"`, `evidence.type in {"snp", "tdx"}`), so a decision runs only the rules that can
/// pass that condition.
///
/// Skipping is exact: a skipped rule's first condition reads a present string attribute and is false, so the rule
/// would neither match nor raise an error. When the attribute is absent or not a string, every rule runs, and their
/// errors deny as before.
struct RuleIndex: Sendable {
    /// A rule's first condition, when it is `attribute == "text"` or `attribute in {"text", …}` over an input path.
    struct Guard: Sendable {
        /// Slot indices from the input record down to the attribute.
        var path: [Int]
        var values: Set<String>

        init?(_ block: CheckedBlock) {
            guard case .condition(let ir)? = block.statements.first?.kind else { return nil }
            let subject: IR
            switch ir {
            case .compare(.equal, let left, .constant(.string(let text))):
                subject = left
                values = [text]
            case .memberOf(let element, .constant(.set(let set)), .set):
                subject = element
                values = []
                for value in set {
                    guard case .string(let text) = value else { return nil }
                    values.insert(text)
                }
            case .memberOf(let element, .makeSet(let elements), .set):
                subject = element
                values = []
                for element in elements {
                    guard case .constant(.string(let text)) = element else { return nil }
                    values.insert(text)
                }
            default:
                return nil
            }
            guard let path = Self.inputPath(subject) else { return nil }
            self.path = path
        }

        private static func inputPath(_ ir: IR) -> [Int]? {
            switch ir {
            case .inputField(let index): return [index]
            case .member(let base, let index): return inputPath(base).map { $0 + [index] }
            default: return nil
            }
        }
    }

    private let all: [CompiledRule]
    /// The attribute most of the rules test first; nil when none does.
    private let path: [Int]?
    /// The rules to run when the attribute has this value, in source order (obligations merge in that order).
    private let byValue: [String: [CompiledRule]]
    /// The rules to run for any other value: those not filed under the attribute.
    private let unfiled: [CompiledRule]

    init(_ rules: [CompiledRule]) {
        all = rules
        var counts: [[Int]: Int] = [:]
        for rule in rules { if let key = rule.guardKey { counts[key.path, default: 0] += 1 } }
        guard let path = counts.max(by: { $0.value < $1.value || ($0.value == $1.value && $0.key.lexicographicallyPrecedes($1.key)) })?.key
        else {
            self.path = nil
            byValue = [:]
            unfiled = rules
            return
        }
        self.path = path
        let values = Set(rules.compactMap { $0.guardKey?.path == path ? $0.guardKey?.values : nil }.joined())
        var byValue: [String: [CompiledRule]] = [:]
        for value in values {
            byValue[value] = rules.filter { $0.guardKey?.path != path || $0.guardKey?.values.contains(value) == true }
        }
        self.byValue = byValue
        unfiled = rules.filter { $0.guardKey?.path != path }
    }

    /// The rules that can apply to `input`.
    @inline(__always)
    func candidates(_ input: Record) -> [CompiledRule] {
        guard let path else { return all }
        var record = input
        var value = Value.absent
        for (depth, index) in path.enumerated() {
            value = record.slots[index]
            if depth < path.count - 1 {
                guard case .record(let inner) = value else { return all }
                record = inner
            }
        }
        guard case .string(let text) = value else { return all }
        return byValue[text] ?? unfiled
    }
}
