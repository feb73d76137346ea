import KBSClaims

typealias Eval = (Frame) throws(EvalError) -> Value
typealias Test = (Frame) throws(EvalError) -> Bool

/// One compiled line of a `when` block. A class, so running a block retains nothing per line.
final class CompiledStatement: @unchecked Sendable {
    enum Kind {
        case test(Test)
        case bind(slot: Int, Eval)
    }
    let kind: Kind
    let span: SourceSpan
    let text: String
    let left: Eval?
    let op: String?
    let right: Eval?
    let rightText: String?
    /// Position within its rule, for coverage.
    let index: Int

    init(kind: Kind, span: SourceSpan, text: String, left: Eval?, op: String?, right: Eval?, rightText: String?, index: Int) {
        self.kind = kind
        self.span = span
        self.text = text
        self.left = left
        self.op = op
        self.right = right
        self.rightText = rightText
        self.index = index
    }
}

/// A compiled rule or definition body.
final class CompiledBlock: @unchecked Sendable {
    let name: String
    let statements: [CompiledStatement]

    init(name: String, statements: [CompiledStatement]) {
        self.name = name
        self.statements = statements
    }

    /// Runs the statements in order; false at the first condition that fails, recording it when explaining.
    @inline(__always)
    func run(_ frame: Frame) throws(EvalError) -> Bool {
        for statement in statements {
            switch statement.kind {
            case .bind(let slot, let eval):
                frame.locals[slot] = try eval(frame)
            case .test(let test):
                if frame.explaining {
                    let before = frame.failure
                    frame.failure = nil
                    if try !test(frame) {
                        if frame.failure == nil { frame.failure = explain(statement, frame) }
                        return false
                    }
                    frame.failure = before
                } else if try !test(frame) {
                    return false
                }
            }
        }
        return true
    }

    func explain(_ statement: CompiledStatement, _ frame: Frame) -> FailedCondition {
        var failure = FailedCondition(rule: name, statement: statement)
        if let left = statement.left, let right = statement.right {
            failure.actual = try? left(frame)
            if statement.op != "in" { failure.expected = try? right(frame) }
        }
        return failure
    }
}

/// Turns typed IR into closures, so evaluation never walks a syntax tree.
enum Compiler {
    static func compile(block: CheckedBlock) -> CompiledBlock {
        CompiledBlock(
            name: block.name,
            statements: block.statements.enumerated().map { index, statement in
                let kind: CompiledStatement.Kind
                switch statement.kind {
                case .condition(let ir): kind = .test(test(ir))
                case .binding(let slot, let ir): kind = .bind(slot: slot, eval(ir))
                }
                return CompiledStatement(
                    kind: kind, span: statement.span, text: statement.text, left: statement.sides.map { eval($0.left) },
                    op: statement.sides?.op, right: statement.sides.map { eval($0.right) }, rightText: statement.sides?.rightText,
                    index: index)
            })
    }

    // MARK: Boolean tests

    static func test(_ ir: IR) -> Test {
        switch ir {
        case .constant(.bool(let value)):
            return { _ throws(EvalError) in value }
        case .and(let l, let r):
            let lt = test(l)
            let rt = test(r)
            return { frame throws(EvalError) in
                guard try lt(frame) else { return false }
                return try rt(frame)
            }
        case .or(let l, let r):
            let lt = test(l)
            let rt = test(r)
            return { frame throws(EvalError) in
                if try lt(frame) { return true }
                return try rt(frame)
            }
        case .not(let inner):
            let t = test(inner)
            return { frame throws(EvalError) in try !t(frame) }
        case .compare(let op, let l, let r):
            return compare(op, l, r)
        case .memberOf(let element, .constant(.set(let set)), .set):
            let e = eval(element)
            return { frame throws(EvalError) in set.contains(try e(frame)) }
        case .memberOf(let element, let collection, let kind):
            let e = eval(element)
            let c = eval(collection)
            return { frame throws(EvalError) in try contains(c(frame), e(frame), kind) }
        case .matches(let subject, let glob):
            let s = eval(subject)
            return { frame throws(EvalError) in
                guard case .string(let text) = try s(frame) else { throw EvalError(message: "`matches` needs a string") }
                return glob.matches(text)
            }
        case .quantifier(let quantifier, let slot, let domain, let body):
            let d = eval(domain)
            let b = test(body)
            let isAny = quantifier == .any
            return { frame throws(EvalError) in
                // Sets are walked in place: copying them into an array costs more than the test itself.
                switch try d(frame) {
                case .list(let list):
                    for element in list {
                        frame.locals[slot] = element
                        if try b(frame) == isAny { return isAny }
                    }
                case .set(let set):
                    for element in set {
                        frame.locals[slot] = element
                        if try b(frame) == isAny { return isAny }
                    }
                default: throw EvalError(message: "quantifier domain is not a collection")
                }
                return !isAny
            }
        case .block(let checked):
            let block = compile(block: checked)
            return { frame throws(EvalError) in try block.run(frame) }
        default:
            let e = eval(ir)
            return { frame throws(EvalError) in
                guard case .bool(let value) = try e(frame) else { throw EvalError(message: "expected a bool") }
                return value
            }
        }
    }

    private static func compare(_ op: Syntax.BinaryOperator, _ l: IR, _ r: IR) -> Test {
        let le = eval(l)
        let re = eval(r)
        // Comparing against a constant is the common case: capture it instead of evaluating it.
        if case .constant(let constant) = r {
            switch op {
            case .equal: return { frame throws(EvalError) in try le(frame) == constant }
            case .notEqual: return { frame throws(EvalError) in try le(frame) != constant }
            default: return { frame throws(EvalError) in try order(op, le(frame), constant) }
            }
        }
        switch op {
        case .equal: return { frame throws(EvalError) in try le(frame) == re(frame) }
        case .notEqual: return { frame throws(EvalError) in try le(frame) != re(frame) }
        default: return { frame throws(EvalError) in try order(op, le(frame), re(frame)) }
        }
    }

    @inline(__always)
    static func order(_ op: Syntax.BinaryOperator, _ a: Value, _ b: Value) throws(EvalError) -> Bool {
        let result: Int
        switch (a, b) {
        case (.int(let x), .int(let y)), (.time(let x), .time(let y)), (.duration(let x), .duration(let y)):
            result = x < y ? -1 : (x == y ? 0 : 1)
        case (.tier(let x), .tier(let y)):
            result = x < y ? -1 : (x == y ? 0 : 1)
        case (.version(let x), .version(let y)):
            result = x < y ? -1 : (x == y ? 0 : 1)
        case (.string(let x), .string(let y)):
            result = x < y ? -1 : (x == y ? 0 : 1)
        default:
            throw EvalError(message: "cannot order these values")
        }
        switch op {
        case .less: return result < 0
        case .lessEqual: return result <= 0
        case .greater: return result > 0
        case .greaterEqual: return result >= 0
        default: throw EvalError(message: "not an ordering operator")
        }
    }

    static func contains(_ collection: Value, _ element: Value, _ kind: IR.CollectionKind) throws(EvalError) -> Bool {
        switch (collection, kind) {
        case (.set(let set), _): return set.contains(element)
        case (.list(let list), _): return list.contains(element)
        case (.map(let map), _):
            guard case .string(let key) = element else { throw EvalError(message: "map keys are strings") }
            return map[key] != nil
        case (.string(let text), .substring):
            guard case .string(let part) = element else { throw EvalError(message: "`in` on a string needs a string") }
            return part.isEmpty || text.contains(part)
        default:
            throw EvalError(message: "`in` needs a collection")
        }
    }

    // MARK: Values

    static func eval(_ ir: IR) -> Eval {
        switch ir {
        case .constant(let value):
            return { _ throws(EvalError) in value }
        case .inputField(let index):
            return { frame throws(EvalError) in
                let value = frame.input.slots[index]
                if case .absent = value { throw EvalError(message: "input attribute is absent") }
                return value
            }
        case .local(let slot):
            return { frame throws(EvalError) in frame.locals[slot] }
        case .member(let base, let index):
            let b = eval(base)
            return { frame throws(EvalError) in
                guard case .record(let record) = try b(frame) else { throw EvalError(message: "attribute of an absent record") }
                let value = record.slots[index]
                if case .absent = value { throw EvalError(message: "attribute is absent") }
                return value
            }
        case .entityAttribute(let base, let index):
            let b = eval(base)
            return { frame throws(EvalError) in
                guard case .entity(let entity) = try b(frame) else { throw EvalError(message: "not an entity") }
                let value = entity.attributes.slots[index]
                if case .absent = value { throw EvalError(message: "entity `\(entity.id)` has no such attribute") }
                return value
            }
        case .entityID(let base):
            let b = eval(base)
            return { frame throws(EvalError) in
                guard case .entity(let entity) = try b(frame) else { throw EvalError(message: "not an entity") }
                return .string(entity.id)
            }
        case .lookupEntity(let type, let plan, let id):
            let i = eval(id)
            return { frame throws(EvalError) in
                guard case .string(let identifier) = try i(frame) else { throw EvalError(message: "entity id is not a string") }
                guard let entity = try lookup(frame, type: type, id: identifier, plan: plan) else {
                    throw EvalError(message: "no \(type) entity with id `\(identifier)`")
                }
                return .entity(entity)
            }
        case .hasEntity(let type, let id):
            let i = eval(id)
            return { frame throws(EvalError) in
                guard case .string(let identifier) = try i(frame) else { throw EvalError(message: "entity id is not a string") }
                return .bool(frame.entities.attributes(ofType: type, id: identifier) != nil)
            }
        case .mapIndex(let base, let key):
            let b = eval(base)
            let k = eval(key)
            return { frame throws(EvalError) in
                guard case .map(let map) = try b(frame), case .string(let name) = try k(frame) else {
                    throw EvalError(message: "bad map index")
                }
                guard let value = map[name] else { throw EvalError(message: "no entry `\(name)` in the map") }
                return value
            }
        case .listIndex(let base, let index):
            let b = eval(base)
            let i = eval(index)
            return { frame throws(EvalError) in
                guard case .list(let list) = try b(frame), case .int(let position) = try i(frame) else {
                    throw EvalError(message: "bad list index")
                }
                guard position >= 0, position < list.count else { throw EvalError(message: "index \(position) is out of range") }
                return list[Int(position)]
            }
        case .hasField(let base, let index):
            let b = eval(base)
            return { frame throws(EvalError) in
                // An absent parent means the attribute is absent too, not an error.
                guard let parent = try? b(frame), case .record(let record) = parent else { return .bool(false) }
                if case .absent = record.slots[index] { return .bool(false) }
                return .bool(true)
            }
        case .hasInputField(let index):
            return { frame throws(EvalError) in
                if case .absent = frame.input.slots[index] { return .bool(false) }
                return .bool(true)
            }
        case .hasEntityAttribute(let base, let index):
            let b = eval(base)
            return { frame throws(EvalError) in
                guard let parent = try? b(frame), case .entity(let entity) = parent else { return .bool(false) }
                if case .absent = entity.attributes.slots[index] { return .bool(false) }
                return .bool(true)
            }
        case .hasKey(let base, let key):
            let b = eval(base)
            let k = eval(key)
            return { frame throws(EvalError) in
                guard let parent = try? b(frame), case .map(let map) = parent, case .string(let name) = try k(frame) else {
                    return .bool(false)
                }
                return .bool(map[name] != nil)
            }
        case .call(let builtin, let arguments):
            return call(builtin, arguments.map(eval))
        case .makeList(let elements):
            // A literal of constants is built once, not per request.
            let constants = elements.compactMap { element -> Value? in if case .constant(let v) = element { v } else { nil } }
            if constants.count == elements.count {
                let list = Value.list(constants)
                return { _ throws(EvalError) in list }
            }
            let es = elements.map(eval)
            return { frame throws(EvalError) in
                var values: [Value] = []
                values.reserveCapacity(es.count)
                for e in es { values.append(try e(frame)) }
                return .list(values)
            }
        case .makeSet(let elements):
            let constants = elements.compactMap { element -> Value? in if case .constant(let v) = element { v } else { nil } }
            if constants.count == elements.count {
                let set = Value.set(Set(constants))
                return { _ throws(EvalError) in set }
            }
            let es = elements.map(eval)
            return { frame throws(EvalError) in
                var values = Set<Value>()
                for e in es { values.insert(try e(frame)) }
                return .set(values)
            }
        case .negate(let inner):
            let e = eval(inner)
            return { frame throws(EvalError) in
                switch try e(frame) {
                case .int(let x) where x != .min: return .int(-x)
                case .duration(let x) where x != .min: return .duration(-x)
                default: throw EvalError(message: "cannot negate this value")
                }
            }
        case .arithmetic(let op, let l, let r, _):
            let le = eval(l)
            let re = eval(r)
            return { frame throws(EvalError) in try arithmetic(op, le(frame), re(frame)) }
        case .conditional(let condition, let then, let otherwise):
            let c = test(condition)
            let t = eval(then)
            let o = eval(otherwise)
            return { frame throws(EvalError) in try c(frame) ? t(frame) : o(frame) }
        case .not, .and, .or, .compare, .memberOf, .matches, .matchesDynamic, .quantifier, .block:
            if case .matchesDynamic(let subject, let pattern) = ir {
                let s = eval(subject)
                let p = eval(pattern)
                return { frame throws(EvalError) in
                    guard case .string(let text) = try s(frame), case .string(let glob) = try p(frame) else {
                        throw EvalError(message: "`matches` needs strings")
                    }
                    return .bool(Glob(glob).matches(text))
                }
            }
            let t = test(ir)
            return { frame throws(EvalError) in .bool(try t(frame)) }
        }
    }

    static func lookup(_ frame: Frame, type: String, id: String, plan: RecordPlan) throws(EvalError) -> EntityReference? {
        // Policies tend to ask for the same entity again and again: check the last one before hashing.
        if let last = frame.lastEntity, last.id == id, last.type == type { return last.reference }
        let key = type + "\u{0}" + id
        if let cached = frame.entityCache[key] {
            frame.lastEntity = (type, id, cached)
            return cached
        }
        var found: EntityReference?
        if let json = frame.entities.attributes(ofType: type, id: id) {
            do {
                guard case .record(let attributes) = try TypedDecoder.decode(json, as: .record(plan)) else {
                    throw EvalError(message: "entity attributes are not an object")
                }
                found = EntityReference(type: type, id: id, attributes: attributes, roles: frame.entities.roles(ofType: type, id: id))
            } catch let error as DecodeError {
                throw EvalError(message: "\(type) `\(id)` has invalid attributes: at `\(error.pathText)`: \(error.message)")
            } catch {
                throw EvalError(message: "\(type) `\(id)` has invalid attributes")
            }
        }
        frame.entityCache[key] = found
        frame.lastEntity = (type, id, found)
        return found
    }

    private static func arithmetic(_ op: Syntax.BinaryOperator, _ a: Value, _ b: Value) throws(EvalError) -> Value {
        func combine(_ x: Int64, _ y: Int64) throws(EvalError) -> Int64 {
            let (result, overflow) = op == .plus ? x.addingReportingOverflow(y) : x.subtractingReportingOverflow(y)
            if overflow { throw EvalError(message: "arithmetic overflow") }
            return result
        }
        switch (a, b) {
        case (.int(let x), .int(let y)): return .int(try combine(x, y))
        case (.duration(let x), .duration(let y)): return .duration(try combine(x, y))
        case (.time(let x), .duration(let y)): return .time(try combine(x, y))
        case (.time(let x), .time(let y)): return .duration(try combine(x, y))
        case (.string(let x), .string(let y)):
            guard x.utf8.count + y.utf8.count <= 1 << 16 else { throw EvalError(message: "string too long") }
            return .string(x + y)
        default: throw EvalError(message: "bad arithmetic operands")
        }
    }

    private static func call(_ builtin: Builtin, _ arguments: [Eval]) -> Eval {
        switch builtin {
        case .now:
            return { frame throws(EvalError) in .time(frame.now) }
        case .len:
            let a = arguments[0]
            return { frame throws(EvalError) in
                switch try a(frame) {
                case .string(let s): return .int(Int64(s.count))
                case .list(let l): return .int(Int64(l.count))
                case .set(let s): return .int(Int64(s.count))
                case .map(let m): return .int(Int64(m.count))
                case .bytes(let b): return .int(Int64(b.count))
                default: throw EvalError(message: "`len` of a value without length")
                }
            }
        case .lower, .upper:
            let a = arguments[0]
            return { frame throws(EvalError) in
                guard case .string(let s) = try a(frame) else { throw EvalError(message: "expected a string") }
                return .string(builtin == .lower ? s.lowercased() : s.uppercased())
            }
        case .startsWith, .endsWith, .contains:
            let a = arguments[0]
            let b = arguments[1]
            return { frame throws(EvalError) in
                switch (try a(frame), try b(frame)) {
                case (.string(let s), .string(let p)):
                    switch builtin {
                    case .startsWith: return .bool(s.hasPrefix(p))
                    case .endsWith: return .bool(s.hasSuffix(p))
                    default: return .bool(p.isEmpty || s.contains(p))
                    }
                case (.bytes(let s), .bytes(let p)):
                    switch builtin {
                    case .startsWith: return .bool(s.starts(with: p))
                    case .endsWith: return .bool(s.count >= p.count && Array(s.suffix(p.count)) == p)
                    default:
                        guard !p.isEmpty else { return .bool(true) }
                        guard s.count >= p.count else { return .bool(false) }
                        for start in 0...(s.count - p.count) where Array(s[start..<start + p.count]) == p { return .bool(true) }
                        return .bool(false)
                    }
                default: throw EvalError(message: "expected strings")
                }
            }
        case .hex:
            let a = arguments[0]
            return { frame throws(EvalError) in
                guard case .string(let s) = try a(frame), let bytes = Hex.decode(s) else {
                    throw EvalError(message: "not a hex string")
                }
                return .bytes(bytes)
            }
        case .version:
            let a = arguments[0]
            return { frame throws(EvalError) in
                guard case .string(let s) = try a(frame), let version = Version(s) else { throw EvalError(message: "not a version") }
                return .version(version)
            }
        case .durationSeconds:
            let a = arguments[0]
            return { frame throws(EvalError) in
                guard case .duration(let nanos) = try a(frame) else { throw EvalError(message: "not a duration") }
                return .int(nanos / 1_000_000_000)
            }
        case .roles:
            let a = arguments[0]
            return { frame throws(EvalError) in
                guard case .entity(let entity) = try a(frame) else { throw EvalError(message: "not an entity") }
                return entity.roleNames
            }
        case .hasRole:
            let a = arguments[0]
            let role = arguments[1]
            let scope = arguments.count > 2 ? arguments[2] : nil
            return { frame throws(EvalError) in
                guard case .entity(let entity) = try a(frame), case .string(let wanted) = try role(frame) else {
                    throw EvalError(message: "bad has_role arguments")
                }
                var path: String?
                if let scope {
                    guard case .string(let text) = try scope(frame) else { throw EvalError(message: "bad has_role scope") }
                    path = text
                }
                for binding in entity.roles where binding.role == wanted {
                    guard let bindingScope = binding.scope else { return .bool(true) }
                    if let path, Glob(bindingScope).matches(path) { return .bool(true) }
                }
                return .bool(false)
            }
        }
    }
}
