import KBSClaims

/// A bundle's data file as read from disk.
struct DataFile: Sendable {
    var name: String
    var source: SourceFile
}

/// The output of checking: typed rules, the input's decoding plan, constants from data files.
struct CheckedBundle: Sendable {
    var rules: [CheckedRule]
    var inputPlan: RecordPlan
    var inputType: RecordType
    var entityTypes: [String: RecordType]
}

/// Types a bundle's declarations and rules against the input schema and registered claim schemas.
///
/// Reports every error it finds; the compiler only runs when there are none.
struct Checker {
    let registry: ClaimSchemaRegistry
    var diagnostics: [Diagnostic] = []

    // Declarations, by name.
    var aliases: [String: (Syntax.TypeExpr, SourceSpan)] = [:]
    var resolvedAliases: [String: ClaimType] = [:]
    var resolvingAliases: Set<String> = []
    var entityDeclarations: [String: [Syntax.FieldDecl]] = [:]
    var entityTypes: [String: RecordType] = [:]
    var definitions: [String: (Syntax.Name, [Syntax.Statement])] = [:]
    var definitionsInProgress: [String] = []
    var inputType = RecordType(name: "input", fields: [])
    var data: [String: (Value, ClaimType)] = [:]
    /// Fields some rule reads, by record type.
    var usedFields: [RecordType: Set<String>] = [:]

    // Per-rule state.
    var scopes: [[String: (slot: Int, type: ClaimType)]] = []
    var nextSlot = 0
    var maximumSlot = 0
    var guards: [Set<String>] = [[]]

    init(registry: ClaimSchemaRegistry) {
        self.registry = registry
    }

    mutating func error(_ id: MessageID, _ message: String, at span: SourceSpan?, notes: [String] = []) {
        diagnostics.append(Diagnostic(id, message, at: span, notes: notes))
    }

    static let primitiveTypes: [String: ClaimType] = [
        "bool": .bool, "int": .int, "string": .string, "hex": .hex, "time": .time, "duration": .duration,
        "version": .version, "tier": .tier,
    ]

    /// Checks parsed files with their data files.
    mutating func check(files: [Syntax.File], dataFiles: [DataFile]) -> CheckedBundle? {
        var inputFields: [Syntax.FieldDecl]?
        var inputSpan: SourceSpan?
        var dataDeclarations: [(Syntax.Name, Syntax.TypeExpr)] = []
        var rules: [(Syntax.Rule, SourceSpan)] = []
        var names: [String: SourceSpan] = [:]

        func declare(_ name: Syntax.Name, _ what: String, into checker: inout Checker) -> Bool {
            if let previous = names[what + ":" + name.text] {
                checker.error(
                    .duplicateDeclaration, "\(what) `\(name.text)` is declared twice", at: name.span,
                    notes: ["note: first declared at \(previous.position)"])
                return false
            }
            names[what + ":" + name.text] = name.span
            return true
        }

        for file in files {
            for declaration in file.declarations {
                switch declaration.kind {
                case .typeAlias(let name, let type):
                    if declare(name, "type", into: &self) { aliases[name.text] = (type, name.span) }
                case .input(let fields):
                    if let inputSpan {
                        error(
                            .duplicateDeclaration, "the bundle declares `input` twice", at: declaration.span,
                            notes: ["note: first declared at \(inputSpan.position)"])
                    } else {
                        inputFields = fields
                        inputSpan = declaration.span
                    }
                case .data(let name, let type):
                    if declare(name, "data", into: &self) { dataDeclarations.append((name, type)) }
                case .entity(let name, let fields):
                    if declare(name, "type", into: &self) { entityDeclarations[name.text] = fields }
                case .definition(let name, let body):
                    if declare(name, "rule or definition", into: &self) { definitions[name.text] = (name, body) }
                case .rule(let rule):
                    if declare(rule.name, "rule or definition", into: &self) { rules.append((rule, declaration.span)) }
                }
            }
        }

        for (name, fields) in entityDeclarations {
            entityTypes[name] = resolveRecord(fields, name: name)
        }
        guard let inputFields else {
            diagnostics.append(
                Diagnostic(
                    .inputMissing, "the bundle declares no `input` schema", at: nil, path: files.first?.source.path,
                    notes: ["help: add `input { … }` listing the attributes a request carries"]))
            return nil
        }
        inputType = resolveRecord(inputFields, name: "input")
        for field in inputType.fields where field.name == "data" {
            error(.duplicateDeclaration, "`data` is reserved for bundle data and cannot be an input attribute", at: inputSpan)
        }
        loadData(dataDeclarations, files: dataFiles)

        // Definitions are checked where they are used; check each once alone so unused ones are checked too.
        for (_, (name, body)) in definitions.sorted(by: { $0.key < $1.key }) {
            beginRule()
            _ = checkDefinitionBody(name: name, body: body)
        }

        var checkedRules: [CheckedRule] = []
        for (rule, _) in rules {
            beginRule()
            let body = checkBlock(rule.body, name: rule.name.text, keepScope: true)
            defer {
                scopes.removeLast()
                guards.removeLast()
            }
            var obligations: [(String, IR, ClaimType)] = []
            var seen = Set<String>()
            for obligation in rule.obligations {
                if !seen.insert(obligation.name.text).inserted {
                    error(.duplicateField, "obligation `\(obligation.name.text)` is given twice", at: obligation.name.span)
                }
                guard let (ir, type) = checkReported(obligation.value) else { continue }
                if obligation.name.text == "ttl", type != .duration {
                    error(
                        .typeMismatch, "obligation `ttl` must be a duration, found \(type)", at: obligation.value.span,
                        notes: ["help: write a duration such as `5m`"])
                }
                if rule.effect == .forbid {
                    error(.typeMismatch, "forbid rules cannot carry obligations", at: obligation.name.span)
                }
                obligations.append((obligation.name.text, ir, type))
            }
            checkedRules.append(
                CheckedRule(
                    name: rule.name.text, effect: rule.effect, span: rule.name.span, body: body,
                    obligations: obligations, slotCount: maximumSlot, actionIndex: nil))
        }
        guard !diagnostics.hasErrors else { return nil }
        return CheckedBundle(rules: checkedRules, inputPlan: plan(for: inputType), inputType: inputType, entityTypes: entityTypes)
    }

    mutating func beginRule() {
        scopes = [[:]]
        nextSlot = 0
        maximumSlot = 0
        guards = [[]]
    }

    // MARK: Types

    mutating func resolveRecord(_ fields: [Syntax.FieldDecl], name: String?) -> RecordType {
        var resolved: [RecordType.Field] = []
        var seen = Set<String>()
        for field in fields {
            guard seen.insert(field.name.text).inserted else {
                error(.duplicateField, "field `\(field.name.text)` is declared twice", at: field.name.span)
                continue
            }
            let type = resolveType(field.type) ?? .bool
            resolved.append(RecordType.Field(field.name.text, type, optional: field.isOptional))
        }
        return RecordType(name: name, fields: resolved)
    }

    mutating func resolveType(_ type: Syntax.TypeExpr) -> ClaimType? {
        switch type {
        case .record(let fields, _):
            return .record(resolveRecord(fields, name: nil))
        case .named(let name):
            if let primitive = Self.primitiveTypes[name.text] { return primitive }
            if let resolved = resolvedAliases[name.text] { return resolved }
            if let (alias, _) = aliases[name.text] {
                guard resolvingAliases.insert(name.text).inserted else {
                    error(.recursiveDefinition, "type `\(name.text)` refers to itself", at: name.span)
                    return nil
                }
                defer { resolvingAliases.remove(name.text) }
                var resolved = resolveType(alias)
                if case .record(var record)? = resolved, record.name == nil {
                    record.name = name.text
                    resolved = .record(record)
                }
                if let resolved { resolvedAliases[name.text] = resolved }
                return resolved
            }
            if let schema = registry[name.text] { return .record(schema.record) }
            if entityDeclarations[name.text] != nil { return .entity(name.text) }
            let candidates =
                Array(Self.primitiveTypes.keys) + Array(aliases.keys) + Array(registry.schemas.keys)
                + Array(entityDeclarations.keys) + ["set", "list", "map"]
            error(
                .unknownType, "unknown type `\(name.text)`", at: name.span,
                notes: Suggestion.note(Suggestion.closest(to: name.text, in: candidates)))
            return nil
        case .generic(let name, let arguments, let span):
            let resolved = arguments.map { resolveType($0) }
            guard !resolved.contains(where: { $0 == nil }) else { return nil }
            let types = resolved.compactMap { $0 }
            switch (name.text, types.count) {
            case ("list", 1): return .list(types[0])
            case ("set", 1):
                guard types[0].isHashable else {
                    error(.typeMismatch, "set elements must be a simple type, not \(types[0])", at: span)
                    return nil
                }
                return .set(types[0])
            case ("map", 1): return .map(types[0])
            case ("map", 2):
                guard types[0] == .string else {
                    error(.typeMismatch, "map keys are strings", at: span)
                    return nil
                }
                return .map(types[1])
            case ("list", _), ("set", _), ("map", _):
                error(.argumentCount, "`\(name.text)` takes one type argument", at: span)
                return nil
            default:
                error(
                    .unknownType, "unknown generic type `\(name.text)`", at: name.span,
                    notes: Suggestion.note(Suggestion.closest(to: name.text, in: ["set", "list", "map"])))
                return nil
            }
        }
    }

    // MARK: Data

    mutating func loadData(_ declarations: [(Syntax.Name, Syntax.TypeExpr)], files: [DataFile]) {
        for (name, typeExpr) in declarations {
            guard let type = resolveType(typeExpr) else { continue }
            guard let file = files.first(where: { $0.name == name.text }) else {
                error(
                    .dataFileMissing, "no data file for `data \(name.text)`", at: name.span,
                    notes: ["help: put the values in `\(name.text).json` beside the policy files"])
                continue
            }
            do {
                let value = try TypedDecoder.decode(file.source.bytes, as: plan(for: type, everything: true))
                data[name.text] = (value, type)
            } catch {
                let span = SourceSpan(file: file.source, start: error.offset, end: min(error.offset + 1, file.source.bytes.count))
                diagnostics.append(
                    Diagnostic(
                        .dataFileInvalid, "\(error.path.isEmpty ? "" : "at `\(error.pathText)`: ")\(error.message)",
                        at: span, notes: ["note: `data \(name.text)` is declared as \(type) at \(name.span.position)"]))
            }
        }
    }

    // MARK: Decoding plans

    /// The decoding plan for `type`; records decode only fields marked used unless `everything`.
    func plan(for type: ClaimType, everything: Bool = false) -> DecodePlan {
        switch type {
        case .bool: .bool
        case .int: .int
        case .string: .string
        case .hex: .hex
        case .time: .time
        case .duration: .duration
        case .version: .version
        case .tier: .tier
        case .list(let element): .list(plan(for: element, everything: everything))
        case .set(let element): .set(plan(for: element, everything: everything))
        case .map(let element): .map(plan(for: element, everything: everything))
        case .record(let record): .record(plan(for: record, everything: everything))
        case .entity: .entityID
        }
    }

    func plan(for record: RecordType, everything: Bool = false) -> RecordPlan {
        let used = usedFields[record] ?? []
        return RecordPlan(
            names: record.fields.map(\.name),
            plans: record.fields.map { plan(for: $0.type, everything: everything) },
            used: record.fields.map { everything || used.contains($0.name) },
            required: record.fields.map { !$0.isOptional })
    }
}
