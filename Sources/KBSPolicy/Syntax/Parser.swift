/// Parses tokens into a `Syntax.File`, recovering after errors so one run reports all of them.
struct Parser {
    /// Deeper nesting than this is refused with a diagnostic instead of exhausting the stack.
    static let maximumDepth = 48

    private var tokens: [Token]
    private var position = 0
    private var depth = 0
    private let file: SourceFile
    private(set) var diagnostics: [Diagnostic] = []

    /// Lexes and parses a whole file.
    static func parse(_ file: SourceFile) -> (Syntax.File, [Diagnostic]) {
        var lexer = Lexer(file: file)
        let tokens = lexer.tokenize()
        var parser = Parser(tokens: tokens, file: file)
        let syntax = parser.parseFile()
        return (syntax, lexer.diagnostics + parser.diagnostics)
    }

    private init(tokens: [Token], file: SourceFile) {
        self.tokens = tokens
        self.file = file
    }

    // MARK: Token access

    private var current: Token { tokens[position] }

    private func peek(_ ahead: Int = 1) -> Token { tokens[min(position + ahead, tokens.count - 1)] }

    @discardableResult
    private mutating func advance() -> Token {
        let token = tokens[position]
        if position < tokens.count - 1 { position += 1 }
        return token
    }

    private func isSymbol(_ symbol: Symbol) -> Bool { current.kind == .symbol(symbol) }
    private func isKeyword(_ keyword: Keyword) -> Bool { current.kind == .keyword(keyword) }
    private var atEnd: Bool { current.kind == .endOfFile }

    private mutating func expect(_ symbol: Symbol, _ context: String) -> Bool {
        if isSymbol(symbol) {
            advance()
            return true
        }
        error(.expectedToken, "expected `\(symbol.rawValue)` \(context), found \(describe(current))", at: current.span)
        return false
    }

    private mutating func error(_ id: MessageID, _ message: String, at span: SourceSpan, notes: [String] = []) {
        // One error per token position keeps recovery from cascading.
        if let last = diagnostics.last, last.span == span { return }
        diagnostics.append(Diagnostic(id, message, at: span, notes: notes))
    }

    private func describe(_ token: Token) -> String {
        switch token.kind {
        case .identifier(let name): "`\(name)`"
        case .keyword(let keyword): "`\(keyword.rawValue)`"
        case .integer, .duration: "a number"
        case .string, .typedString: "a string"
        case .symbol(let symbol): "`\(symbol.rawValue)`"
        case .endOfFile: "end of file"
        case .invalid: "an invalid token"
        }
    }

    /// Takes the comments of tokens in `range`, other than the first token's leading and the last
    /// token's trailing comment, so that nothing a person wrote is lost by the formatter.
    private mutating func claimInnerComments(from first: Int, to last: Int) -> [String] {
        guard first < last else { return [] }
        var comments: [String] = []
        for index in first...last {
            if index > first {
                comments += tokens[index].leadingComments
                tokens[index].leadingComments = []
            }
            if index < last, let trailing = tokens[index].trailingComment {
                comments.append(trailing)
                tokens[index].trailingComment = nil
            }
        }
        // Blank-line markers only matter before a declaration, not when comments move out of an expression.
        return comments.filter { !$0.isEmpty }
    }

    private mutating func claimLeading(_ index: Int) -> [String] {
        defer { tokens[index].leadingComments = [] }
        return tokens[index].leadingComments
    }

    private mutating func claimTrailing(_ index: Int) -> String? {
        defer { tokens[index].trailingComment = nil }
        return tokens[index].trailingComment
    }

    // MARK: Declarations

    private static let declarationStarts: Set<Keyword> = [.type, .input, .data, .entity, .def, .permit, .forbid]

    private var atDeclarationStart: Bool {
        if case .keyword(let keyword) = current.kind, Self.declarationStarts.contains(keyword) { return current.startsLine }
        return false
    }

    private mutating func parseFile() -> Syntax.File {
        var declarations: [Syntax.Declaration] = []
        while !atEnd {
            let start = position
            if let declaration = parseDeclaration() {
                declarations.append(declaration)
            }
            if position == start || !(atEnd || atDeclarationStart) {
                if position == start || diagnostics.isEmpty {
                    error(
                        .unexpectedToken, "expected a declaration, found \(describe(current))", at: current.span,
                        notes: ["help: declarations start with type, input, data, entity, def, permit or forbid"])
                }
                advance()
                while !atEnd && !atDeclarationStart { advance() }
            }
        }
        return Syntax.File(source: file, declarations: declarations, trailingComments: current.leadingComments)
    }

    private mutating func parseDeclaration() -> Syntax.Declaration? {
        guard case .keyword(let keyword) = current.kind else { return nil }
        let firstIndex = position
        let start = current.span
        let kind: Syntax.Declaration.Kind
        switch keyword {
        case .type:
            advance()
            guard let name = parseName("a type name") else { return nil }
            guard expect(.equal, "after the type name") else { return nil }
            guard let type = parseType() else { return nil }
            kind = .typeAlias(name, type)
        case .input:
            advance()
            guard let fields = parseFieldBlock() else { return nil }
            kind = .input(fields)
        case .data:
            advance()
            guard let name = parseName("a data name") else { return nil }
            guard expect(.colon, "after the data name") else { return nil }
            guard let type = parseType() else { return nil }
            kind = .data(name, type)
        case .entity:
            advance()
            guard let name = parseName("an entity type name") else { return nil }
            let fields = isSymbol(.lbrace) ? parseFieldBlock() : []
            guard let fields else { return nil }
            kind = .entity(name, fields)
        case .def:
            advance()
            guard let name = parseName("a definition name") else { return nil }
            guard let (body, _) = parseWhenBlock(required: true) else { return nil }
            kind = .definition(name, body)
        case .permit, .forbid:
            advance()
            guard let name = parseName("a rule name") else { return nil }
            var body: [Syntax.Statement] = []
            var closing: [String] = []
            if isKeyword(.when) {
                guard let (parsed, comments) = parseWhenBlock(required: true) else { return nil }
                body = parsed
                closing = comments
            }
            var obligations: [Syntax.Obligation] = []
            if isKeyword(.with) {
                guard let parsed = parseObligations() else { return nil }
                obligations = parsed
            }
            kind = .rule(
                Syntax.Rule(
                    effect: keyword == .permit ? .permit : .forbid, name: name, body: body,
                    obligations: obligations, closingComments: closing))
        default:
            return nil
        }
        let lastIndex = max(firstIndex, position - 1)
        let leading = claimLeading(firstIndex) + claimInnerComments(from: firstIndex, to: lastIndex)
        return Syntax.Declaration(
            kind: kind, span: start.union(tokens[lastIndex].span), leadingComments: leading,
            trailingComment: claimTrailing(lastIndex))
    }

    private mutating func parseName(_ what: String) -> Syntax.Name? {
        if case .identifier(let text) = current.kind {
            let token = advance()
            return Syntax.Name(text: text, span: token.span)
        }
        error(.expectedToken, "expected \(what), found \(describe(current))", at: current.span)
        return nil
    }

    /// A field or member name: keywords are allowed here, since claim names such as `type` are common.
    private mutating func parseMemberName() -> Syntax.Name? {
        switch current.kind {
        case .identifier(let text):
            return Syntax.Name(text: text, span: advance().span)
        case .keyword(let keyword):
            return Syntax.Name(text: keyword.rawValue, span: advance().span)
        default:
            error(.expectedToken, "expected an attribute name, found \(describe(current))", at: current.span)
            return nil
        }
    }

    private mutating func parseFieldBlock() -> [Syntax.FieldDecl]? {
        guard expect(.lbrace, "to open the field list") else { return nil }
        var fields: [Syntax.FieldDecl] = []
        while !isSymbol(.rbrace) && !atEnd {
            let firstIndex = position
            guard let name = parseMemberName() else { return nil }
            var optional = false
            if isSymbol(.question) {
                advance()
                optional = true
            }
            guard expect(.colon, "after the field name") else { return nil }
            guard let type = parseType() else { return nil }
            if isSymbol(.comma) { advance() }
            let lastIndex = position - 1
            let leading = claimLeading(firstIndex) + claimInnerComments(from: firstIndex, to: lastIndex)
            fields.append(
                Syntax.FieldDecl(
                    name: name, isOptional: optional, type: type, leadingComments: leading,
                    trailingComment: claimTrailing(lastIndex)))
        }
        guard expect(.rbrace, "to close the field list") else { return nil }
        return fields
    }

    private mutating func parseType() -> Syntax.TypeExpr? {
        guard enterNesting() else { return nil }
        defer { depth -= 1 }
        if isSymbol(.lbrace) {
            let start = current.span
            guard let fields = parseFieldBlock() else { return nil }
            return .record(fields, start.union(tokens[position - 1].span))
        }
        guard let name = parseName("a type") else { return nil }
        guard isSymbol(.less) else { return .named(name) }
        advance()
        var arguments: [Syntax.TypeExpr] = []
        repeat {
            if isSymbol(.comma) { advance() }
            guard let argument = parseType() else { return nil }
            arguments.append(argument)
        } while isSymbol(.comma)
        guard expect(.greater, "to close the type arguments") else { return nil }
        return .generic(name, arguments, name.span.union(tokens[position - 1].span))
    }

    private mutating func enterNesting() -> Bool {
        depth += 1
        if depth > Self.maximumDepth {
            error(.nestingTooDeep, "nesting is deeper than \(Self.maximumDepth) levels", at: current.span)
            // Skip the rest of the file: recovering inside a pathological nest only repeats the error.
            while !atEnd { advance() }
            depth -= 1
            return false
        }
        return true
    }

    /// `when { statements }`; returns the statements and the comments before the closing brace.
    private mutating func parseWhenBlock(required: Bool) -> ([Syntax.Statement], [String])? {
        guard isKeyword(.when) else {
            error(.expectedToken, "expected `when`, found \(describe(current))", at: current.span)
            return nil
        }
        advance()
        guard expect(.lbrace, "to open the condition block") else { return nil }
        var statements: [Syntax.Statement] = []
        while !isSymbol(.rbrace) && !atEnd {
            if atDeclarationStart { break }
            let firstIndex = position
            let before = diagnostics.count
            if let statement = parseStatement() {
                statements.append(statement)
            }
            if diagnostics.count > before || position == firstIndex {
                // Recover at the next line or the closing brace.
                if position == firstIndex { advance() }
                while !atEnd && !isSymbol(.rbrace) && !current.startsLine { advance() }
                continue
            }
            if isSymbol(.semicolon) {
                advance()
            } else if !isSymbol(.rbrace) && !current.startsLine && !atEnd {
                error(
                    .expectedToken, "expected a new line, `;` or `}` after the condition, found \(describe(current))",
                    at: current.span)
                while !atEnd && !isSymbol(.rbrace) && !current.startsLine { advance() }
            }
        }
        let closing = claimLeading(position)
        guard expect(.rbrace, "to close the condition block") else { return nil }
        return (statements, closing)
    }

    private mutating func parseStatement() -> Syntax.Statement? {
        let firstIndex = position
        let kind: Syntax.Statement.Kind
        if isKeyword(.let) {
            advance()
            guard let name = parseName("a binding name") else { return nil }
            guard expect(.equal, "after the binding name") else { return nil }
            kind = .binding(name, parseExpression())
        } else {
            kind = .condition(parseExpression())
        }
        let lastIndex = max(firstIndex, position - 1)
        let leading = claimLeading(firstIndex) + claimInnerComments(from: firstIndex, to: lastIndex)
        return Syntax.Statement(
            kind: kind, span: tokens[firstIndex].span.union(tokens[lastIndex].span),
            leadingComments: leading, trailingComment: claimTrailing(lastIndex))
    }

    private mutating func parseObligations() -> [Syntax.Obligation]? {
        advance()  // with
        guard expect(.lbrace, "to open the obligations") else { return nil }
        var obligations: [Syntax.Obligation] = []
        while !isSymbol(.rbrace) && !atEnd {
            let firstIndex = position
            guard let name = parseMemberName() else { return nil }
            guard expect(.equal, "after the obligation name") else { return nil }
            let value = parseExpression()
            if isSymbol(.comma) || isSymbol(.semicolon) { advance() }
            let lastIndex = position - 1
            let leading = claimLeading(firstIndex) + claimInnerComments(from: firstIndex, to: lastIndex)
            obligations.append(
                Syntax.Obligation(
                    name: name, value: value, leadingComments: leading,
                    trailingComment: claimTrailing(lastIndex)))
        }
        guard expect(.rbrace, "to close the obligations") else { return nil }
        return obligations
    }

    // MARK: Expressions

    mutating func parseExpression(minimumPrecedence: Int = 0) -> Syntax.Expr {
        guard enterNesting() else { return Syntax.Expr(.error, current.span) }
        defer { depth -= 1 }
        var left = parseUnary()
        while let op = binaryOperator(), op.precedence >= minimumPrecedence {
            advance()
            let right = parseExpression(minimumPrecedence: op.precedence + 1)
            left = Syntax.Expr(.binary(op, left, right), left.span.union(right.span))
        }
        return left
    }

    private func binaryOperator() -> Syntax.BinaryOperator? {
        switch current.kind {
        case .keyword(.and): .and
        case .keyword(.or): .or
        case .keyword(.in): .in
        case .keyword(.matches): .matches
        case .symbol(.equalEqual): .equal
        case .symbol(.notEqual): .notEqual
        case .symbol(.less): .less
        case .symbol(.lessEqual): .lessEqual
        case .symbol(.greater): .greater
        case .symbol(.greaterEqual): .greaterEqual
        case .symbol(.plus): .plus
        // A `-` that starts a line begins a new condition rather than continuing this one.
        case .symbol(.minus) where !current.startsLine: .minus
        default: nil
        }
    }

    private mutating func parseUnary() -> Syntax.Expr {
        let start = current.span
        if isKeyword(.not) {
            advance()
            guard enterNesting() else { return Syntax.Expr(.error, start) }
            defer { depth -= 1 }
            let operand = parseExpression(minimumPrecedence: 3)
            return Syntax.Expr(.unary(.not, operand), start.union(operand.span))
        }
        if isSymbol(.minus) {
            advance()
            guard enterNesting() else { return Syntax.Expr(.error, start) }
            defer { depth -= 1 }
            let operand = parseUnary()
            return Syntax.Expr(.unary(.negate, operand), start.union(operand.span))
        }
        return parsePostfix(parsePrimary())
    }

    private mutating func parsePostfix(_ base: Syntax.Expr) -> Syntax.Expr {
        var expression = base
        while true {
            if isSymbol(.dot) {
                advance()
                guard let name = parseMemberName() else { return Syntax.Expr(.error, expression.span) }
                expression = Syntax.Expr(.member(expression, name), expression.span.union(name.span))
            } else if isSymbol(.lbracket), !current.startsLine {
                advance()
                let index = parseExpression()
                let end = current.span
                _ = expect(.rbracket, "to close the index")
                expression = Syntax.Expr(.index(expression, index), expression.span.union(end))
            } else {
                return expression
            }
        }
    }

    private mutating func parseList(closing: Symbol) -> [Syntax.Expr] {
        var elements: [Syntax.Expr] = []
        while !isSymbol(closing) && !atEnd {
            elements.append(parseExpression())
            if isSymbol(.comma) { advance() } else { break }
        }
        _ = expect(closing, "to close the list")
        return elements
    }

    private mutating func parsePrimary() -> Syntax.Expr {
        let token = current
        switch token.kind {
        case .keyword(.true):
            advance()
            return Syntax.Expr(.bool(true), token.span)
        case .keyword(.false):
            advance()
            return Syntax.Expr(.bool(false), token.span)
        case .integer(let value):
            advance()
            return Syntax.Expr(.integer(value), token.span)
        case .duration(let value, let text):
            advance()
            return Syntax.Expr(.duration(value, text), token.span)
        case .string(let value):
            advance()
            return Syntax.Expr(.string(value), token.span)
        case .typedString(let prefix, let value):
            advance()
            return Syntax.Expr(.typed(prefix: prefix, value: value), token.span)
        case .identifier(let text):
            advance()
            let name = Syntax.Name(text: text, span: token.span)
            if isSymbol(.lparen), !current.startsLine {
                advance()
                let arguments = parseList(closing: .rparen)
                return Syntax.Expr(.call(name, arguments), token.span.union(tokens[position - 1].span))
            }
            return Syntax.Expr(.name(text), token.span)
        case .keyword(.input), .keyword(.data):
            // `data.x` names bundle data; `input` is not an expression but may be written by habit.
            advance()
            let text = token.kind == .keyword(.data) ? "data" : "input"
            return Syntax.Expr(.name(text), token.span)
        case .keyword(.has):
            advance()
            let operand = parsePostfix(parsePrimary())
            return Syntax.Expr(.has(operand), token.span.union(operand.span))
        case .keyword(.any), .keyword(.all):
            advance()
            let quantifier: Syntax.Quantifier = token.kind == .keyword(.any) ? .any : .all
            guard let variable = parseName("a variable name") else { return Syntax.Expr(.error, token.span) }
            guard isKeyword(.in) else {
                error(.expectedToken, "expected `in` after the variable, found \(describe(current))", at: current.span)
                return Syntax.Expr(.error, token.span)
            }
            advance()
            let domain = parseExpression(minimumPrecedence: 5)
            guard expect(.colon, "before the condition of `\(quantifier.rawValue)`") else { return Syntax.Expr(.error, token.span) }
            let body = parseExpression()
            return Syntax.Expr(.quantifier(quantifier, variable, domain, body), token.span.union(body.span))
        case .keyword(.if):
            advance()
            let condition = parseExpression()
            guard isKeyword(.then) else {
                error(.expectedToken, "expected `then`, found \(describe(current))", at: current.span)
                return Syntax.Expr(.error, token.span)
            }
            advance()
            let then = parseExpression()
            guard isKeyword(.else) else {
                error(.expectedToken, "expected `else`, found \(describe(current))", at: current.span)
                return Syntax.Expr(.error, token.span)
            }
            advance()
            let otherwise = parseExpression()
            return Syntax.Expr(.conditional(condition, then, otherwise), token.span.union(otherwise.span))
        case .symbol(.lparen):
            advance()
            let inner = parseExpression()
            let end = current.span
            _ = expect(.rparen, "to close the parenthesis")
            return Syntax.Expr(.parenthesized(inner), token.span.union(end))
        case .symbol(.lbracket):
            advance()
            let elements = parseList(closing: .rbracket)
            return Syntax.Expr(.list(elements), token.span.union(tokens[position - 1].span))
        case .symbol(.lbrace):
            advance()
            let elements = parseList(closing: .rbrace)
            return Syntax.Expr(.set(elements), token.span.union(tokens[position - 1].span))
        case .invalid:
            advance()
            return Syntax.Expr(.error, token.span)
        default:
            error(.expectedExpression, "expected an expression, found \(describe(token))", at: token.span)
            return Syntax.Expr(.error, token.span)
        }
    }
}
