/// The syntax tree of policy files. Every node keeps its span; equality of nodes ignores spans.
public enum Syntax {}

extension Syntax {
    /// A name with its span.
    struct Name: Sendable {
        var text: String
        var span: SourceSpan
        var leadingComments: [String] = []
        var trailingComment: String?
    }

    /// One parsed policy file.
    struct File: Sendable {
        var source: SourceFile
        var declarations: [Declaration]
        /// Comments after the last declaration.
        var trailingComments: [String]
    }

    /// A top-level declaration.
    struct Declaration: Sendable {
        enum Kind: Sendable {
            /// `type Name = T`
            case typeAlias(Name, TypeExpr)
            /// `input { fields }`
            case input([FieldDecl])
            /// `data name: T`, loaded from `name.json` in the bundle.
            case data(Name, TypeExpr)
            /// `entity Name { fields }`
            case entity(Name, [FieldDecl])
            /// `def name when { … }`, a named condition other rules can use.
            case definition(Name, [Statement])
            /// `permit name when { … } with { … }` or `forbid …`
            case rule(Rule)
        }

        var kind: Kind
        var span: SourceSpan
        var leadingComments: [String]
        var trailingComment: String?
    }

    /// A permit or forbid rule.
    struct Rule: Sendable {
        enum Effect: String, Sendable { case permit, forbid }
        var effect: Effect
        var name: Name
        var body: [Statement]
        var obligations: [Obligation]
        /// Comments that stood after the last statement, before `}`.
        var closingComments: [String] = []
    }

    /// `name = expr` inside `with { … }`.
    struct Obligation: Sendable {
        var name: Name
        var value: Expr
        var leadingComments: [String]
        var trailingComment: String?
    }

    /// A field of a record type or of the input.
    struct FieldDecl: Sendable {
        var name: Name
        var isOptional: Bool
        var type: TypeExpr
        var leadingComments: [String]
        var trailingComment: String?
    }

    /// One line of a `when` block: a condition, or a let-binding for the lines after it.
    struct Statement: Sendable {
        enum Kind: Sendable {
            case condition(Expr)
            case binding(Name, Expr)
        }
        var kind: Kind
        var span: SourceSpan
        var leadingComments: [String]
        var trailingComment: String?
    }

    /// A type as written.
    indirect enum TypeExpr: Sendable {
        case named(Name)
        case generic(Name, [TypeExpr], SourceSpan)
        case record([FieldDecl], SourceSpan)

        var span: SourceSpan {
            switch self {
            case .named(let name): name.span
            case .generic(_, _, let span), .record(_, let span): span
            }
        }
    }

    /// An expression.
    final class Expr: Sendable {
        enum Kind: Sendable {
            case bool(Bool)
            case integer(Int64)
            case duration(Int64, String)
            case string(String)
            case typed(prefix: String, value: String)
            case name(String)
            case member(Expr, Name)
            case index(Expr, Expr)
            case call(Name, [Expr])
            case list([Expr])
            case set([Expr])
            case unary(UnaryOperator, Expr)
            case binary(BinaryOperator, Expr, Expr)
            case has(Expr)
            case quantifier(Quantifier, Name, Expr, Expr)
            case conditional(Expr, Expr, Expr)
            case parenthesized(Expr)
            /// Stands in for an expression that failed to parse; the parser has reported why.
            case error
        }

        let kind: Kind
        let span: SourceSpan

        init(_ kind: Kind, _ span: SourceSpan) {
            self.kind = kind
            self.span = span
        }
    }

    enum UnaryOperator: String, Sendable {
        case not
        case negate = "-"
    }

    enum BinaryOperator: String, Sendable {
        case and, or
        case equal = "=="
        case notEqual = "!="
        case less = "<"
        case lessEqual = "<="
        case greater = ">"
        case greaterEqual = ">="
        case `in`, matches
        case plus = "+"
        case minus = "-"

        /// Binding strength: higher binds tighter.
        var precedence: Int {
            switch self {
            case .or: 1
            case .and: 2
            case .equal, .notEqual, .less, .lessEqual, .greater, .greaterEqual, .in, .matches: 4
            case .plus, .minus: 5
            }
        }
    }

    enum Quantifier: String, Sendable { case any, all }
}
