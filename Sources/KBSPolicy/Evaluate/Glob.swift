/// A compiled glob for key paths: `*` matches within one `/`-separated segment, `**` across segments,
/// `?` one character other than `/`.
struct Glob: Hashable, Sendable {
    enum Piece: Hashable, Sendable {
        case literal([UInt8])
        case any, star, globstar
    }
    let pattern: String
    let pieces: [Piece]

    init(_ pattern: String) {
        self.pattern = pattern
        var pieces: [Piece] = []
        var literal: [UInt8] = []
        let bytes = Array(pattern.utf8)
        var index = 0
        func flush() {
            if !literal.isEmpty {
                pieces.append(.literal(literal))
                literal = []
            }
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

    /// Matches in O(pieces × length) time by dynamic programming, so even a pattern full of stars
    /// against a long path cannot blow up.
    func matches(_ text: String) -> Bool {
        let bytes = Array(text.utf8)
        let n = bytes.count
        // reachable[i]: the pieces so far can consume exactly bytes[0..<i].
        var reachable = [Bool](repeating: false, count: n + 1)
        reachable[0] = true
        for piece in pieces {
            var next = [Bool](repeating: false, count: n + 1)
            switch piece {
            case .literal(let literal):
                for i in 0...n where reachable[i] && i + literal.count <= n && bytes[i..<i + literal.count].elementsEqual(literal) {
                    next[i + literal.count] = true
                }
            case .any:
                // One whole UTF-8 character, never a `/`.
                for i in 0..<n where reachable[i] && bytes[i] != UInt8(ascii: "/") && bytes[i] & 0xC0 != 0x80 {
                    var end = i + 1
                    while end < n, bytes[end] & 0xC0 == 0x80 { end += 1 }
                    next[end] = true
                }
            case .star, .globstar:
                let crossesSlash = piece == .globstar
                var carrying = false
                for i in 0...n {
                    if reachable[i] { carrying = true }
                    if carrying { next[i] = true }
                    if i < n, !crossesSlash, bytes[i] == UInt8(ascii: "/") { carrying = false }
                }
            }
            reachable = next
        }
        return reachable[n]
    }
}
