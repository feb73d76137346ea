import KBSClaims

extension Checker {
    // MARK: Blocks

    /// Checks a `when` block: bindings get slots, `has` conditions guard the lines after them.
    /// With `keepScope`, the block's bindings and guards stay in force for the caller (a rule's
    /// obligations), which must then pop them.
    mutating func checkBlock(_ statements: [Syntax.Statement], name: String, keepScope: Bool = false) -> CheckedBlock {
        scopes.append([:])
        guards.append(guards.last ?? [])
        defer {
            if !keepScope {
                scopes.removeLast()
                guards.removeLast()
            }
        }
        var checked: [CheckedStatement] = []
        for statement in statements {
            let text = statement.span.file.text(of: statement.span)
            switch statement.kind {
            case .condition(let expression):
                guard let (ir, type) = checkReported(expression) else { continue }
                if type != .bool {
                    error(.typeMismatch, "a condition must be a bool, found \(type)", at: expression.span)
                    continue
                }
                checked.append(CheckedStatement(kind: .condition(ir), span: statement.span, text: text, sides: sides(of: expression, ir)))
                guards[guards.count - 1].formUnion(guardedPaths(expression))
            case .binding(let bindingName, let expression):
                guard let (ir, type) = checkReported(expression) else { continue }
                if lookupLocal(bindingName.text) != nil || inputType.field(named: bindingName.text) != nil
                    || definitions[bindingName.text] != nil || bindingName.text == "data"
                {
                    error(
                        .duplicateDeclaration, "`\(bindingName.text)` is already defined here", at: bindingName.span,
                        notes: ["help: choose another name for the binding"])
                    continue
                }
                let slot = allocateSlot()
                scopes[scopes.count - 1][bindingName.text] = (slot, type)
                checked.append(CheckedStatement(kind: .binding(slot: slot, ir), span: statement.span, text: text, sides: nil))
            }
        }
        return CheckedBlock(name: name, statements: checked)
    }

    /// For `a op b` conditions, the two sides, so explanations can show what `a` actually was.
    private mutating func sides(of expression: Syntax.Expr, _ ir: IR) -> (IR, String, IR, String)? {
        guard case .binary(let op, let left, let right) = expression.kind, op != .and, op != .or else { return nil }
        switch ir {
        case .compare(_, let l, let r), .arithmetic(_, let l, let r, _):
            return (l, op.rawValue, r, right.span.file.text(of: right.span))
        case .memberOf(let element, let collection, _):
            return (element, "in", collection, right.span.file.text(of: right.span))
        case .matches(let l, let glob):
            return (l, "matches", .constant(.string(glob.pattern)), right.span.file.text(of: right.span))
        default:
            _ = left
            return nil
        }
    }

    mutating func checkDefinitionBody(name: Syntax.Name, body: [Syntax.Statement]) -> CheckedBlock? {
        if definitionsInProgress.contains(name.text) {
            error(
                .recursiveDefinition, "definition `\(name.text)` uses itself",
                at: name.span, notes: ["note: the chain is \((definitionsInProgress + [name.text]).joined(separator: " → "))"])
            return nil
        }
        definitionsInProgress.append(name.text)
        defer { definitionsInProgress.removeLast() }
        // A definition sees only the input, data and other definitions, never the caller's bindings.
        let savedScopes = scopes
        let savedGuards = guards
        scopes = [[:]]
        guards = [[]]
        defer {
            scopes = savedScopes
            guards = savedGuards
        }
        return checkBlock(body, name: name.text)
    }

    mutating func allocateSlot() -> Int {
        let slot = nextSlot
        nextSlot += 1
        maximumSlot = max(maximumSlot, nextSlot)
        return slot
    }

    func lookupLocal(_ name: String) -> (slot: Int, type: ClaimType)? {
        for scope in scopes.reversed() {
            if let found = scope[name] { return found }
        }
        return nil
    }

    // MARK: Guards

    /// The canonical text of a path such as `evidence.snp.vmpl`, for matching `has` guards.
    func pathText(_ expression: Syntax.Expr) -> String? {
        switch expression.kind {
        case .name(let name): name
        case .member(let base, let name): pathText(base).map { "\($0).\(name.text)" }
        case .parenthesized(let inner): pathText(inner)
        default: nil
        }
    }

    /// The paths a condition proves present when it holds: `has p`, and those of both sides of `and`.
    func guardedPaths(_ expression: Syntax.Expr) -> Set<String> {
        switch expression.kind {
        case .has(let operand): pathText(operand).map { [$0] } ?? []
        case .binary(.and, let left, let right): guardedPaths(left).union(guardedPaths(right))
        case .parenthesized(let inner): guardedPaths(inner)
        default: []
        }
    }

    /// Marks every field reachable from `type` as used, for values read whole (compared, passed on).
    mutating func markAllUsed(_ type: ClaimType) {
        switch type {
        case .record(let record):
            guard usedFields[record]?.count != record.fields.count else { return }
            usedFields[record] = Set(record.fields.map(\.name))
            for field in record.fields { markAllUsed(field.type) }
        case .list(let element), .set(let element), .map(let element):
            markAllUsed(element)
        default:
            break
        }
    }

    // MARK: Expressions

    mutating func checkExpression(_ expression: Syntax.Expr) -> (IR, ClaimType)? {
        switch expression.kind {
        case .error:
            return nil
        case .bool(let value):
            return (.constant(.bool(value)), .bool)
        case .integer(let value):
            return (.constant(.int(value)), .int)
        case .duration(let value, _):
            return (.constant(.duration(value)), .duration)
        case .string(let value):
            return (.constant(.string(value)), .string)
        case .typed(let prefix, let text):
            return checkTypedLiteral(prefix: prefix, text: text, span: expression.span)
        case .parenthesized(let inner):
            return checkExpression(inner)
        case .name(let name):
            return checkName(name, span: expression.span)
        case .member(let base, let name):
            return checkMember(base: base, name: name, whole: expression)
        case .index(let base, let index):
            return checkIndex(base: base, index: index, span: expression.span)
        case .call(let name, let arguments):
            return checkCall(name: name, arguments: arguments, span: expression.span)
        case .list(let elements), .set(let elements):
            var isSet = false
            if case .set = expression.kind { isSet = true }
            return checkCollectionLiteral(elements, isSet: isSet, span: expression.span)
        case .unary(let op, let operand):
            guard let (ir, type) = checkExpression(operand) else { return nil }
            switch op {
            case .not:
                guard expectType(type, .bool, at: operand.span, context: "`not`") else { return nil }
                return (.not(ir), .bool)
            case .negate:
                guard type == .int || type == .duration else {
                    error(.typeMismatch, "`-` applies to int or duration, found \(type)", at: operand.span)
                    return nil
                }
                return (.negate(ir), type)
            }
        case .binary(let op, let left, let right):
            return checkBinary(op, left, right, span: expression.span)
        case .has(let operand):
            return checkHas(operand)
        case .quantifier(let quantifier, let variable, let domain, let body):
            guard let (domainIR, domainType) = checkExpression(domain) else { return nil }
            let elementType: ClaimType
            switch domainType {
            case .list(let element), .set(let element): elementType = element
            default:
                error(.notIterable, "`\(quantifier.rawValue)` needs a list or set, found \(domainType)", at: domain.span)
                return nil
            }
            let slot = allocateSlot()
            scopes.append([variable.text: (slot, elementType)])
            // Guards proven for an outer name of the same spelling say nothing about the loop variable.
            guards.append((guards.last ?? []).filter { $0 != variable.text && !$0.hasPrefix(variable.text + ".") })
            defer {
                scopes.removeLast()
                guards.removeLast()
            }
            guard let (bodyIR, bodyType) = checkExpression(body) else { return nil }
            guard expectType(bodyType, .bool, at: body.span, context: "the condition of `\(quantifier.rawValue)`") else { return nil }
            return (.quantifier(quantifier, slot: slot, domain: domainIR, body: bodyIR), .bool)
        case .conditional(let condition, let then, let otherwise):
            guard let (conditionIR, conditionType) = checkExpression(condition) else { return nil }
            guard expectType(conditionType, .bool, at: condition.span, context: "`if`") else { return nil }
            guards.append((guards.last ?? []).union(guardedPaths(condition)))
            let thenResult = checkExpression(then)
            guards.removeLast()
            guard let (thenIR, thenType) = thenResult, let (elseIR, elseType) = checkExpression(otherwise) else { return nil }
            guard thenType == elseType else {
                error(.typeMismatch, "the branches of `if` differ: \(thenType) and \(elseType)", at: otherwise.span)
                return nil
            }
            markAllUsed(thenType)
            return (.conditional(conditionIR, thenIR, elseIR), thenType)
        }
    }

    mutating func expectType(_ actual: ClaimType, _ expected: ClaimType, at span: SourceSpan, context: String) -> Bool {
        guard actual == expected else {
            error(.typeMismatch, "\(context) needs \(expected), found \(actual)", at: span)
            return false
        }
        return true
    }

    /// Checks an expression and guarantees that a failure was reported: a statement must never vanish
    /// from a rule without an error, or the rule would permit with one condition fewer.
    mutating func checkReported(_ expression: Syntax.Expr) -> (IR, ClaimType)? {
        let before = diagnostics.count(where: { $0.severity == .error })
        let result = checkExpression(expression)
        if result == nil, diagnostics.count(where: { $0.severity == .error }) == before {
            error(.typeMismatch, "this expression cannot be checked", at: expression.span)
        }
        return result
    }

    private mutating func checkTypedLiteral(prefix: String, text: String, span: SourceSpan) -> (IR, ClaimType)? {
        switch prefix {
        case "hex":
            guard let bytes = Hex.decode(text) else {
                error(.invalidLiteral, "`\(text)` is not hex", at: span, notes: ["help: write an even number of 0-9, a-f"])
                return nil
            }
            return (.constant(.bytes(bytes)), .hex)
        case "v":
            guard let version = Version(text) else {
                error(.invalidLiteral, "`\(text)` is not a version", at: span, notes: ["help: write numbers separated by dots, like `v\"1.2.3\"`"])
                return nil
            }
            return (.constant(.version(version)), .version)
        case "time":
            guard let nanos = Timestamp.parse(text) else {
                error(
                    .invalidLiteral, "`\(text)` is not an RFC 3339 time", at: span,
                    notes: ["help: write it like `time\"2026-01-31T12:00:00Z\"`"])
                return nil
            }
            return (.constant(.time(nanos)), .time)
        default:
            guard let tier = PrivacyTier(text: text) else {
                error(
                    .invalidLiteral, "`\(text)` is not a privacy tier", at: span,
                    notes: ["help: tiers are 0–4 or open, encrypted, hsm, gpu-cc, gpu-tee-io"])
                return nil
            }
            return (.constant(.tier(tier.rawValue)), .tier)
        }
    }

    private mutating func checkName(_ name: String, span: SourceSpan) -> (IR, ClaimType)? {
        if let (slot, type) = lookupLocal(name) { return (.local(slot), type) }
        if let (definitionName, body) = definitions[name] {
            guard let block = checkDefinitionBody(name: definitionName, body: body) else { return nil }
            return (.block(block), .bool)
        }
        if let index = inputType.index(of: name) {
            usedFields[inputType, default: []].insert(name)
            let field = inputType.fields[index]
            if field.isOptional, !(guards.last ?? []).contains(name) {
                error(
                    .optionalUnguarded, "`\(name)` is optional and may be absent", at: span,
                    notes: ["help: check `has \(name)` in an earlier condition or with `and`"])
            }
            return (.inputField(index), field.type)
        }
        if name == "data" {
            error(
                .unknownName, "`data` must be followed by the name of a data declaration", at: span,
                notes: data.isEmpty ? [] : ["note: declared data: \(data.keys.sorted().joined(separator: ", "))"])
            return nil
        }
        var candidates = inputType.fields.map(\.name) + Array(definitions.keys)
        for scope in scopes { candidates += scope.keys }
        error(.unknownName, "unknown name `\(name)`", at: span, notes: Suggestion.note(Suggestion.closest(to: name, in: candidates)))
        return nil
    }

    private mutating func checkMember(base: Syntax.Expr, name: Syntax.Name, whole: Syntax.Expr) -> (IR, ClaimType)? {
        if case .name("data") = base.kind, lookupLocal("data") == nil {
            guard let (value, type) = data[name.text] else {
                error(
                    .unknownName, "unknown data `\(name.text)`", at: name.span,
                    notes: Suggestion.note(Suggestion.closest(to: name.text, in: data.keys)))
                return nil
            }
            return (.constant(value), type)
        }
        guard let (baseIR, baseType) = checkExpression(base) else { return nil }
        let record: RecordType
        let isEntity: Bool
        switch baseType {
        case .record(let r):
            record = r
            isEntity = false
        case .entity(let entityName):
            if name.text == "id", entityTypes[entityName]?.field(named: "id") == nil { return (.entityID(baseIR), .string) }
            guard let r = entityTypes[entityName] else { return nil }
            record = r
            isEntity = true
        default:
            error(.notARecord, "\(baseType) has no attributes; cannot read `.\(name.text)`", at: name.span)
            return nil
        }
        guard let index = record.index(of: name.text) else {
            let owner = pathText(base).map { "`\($0)`" } ?? (record.name.map { "`\($0)`" } ?? "the record")
            error(
                .unknownAttribute, "\(owner) has no attribute `\(name.text)`", at: name.span,
                notes: Suggestion.note(Suggestion.closest(to: name.text, in: record.fields.map(\.name)))
                    + ["note: \(record.name.map { "`\($0)`" } ?? "it") has \(record.fields.map { "`\($0.name)`" }.joined(separator: ", "))"])
            return nil
        }
        usedFields[record, default: []].insert(name.text)
        let field = record.fields[index]
        if field.isOptional {
            let path = pathText(whole)
            if path == nil || !(guards.last ?? []).contains(path!) {
                error(
                    .optionalUnguarded, "`\(path ?? name.text)` is optional and may be absent", at: name.span,
                    notes: ["help: check `has \(path ?? name.text)` in an earlier condition or with `and`"])
            }
        }
        return (isEntity ? .entityAttribute(baseIR, index) : .member(baseIR, index), field.type)
    }

    private mutating func checkIndex(base: Syntax.Expr, index: Syntax.Expr, span: SourceSpan) -> (IR, ClaimType)? {
        guard let (baseIR, baseType) = checkExpression(base), let (indexIR, indexType) = checkExpression(index) else { return nil }
        switch baseType {
        case .map(let element):
            guard indexType == .string else {
                error(.typeMismatch, "a map is indexed by a string, found \(indexType)", at: index.span)
                return nil
            }
            return (.mapIndex(baseIR, indexIR), element)
        case .list(let element):
            guard indexType == .int else {
                error(.typeMismatch, "a list is indexed by an int, found \(indexType)", at: index.span)
                return nil
            }
            return (.listIndex(baseIR, indexIR), element)
        default:
            error(.typeMismatch, "\(baseType) cannot be indexed", at: base.span)
            return nil
        }
    }

    private mutating func checkHas(_ operand: Syntax.Expr) -> (IR, ClaimType)? {
        switch operand.kind {
        case .member(let base, let name):
            // The base must be checked with this attribute's own optionality ignored.
            guard let (baseIR, baseType) = checkExpression(base) else { return nil }
            switch baseType {
            case .record(let record):
                guard let index = record.index(of: name.text) else {
                    error(
                        .unknownAttribute, "\(pathText(base).map { "`\($0)`" } ?? "the record") has no attribute `\(name.text)`",
                        at: name.span, notes: Suggestion.note(Suggestion.closest(to: name.text, in: record.fields.map(\.name))))
                    return nil
                }
                usedFields[record, default: []].insert(name.text)
                return (.hasField(baseIR, index), .bool)
            case .entity(let entityName):
                guard let record = entityTypes[entityName], let index = record.index(of: name.text) else {
                    error(
                        .unknownAttribute, "entity `\(entityName)` has no attribute `\(name.text)`", at: name.span,
                        notes: Suggestion.note(Suggestion.closest(to: name.text, in: entityTypes[entityName]?.fields.map(\.name) ?? [])))
                    return nil
                }
                return (.hasEntityAttribute(baseIR, index), .bool)
            default:
                error(.hasNeedsAttribute, "`has` needs an attribute of a record, found \(baseType)", at: operand.span)
                return nil
            }
        case .name(let name):
            guard lookupLocal(name) == nil, let index = inputType.index(of: name) else {
                if lookupLocal(name) != nil || checkName(name, span: operand.span) != nil {
                    error(.hasNeedsAttribute, "`has \(name)` needs an optional attribute; `\(name)` is always present", at: operand.span)
                }
                return nil
            }
            usedFields[inputType, default: []].insert(name)
            return (.hasInputField(index), .bool)
        case .index(let base, let key):
            guard let (baseIR, baseType) = checkExpression(base), let (keyIR, keyType) = checkExpression(key) else { return nil }
            guard case .map = baseType, keyType == .string else {
                error(.hasNeedsAttribute, "`has m[k]` needs a map and a string key", at: operand.span)
                return nil
            }
            return (.hasKey(baseIR, keyIR), .bool)
        case .call(let name, let arguments) where entityTypes[name.text] != nil:
            guard arguments.count == 1, let (idIR, idType) = checkExpression(arguments[0]), idType == .string else {
                error(.argumentCount, "`\(name.text)(…)` takes one string id", at: operand.span)
                return nil
            }
            return (.hasEntity(type: name.text, id: idIR), .bool)
        case .parenthesized(let inner):
            return checkHas(inner)
        default:
            error(.hasNeedsAttribute, "`has` needs an attribute such as `has evidence.snp`", at: operand.span)
            return nil
        }
    }

    private mutating func checkCollectionLiteral(_ elements: [Syntax.Expr], isSet: Bool, span: SourceSpan) -> (IR, ClaimType)? {
        guard !elements.isEmpty else {
            error(
                .typeMismatch, "an empty \(isSet ? "set" : "list") has no type", at: span,
                notes: ["help: compare with `len(x) == 0` instead"])
            return nil
        }
        var irs: [IR] = []
        var elementType: ClaimType?
        for element in elements {
            guard let (ir, type) = checkExpression(element) else { return nil }
            if let elementType, elementType != type {
                error(.typeMismatch, "elements differ in type: \(elementType) and \(type)", at: element.span)
                return nil
            }
            elementType = type
            irs.append(ir)
        }
        guard let elementType else { return nil }
        if isSet && !elementType.isHashable {
            error(.typeMismatch, "set elements must be a simple type, not \(elementType)", at: span)
            return nil
        }
        markAllUsed(elementType)
        // Constant collections are built once, at compile time.
        let constants = irs.compactMap { ir -> Value? in
            if case .constant(let value) = ir { return value }
            return nil
        }
        if constants.count == irs.count {
            return isSet ? (.constant(.set(Set(constants))), .set(elementType)) : (.constant(.list(constants)), .list(elementType))
        }
        return isSet ? (.makeSet(irs), .set(elementType)) : (.makeList(irs), .list(elementType))
    }

    private mutating func checkBinary(
        _ op: Syntax.BinaryOperator, _ left: Syntax.Expr, _ right: Syntax.Expr, span: SourceSpan
    ) -> (IR, ClaimType)? {
        if op == .and || op == .or {
            guard let (l, lt) = checkExpression(left) else { return nil }
            // `has x and x.y`: the left side guards the right.
            if op == .and { guards.append((guards.last ?? []).union(guardedPaths(left))) }
            let rightResult = checkExpression(right)
            if op == .and { guards.removeLast() }
            guard let (r, rt) = rightResult else { return nil }
            guard lt == .bool else {
                error(.typeMismatch, "`\(op.rawValue)` needs bool operands, found \(lt)", at: left.span)
                return nil
            }
            guard rt == .bool else {
                error(.typeMismatch, "`\(op.rawValue)` needs bool operands, found \(rt)", at: right.span)
                return nil
            }
            return (op == .and ? .and(l, r) : .or(l, r), .bool)
        }
        guard let (l, lt) = checkExpression(left), let (r, rt) = checkExpression(right) else { return nil }
        switch op {
        case .equal, .notEqual:
            guard lt == rt else {
                error(.typeMismatch, "cannot compare \(lt) with \(rt)", at: span, notes: literalHint(lt, right))
                return nil
            }
            markAllUsed(lt)
            return (.compare(op, l, r), .bool)
        case .less, .lessEqual, .greater, .greaterEqual:
            guard lt == rt else {
                error(.typeMismatch, "cannot compare \(lt) with \(rt)", at: span, notes: literalHint(lt, right))
                return nil
            }
            guard lt.isOrdered else {
                error(
                    .notOrdered, "\(lt) values have no order; `\(op.rawValue)` needs int, time, duration, version, tier or string",
                    at: span)
                return nil
            }
            return (.compare(op, l, r), .bool)
        case .in:
            markAllUsed(lt)
            switch rt {
            case .set(let element) where element == lt:
                return (.memberOf(element: l, collection: r, kind: .set), .bool)
            case .list(let element) where element == lt:
                return (.memberOf(element: l, collection: r, kind: .list), .bool)
            case .map where lt == .string:
                return (.memberOf(element: l, collection: r, kind: .mapKeys), .bool)
            case .string where lt == .string:
                return (.memberOf(element: l, collection: r, kind: .substring), .bool)
            default:
                error(.typeMismatch, "cannot look for \(lt) in \(rt)", at: span)
                return nil
            }
        case .matches:
            guard lt == .string, rt == .string else {
                error(.typeMismatch, "`matches` needs a string and a glob pattern string, found \(lt) and \(rt)", at: span)
                return nil
            }
            if case .constant(.string(let pattern)) = r { return (.matches(l, Glob(pattern)), .bool) }
            return (.matchesDynamic(l, r), .bool)
        case .plus, .minus:
            let result: ClaimType?
            switch (lt, rt, op) {
            case (.int, .int, _): result = .int
            case (.duration, .duration, _): result = .duration
            case (.time, .duration, _): result = .time
            case (.time, .time, .minus): result = .duration
            case (.string, .string, .plus): result = .string
            default: result = nil
            }
            guard let result else {
                error(.typeMismatch, "cannot apply `\(op.rawValue)` to \(lt) and \(rt)", at: span)
                return nil
            }
            return (.arithmetic(op, l, r, result), result)
        case .and, .or:
            return nil
        }
    }

    /// A hint when a literal of the wrong type is compared, e.g. `tier >= 2` instead of `tier >= tier"2"`.
    private func literalHint(_ expected: ClaimType, _ expression: Syntax.Expr) -> [String] {
        let text = expression.span.file.text(of: expression.span)
        switch expected {
        case .tier: return ["help: write a tier literal such as `tier\"\(text)\"`"]
        case .hex: return ["help: write a hex literal such as `hex\(text)`"]
        case .version: return ["help: write a version literal such as `v\(text)`"]
        case .time: return ["help: write a time literal such as `time\(text)`"]
        default: return []
        }
    }

    private mutating func checkCall(name: Syntax.Name, arguments: [Syntax.Expr], span: SourceSpan) -> (IR, ClaimType)? {
        if let record = entityTypes[name.text] {
            guard arguments.count == 1 else {
                error(.argumentCount, "`\(name.text)(…)` takes one argument, the entity id", at: span)
                return nil
            }
            guard let (idIR, idType) = checkExpression(arguments[0]) else { return nil }
            guard idType == .string else {
                error(.typeMismatch, "an entity id is a string, found \(idType)", at: arguments[0].span)
                return nil
            }
            return (.lookupEntity(type: name.text, plan: plan(for: record, everything: true), id: idIR), .entity(name.text))
        }
        guard let builtin = Builtin(rawValue: name.text) else {
            let candidates = Builtin.allCases.map(\.rawValue) + Array(entityTypes.keys)
            error(
                .functionUnknown, "unknown function `\(name.text)`", at: name.span,
                notes: Suggestion.note(Suggestion.closest(to: name.text, in: candidates)))
            return nil
        }
        var checked: [(IR, ClaimType)] = []
        for argument in arguments {
            guard let result = checkExpression(argument) else { return nil }
            checked.append(result)
        }
        let types = checked.map(\.1)
        let irs = checked.map(\.0)
        func signature(_ expected: String) -> (IR, ClaimType)? {
            error(.typeMismatch, "`\(name.text)` takes \(expected); found (\(types.map(\.description).joined(separator: ", ")))", at: span)
            return nil
        }
        switch builtin {
        case .len:
            guard types.count == 1 else { return signature("one string, list, set or map") }
            switch types[0] {
            case .string, .list, .set, .map, .hex: return (.call(.len, irs), .int)
            default: return signature("one string, list, set, map or hex value")
            }
        case .lower, .upper:
            guard types == [.string] else { return signature("one string") }
            return (.call(builtin, irs), .string)
        case .startsWith, .endsWith, .contains:
            guard types == [.string, .string] || types == [.hex, .hex] else { return signature("two strings or two hex values") }
            return (.call(builtin, irs), .bool)
        case .now:
            guard types.isEmpty else { return signature("no arguments") }
            return (.call(.now, []), .time)
        case .hex:
            guard types == [.string] else { return signature("one string") }
            if case .constant(.string(let text)) = irs[0], Hex.decode(text) == nil {
                error(.invalidLiteral, "`\(text)` is not hex", at: arguments[0].span)
                return nil
            }
            return (.call(.hex, irs), .hex)
        case .version:
            guard types == [.string] else { return signature("one string") }
            return (.call(.version, irs), .version)
        case .durationSeconds:
            guard types == [.duration] else { return signature("one duration") }
            return (.call(.durationSeconds, irs), .int)
        case .hasRole:
            guard types.count == 2 || types.count == 3, case .entity = types[0], types.dropFirst().allSatisfy({ $0 == .string }) else {
                return signature("an entity, a role and optionally a resource path")
            }
            return (.call(.hasRole, irs), .bool)
        case .roles:
            guard types.count == 1, case .entity = types[0] else { return signature("one entity") }
            return (.call(.roles, irs), .set(.string))
        }
    }
}
