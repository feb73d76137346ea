/// A compiled glob for key paths: `*` matches within one `/`-separated segment, `**` across segments,
/// `?` one character. Matching is linear-time backtracking over at most two stars' positions.
struct Glob: Hashable, Sendable {
    enum Piece: Hashable, Sendable { case literal([UInt8]), any, star, globstar }
    let pattern: String
    let pieces: [Piece]

    init(_ pattern: String) {
        self.pattern = pattern
        var pieces: [Piece] = []
        var literal: [UInt8] = []
        let bytes = Array(pattern.utf8)
        var index = 0
        func flush() {
            if !literal.isEmpty { pieces.append(.literal(literal)); literal = [] }
        }
        while index < bytes.count {
            let byte = bytes[index]
            if byte == UInt8(ascii: "*") {
                flush()
                if index + 1 < bytes.count, bytes[index + 1] == UInt8(ascii: "*") {
                    pieces.append(.globstar)
                    index += 2
                } else {
                    pieces.append(.star)
                    index += 1
                }
            } else if byte == UInt8(ascii: "?") {
                flush()
                pieces.append(.any)
                index += 1
            } else {
                literal.append(byte)
                index += 1
            }
        }
        flush()
        self.pieces = pieces
    }

    func matches(_ text: String) -> Bool {
        var text = text
        return text.withUTF8 { matches(Array($0)[...], pieceIndex: 0) }
    }

    private func matches(_ text: ArraySlice<UInt8>, pieceIndex: Int) -> Bool {
        var text = text
        var index = pieceIndex
        while index < pieces.count {
            switch pieces[index] {
            case .literal(let literal):
                guard text.starts(with: literal) else { return false }
                text = text.dropFirst(literal.count)
            case .any:
                guard let first = text.first, first != UInt8(ascii: "/") else { return false }
                text = text.dropFirst()
            case .star, .globstar:
                let crossesSlash = pieces[index] == .globstar
                var candidate = text
                while true {
                    if matches(candidate, pieceIndex: index + 1) { return true }
                    guard let first = candidate.first, crossesSlash || first != UInt8(ascii: "/") else { return false }
                    candidate = candidate.dropFirst()
                }
            }
            index += 1
        }
        return text.isEmpty
    }
}
