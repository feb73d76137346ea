/// A lexical token with its span and the comments around it.
struct Token: Sendable {
    enum Kind: Equatable, Sendable {
        case identifier(String)
        case keyword(Keyword)
        case integer(Int64)
        /// An integer followed by a unit, in nanoseconds; the original text is kept for the formatter.
        case duration(Int64, String)
        case string(String)
        /// A literal such as `hex"ab01"`, `v"1.2.3"`, `time"2026-01-01T00:00:00Z"` or `tier"hsm"`.
        case typedString(prefix: String, value: String)
        case symbol(Symbol)
        case endOfFile
        /// Something the lexer could not read; it has already reported a diagnostic.
        case invalid
    }

    var kind: Kind
    var span: SourceSpan
    /// Whether a line break separates this token from the one before it.
    var startsLine: Bool
    /// Comments on the lines before this token, in order.
    var leadingComments: [String] = []
    /// A comment after this token on the same line.
    var trailingComment: String?
}

/// The reserved words of the policy language.
enum Keyword: String, CaseIterable, Sendable {
    case type, input, data, entity, def, permit, forbid, when, with, `let`
    case and, or, not, `in`, has, any, all, `if`, then, `else`, matches
    case `true`, `false`
}

/// Punctuation and operators.
enum Symbol: String, CaseIterable, Sendable {
    case lbrace = "{"
    case rbrace = "}"
    case lparen = "("
    case rparen = ")"
    case lbracket = "["
    case rbracket = "]"
    case comma = ","
    case colon = ":"
    case semicolon = ";"
    case dot = "."
    case question = "?"
    case at = "@"
    case equal = "="
    case equalEqual = "=="
    case notEqual = "!="
    case less = "<"
    case lessEqual = "<="
    case greater = ">"
    case greaterEqual = ">="
    case plus = "+"
    case minus = "-"
}
