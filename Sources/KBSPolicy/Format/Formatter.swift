import KBSClaims

/// Prints policy files in the one canonical layout. Comments are kept: those inside an expression move
/// to the line before its statement. Formatting formatted text changes nothing.
public enum PolicyFormatter {
    /// The formatted text of `source`, or the diagnostics that stop it from being parsed.
    public static func format(_ source: SourceFile) -> Result<String, BundleError> {
        let (file, diagnostics) = Parser.parse(source)
        guard !diagnostics.hasErrors else { return .failure(BundleError(diagnostics)) }
        var printer = Printer()
        printer.print(file)
        return .success(printer.output)
    }
}

private struct Printer {
    var output = ""
    private let indentUnit = "  "

    mutating func line(_ text: String, _ depth: Int) {
        output += text.isEmpty ? "\n" : String(repeating: indentUnit, count: depth) + text + "\n"
    }

    /// Prints comments; an empty entry is a blank line the author left inside the group.
    mutating func comments(_ comments: [String], _ depth: Int) {
        for comment in comments { line(comment, comment.isEmpty ? 0 : depth) }
    }

    func trailing(_ comment: String?) -> String { comment.map { " " + $0 } ?? "" }

    mutating func print(_ file: Syntax.File) {
        var previous: Syntax.Declaration?
        for declaration in file.declarations {
            if let previous,
                !(isCompact(previous) && isCompact(declaration) && sameKind(previous, declaration) && declaration.leadingComments.isEmpty)
            {
                line("", 0)
            }
            print(declaration)
            previous = declaration
        }
        if !file.trailingComments.isEmpty {
            if !file.declarations.isEmpty { line("", 0) }
            comments(file.trailingComments, 0)
        }
    }

    private func isCompact(_ declaration: Syntax.Declaration) -> Bool {
        switch declaration.kind {
        case .data: true
        case .typeAlias(_, let type): !isMultiline(type)
        default: false
        }
    }

    private func sameKind(_ a: Syntax.Declaration, _ b: Syntax.Declaration) -> Bool {
        switch (a.kind, b.kind) {
        case (.data, .data), (.typeAlias, .typeAlias): true
        default: false
        }
    }

    mutating func print(_ declaration: Syntax.Declaration) {
        comments(declaration.leadingComments, 0)
        let end = trailing(declaration.trailingComment)
        switch declaration.kind {
        case .typeAlias(let name, let type):
            printTyped(prefix: "type \(name.text) = ", type, suffix: end, depth: 0)
        case .data(let name, let type):
            printTyped(prefix: "data \(name.text): ", type, suffix: end, depth: 0)
        case .input(let fields):
            line("input {", 0)
            printFields(fields, depth: 1)
            line("}" + end, 0)
        case .entity(let name, let fields):
            if fields.isEmpty {
                line("entity \(name.text)" + end, 0)
            } else {
                line("entity \(name.text) {", 0)
                printFields(fields, depth: 1)
                line("}" + end, 0)
            }
        case .definition(let name, let body):
            line("def \(name.text) when {", 0)
            printStatements(body, depth: 1)
            line("}" + end, 0)
        case .rule(let rule):
            let head = "\(rule.effect.rawValue) \(rule.name.text)"
            if rule.body.isEmpty && rule.closingComments.isEmpty {
                if rule.obligations.isEmpty {
                    line(head + end, 0)
                    return
                }
                line(head + " with {", 0)
            } else {
                line(head + " when {", 0)
                printStatements(rule.body, depth: 1)
                comments(rule.closingComments, 1)
                if rule.obligations.isEmpty {
                    line("}" + end, 0)
                    return
                }
                line("} with {", 0)
            }
            for obligation in rule.obligations {
                comments(obligation.leadingComments, 1)
                line("\(obligation.name.text) = \(expression(obligation.value))" + trailing(obligation.trailingComment), 1)
            }
            line("}" + end, 0)
        }
    }

    mutating func printStatements(_ statements: [Syntax.Statement], depth: Int) {
        for statement in statements {
            comments(statement.leadingComments, depth)
            let text: String
            switch statement.kind {
            case .condition(let expr): text = expression(expr)
            case .binding(let name, let expr): text = "let \(name.text) = \(expression(expr))"
            }
            line(text + trailing(statement.trailingComment), depth)
        }
    }

    mutating func printFields(_ fields: [Syntax.FieldDecl], depth: Int) {
        for field in fields {
            comments(field.leadingComments, depth)
            printTyped(
                prefix: "\(field.name.text)\(field.isOptional ? "?" : ""): ", field.type, suffix: trailing(field.trailingComment), depth: depth)
        }
    }

    /// Prints `prefix type suffix`, expanding a record type over several lines when it carries comments.
    mutating func printTyped(prefix: String, _ type: Syntax.TypeExpr, suffix: String, depth: Int) {
        if case .record(let fields, _) = type, isMultiline(type) {
            line(prefix + "{", depth)
            printFields(fields, depth: depth + 1)
            line("}" + suffix, depth)
        } else {
            line(prefix + typeText(type) + suffix, depth)
        }
    }

    func isMultiline(_ type: Syntax.TypeExpr) -> Bool {
        switch type {
        case .named: false
        case .generic(_, let arguments, _): arguments.contains(where: isMultiline)
        case .record(let fields, _):
            fields.count > 3 || fields.contains { !$0.leadingComments.isEmpty || $0.trailingComment != nil || isMultiline($0.type) }
        }
    }

    func typeText(_ type: Syntax.TypeExpr) -> String {
        switch type {
        case .named(let name): name.text
        case .generic(let name, let arguments, _): "\(name.text)<\(arguments.map(typeText).joined(separator: ", "))>"
        case .record(let fields, _):
            "{ " + fields.map { "\($0.name.text)\($0.isOptional ? "?" : ""): \(typeText($0.type))" }.joined(separator: ", ") + " }"
        }
    }

    func expression(_ expr: Syntax.Expr) -> String {
        switch expr.kind {
        case .bool(let value): return value ? "true" : "false"
        case .integer(let value): return String(value)
        case .duration(_, let text): return text
        case .string(let value): return quote(value)
        case .typed(let prefix, let value): return prefix + quote(value)
        case .name(let name): return name
        case .member(let base, let name): return expression(base) + "." + name.text
        case .index(let base, let index): return expression(base) + "[" + expression(index) + "]"
        case .call(let name, let arguments): return name.text + "(" + arguments.map(expression).joined(separator: ", ") + ")"
        case .list(let elements): return "[" + elements.map(expression).joined(separator: ", ") + "]"
        case .set(let elements): return "{" + elements.map(expression).joined(separator: ", ") + "}"
        case .unary(.not, let operand): return "not " + expression(operand)
        case .unary(.negate, let operand): return "-" + expression(operand)
        case .binary(let op, let left, let right): return expression(left) + " " + op.rawValue + " " + expression(right)
        case .has(let operand): return "has " + expression(operand)
        case .quantifier(let quantifier, let variable, let domain, let body):
            return "\(quantifier.rawValue) \(variable.text) in \(expression(domain)): \(expression(body))"
        case .conditional(let condition, let then, let otherwise):
            return "if \(expression(condition)) then \(expression(then)) else \(expression(otherwise))"
        case .parenthesized(let inner): return "(" + expression(inner) + ")"
        case .error: return "<error>"
        }
    }

    func quote(_ text: String) -> String {
        StringEscaper.quote(text) { "\\u{\(String($0, radix: 16))}" }
    }
}
