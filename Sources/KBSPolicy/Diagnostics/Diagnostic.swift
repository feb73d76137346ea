/// A problem found in a policy bundle, located like a compiler error.
public struct Diagnostic: Sendable, Hashable, Error {
    /// How bad it is.
    public enum Severity: String, Sendable, Hashable, Comparable {
        case error, warning, note

        /// Orders errors before warnings before notes.
        public static func < (lhs: Severity, rhs: Severity) -> Bool {
            let order: [Severity] = [.error, .warning, .note]
            return order.firstIndex(of: lhs)! < order.firstIndex(of: rhs)!
        }
    }

    /// Error, warning or note.
    public var severity: Severity
    /// The stable code, e.g. `E0201`.
    public var id: MessageID
    /// One line saying what is wrong, without location or code.
    public var message: String
    /// Where; absent for problems with a whole bundle (a missing file, say).
    public var span: SourceSpan?
    /// The file the problem is about: as given, else the span's file.
    public var path: String?
    /// Extra lines such as `help: did you mean `debug`?`.
    public var notes: [String]

    /// Creates an error.
    public init(_ id: MessageID, _ message: String, at span: SourceSpan?, path: String? = nil, notes: [String] = []) {
        self.init(.error, id, message, at: span, path: path, notes: notes)
    }

    /// Creates a diagnostic.
    public init(
        _ severity: Severity, _ id: MessageID, _ message: String, at span: SourceSpan?,
        path: String? = nil, notes: [String] = []
    ) {
        self.severity = severity
        self.id = id
        self.message = message
        self.span = span
        self.path = path ?? span?.file.path
        self.notes = notes
    }

    /// `file:line:col: error[CODE]: message`, the first line of the rendered form.
    public var headline: String {
        let place = span?.position ?? path ?? "<bundle>"
        return "\(place): \(severity.rawValue)[\(id.code)]: \(message)"
    }

    /// The sort key: file, then offset, then code.
    var sortKey: (String, Int, String) {
        (path ?? "", span?.start ?? -1, id.code)
    }
}

extension [Diagnostic] {
    /// Diagnostics in file and position order, with exact duplicates removed.
    public func sortedForDisplay() -> [Diagnostic] {
        var seen = Set<Diagnostic>()
        return filter { seen.insert($0).inserted }.sorted { $0.sortKey < $1.sortKey }
    }

    /// Whether any of them is an error.
    public var hasErrors: Bool { contains { $0.severity == .error } }
}
