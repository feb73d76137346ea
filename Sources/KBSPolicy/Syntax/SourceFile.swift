/// One policy or data file as UTF-8 bytes, with a table of line starts built when it is created.
public final class SourceFile: Sendable {
    /// The path shown in diagnostics.
    public let path: String
    /// The whole contents.
    public let text: String
    let bytes: [UInt8]
    private let lineStarts: [Int]

    /// Creates a source file from its path and contents.
    public init(path: String, text: String) {
        self.path = path
        self.text = text
        self.bytes = Array(text.utf8)
        var starts = [0]
        for (offset, byte) in bytes.enumerated() where byte == UInt8(ascii: "\n") {
            starts.append(offset + 1)
        }
        self.lineStarts = starts
    }

    /// The 1-based line and column (in characters) of a byte offset.
    public func location(of offset: Int) -> (line: Int, column: Int) {
        let clamped = min(max(offset, 0), bytes.count)
        var low = 0
        var high = lineStarts.count - 1
        while low < high {
            let mid = (low + high + 1) / 2
            if lineStarts[mid] <= clamped { low = mid } else { high = mid - 1 }
        }
        let lineStart = lineStarts[low]
        let column = String(decoding: bytes[lineStart..<clamped], as: UTF8.self).count + 1
        return (low + 1, column)
    }

    /// The text of a 1-based line, without its newline.
    public func line(_ number: Int) -> String {
        guard number >= 1, number <= lineStarts.count else { return "" }
        let start = lineStarts[number - 1]
        var end = number < lineStarts.count ? lineStarts[number] - 1 : bytes.count
        if end > start, bytes[end - 1] == UInt8(ascii: "\r") { end -= 1 }
        return String(decoding: bytes[start..<max(start, end)], as: UTF8.self)
    }

    /// The source text a span covers.
    func text(of span: SourceSpan) -> String {
        String(decoding: bytes[span.start..<min(span.end, bytes.count)], as: UTF8.self)
    }
}

/// A range of UTF-8 bytes in one source file.
///
/// Spans never take part in equality of syntax nodes; they only locate diagnostics.
public struct SourceSpan: Sendable, Hashable {
    /// The file the span lies in.
    public var file: SourceFile
    /// Byte offset of the first byte, from 0.
    public var start: Int
    /// Byte offset just past the last byte.
    public var end: Int

    /// Creates a span from byte offsets.
    public init(file: SourceFile, start: Int, end: Int) {
        self.file = file
        self.start = start
        self.end = end
    }

    /// The smallest span covering both.
    func union(_ other: SourceSpan) -> SourceSpan {
        SourceSpan(file: file, start: min(start, other.start), end: max(end, other.end))
    }

    /// `path:line:col` of the start.
    public var position: String {
        let (line, column) = file.location(of: start)
        return "\(file.path):\(line):\(column)"
    }

    /// Equal when in the same file object at the same offsets.
    public static func == (lhs: SourceSpan, rhs: SourceSpan) -> Bool {
        lhs.file === rhs.file && lhs.start == rhs.start && lhs.end == rhs.end
    }

    /// Hashes the file's identity and the offsets, to agree with `==`.
    public func hash(into hasher: inout Hasher) {
        hasher.combine(ObjectIdentifier(file))
        hasher.combine(start)
        hasher.combine(end)
    }
}
