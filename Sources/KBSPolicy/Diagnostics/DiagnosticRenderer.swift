/// Renders diagnostics the way compilers do: the headline, then the source line with carets.
public enum DiagnosticRenderer {
    /// The full text for a list of diagnostics, in display order.
    public static func render(_ diagnostics: [Diagnostic]) -> String {
        diagnostics.sortedForDisplay().map(render).joined(separator: "\n")
    }

    /// The text for one diagnostic: headline, `N | source`, carets and notes.
    public static func render(_ diagnostic: Diagnostic) -> String {
        var lines = [diagnostic.headline]
        var notePad = " "
        if let span = diagnostic.span {
            let (line, column) = span.file.location(of: span.start)
            let (endLine, endColumn) = span.file.location(of: max(span.start, span.end))
            let source = span.file.line(line)
            let gutter = String(line)
            let pad = String(repeating: " ", count: gutter.count)
            let width = endLine == line ? max(1, endColumn - column) : max(1, source.count - column + 1)
            notePad = pad
            lines.append("\(pad) |")
            lines.append("\(gutter) | \(source)")
            lines.append("\(pad) | " + String(repeating: " ", count: column - 1) + String(repeating: "^", count: width))
        }
        for note in diagnostic.notes {
            lines.append("\(notePad) = \(note)")
        }
        return lines.joined(separator: "\n") + "\n"
    }
}

/// Suggests the closest known name for a misspelt one.
enum Suggestion {
    /// The candidate nearest to `name` by edit distance, if it is near enough to be a likely typo.
    static func closest(to name: String, in candidates: some Sequence<String>) -> String? {
        let limit = max(1, name.count / 3)
        var best: (String, Int)?
        for candidate in candidates {
            let distance = editDistance(name, candidate)
            if distance <= limit, distance < (best?.1 ?? .max) { best = (candidate, distance) }
        }
        return best?.0
    }

    /// Levenshtein distance over characters.
    static func editDistance(_ a: String, _ b: String) -> Int {
        let a = Array(a)
        let b = Array(b)
        if a.isEmpty { return b.count }
        if b.isEmpty { return a.count }
        var previous = Array(0...b.count)
        var current = [Int](repeating: 0, count: b.count + 1)
        for i in 1...a.count {
            current[0] = i
            for j in 1...b.count {
                current[j] = min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + (a[i - 1] == b[j - 1] ? 0 : 1))
            }
            swap(&previous, &current)
        }
        return previous[b.count]
    }

    /// A `help:` note for a suggestion, or nothing.
    static func note(_ suggestion: String?) -> [String] {
        suggestion.map { ["help: did you mean `\($0)`?"] } ?? []
    }
}
