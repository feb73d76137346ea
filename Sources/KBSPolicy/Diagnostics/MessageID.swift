/// A stable diagnostic code. Codes never change meaning once shipped; retired codes are not reused.
///
/// The catalogue below is alphabetical by name.
public struct MessageID: Sendable, Hashable {
    /// The code printed in brackets, e.g. `E0201`.
    public let code: String
    /// A short name for documentation.
    public let name: String

    init(_ code: String, _ name: String) {
        self.code = code
        self.name = name
    }

    /// Equal when the codes are equal.
    public static func == (lhs: MessageID, rhs: MessageID) -> Bool { lhs.code == rhs.code }
    /// Hashes the code alone, to agree with `==`.
    public func hash(into hasher: inout Hasher) { hasher.combine(code) }
}

extension MessageID {
    static let argumentCount = MessageID("E0307", "argument-count")
    static let dataFileInvalid = MessageID("E0402", "data-file-invalid")
    static let dataFileMissing = MessageID("E0401", "data-file-missing")
    static let duplicateDeclaration = MessageID("E0205", "duplicate-declaration")
    static let duplicateField = MessageID("E0206", "duplicate-field")
    static let entityUnknown = MessageID("E0207", "unknown-entity-type")
    static let expectedExpression = MessageID("E0102", "expected-expression")
    static let expectedToken = MessageID("E0101", "expected-token")
    static let fileTooLarge = MessageID("E0004", "file-too-large")
    static let functionUnknown = MessageID("E0208", "unknown-function")
    static let inputMissing = MessageID("E0403", "input-schema-missing")
    static let invalidCharacter = MessageID("E0001", "invalid-character")
    static let invalidLiteral = MessageID("E0003", "invalid-literal")
    static let invalidPattern = MessageID("E0308", "invalid-pattern")
    static let nestingTooDeep = MessageID("E0005", "nesting-too-deep")
    static let nonConstant = MessageID("E0309", "not-constant")
    static let notOrdered = MessageID("E0303", "not-ordered")
    static let optionalUnguarded = MessageID("E0305", "optional-unguarded")
    static let recursiveDefinition = MessageID("E0209", "recursive-definition")
    static let runtime = MessageID("E0500", "runtime-error")
    static let typeMismatch = MessageID("E0301", "type-mismatch")
    static let unexpectedToken = MessageID("E0103", "unexpected-token")
    static let unknownAttribute = MessageID("E0201", "unknown-attribute")
    static let unknownName = MessageID("E0202", "unknown-name")
    static let unknownType = MessageID("E0203", "unknown-type")
    static let unterminatedString = MessageID("E0002", "unterminated-string")
    static let unusedBinding = MessageID("W0101", "unused-binding")
    static let notIterable = MessageID("E0304", "not-iterable")
    static let notARecord = MessageID("E0302", "not-a-record")
    static let hasNeedsAttribute = MessageID("E0306", "has-needs-attribute")
    static let caseInvalid = MessageID("E0601", "test-case-invalid")
}
