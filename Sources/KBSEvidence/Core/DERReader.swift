import KBSClaims

/// A minimal, bounded DER reader for the few certificate structures verifiers read themselves (AMD VEK extension
/// values, the PCK SGX extension, the DICE TcbInfo FWID).
///
/// Only low-tag-number forms and definite lengths are accepted; every read is checked, and nesting is bounded by the
/// caller walking it, so hostile input gives `malformed`, never a trap.
struct DERReader {
    /// One tag-length-value element.
    struct Element {
        var tag: UInt8
        var content: ArraySlice<UInt8>
    }

    private let bytes: ArraySlice<UInt8>
    private var offset: Int
    let what: String

    init(_ bytes: ArraySlice<UInt8>, what: String) {
        self.bytes = bytes
        self.offset = bytes.startIndex
        self.what = what
    }

    var isAtEnd: Bool { offset >= bytes.endIndex }

    /// Reads the next element.
    mutating func next() throws(EvidenceError) -> Element {
        guard offset < bytes.endIndex else { throw EvidenceError(.malformed, "\(what): DER ends early") }
        let tag = bytes[offset]
        guard tag & 0x1F != 0x1F else { throw EvidenceError(.malformed, "\(what): high-number DER tags are not expected") }
        offset += 1
        guard offset < bytes.endIndex else { throw EvidenceError(.malformed, "\(what): DER length missing") }
        let first = bytes[offset]
        offset += 1
        var length = 0
        if first < 0x80 {
            length = Int(first)
        } else {
            let count = Int(first & 0x7F)
            // Four length bytes are far beyond any certificate; indefinite (0x80) is not DER.
            guard count >= 1, count <= 4, bytes.endIndex - offset >= count else {
                throw EvidenceError(.malformed, "\(what): bad DER length")
            }
            for _ in 0..<count {
                length = length << 8 | Int(bytes[offset])
                offset += 1
            }
        }
        guard length <= bytes.endIndex - offset else { throw EvidenceError(.malformed, "\(what): DER element overruns its container") }
        let content = bytes[offset..<offset + length]
        offset += length
        return Element(tag: tag, content: content)
    }

    /// Reads the next element and requires `tag`.
    mutating func next(tag: UInt8) throws(EvidenceError) -> Element {
        let element = try next()
        guard element.tag == tag else {
            throw EvidenceError(.malformed, "\(what): expected DER tag 0x\(Hex.encode([tag])), found 0x\(Hex.encode([element.tag]))")
        }
        return element
    }

    static let sequence: UInt8 = 0x30
    static let objectIdentifier: UInt8 = 0x06
    static let integer: UInt8 = 0x02
    static let octetString: UInt8 = 0x04
    static let enumerated: UInt8 = 0x0A

    /// The dotted text of an OBJECT IDENTIFIER's content.
    static func oid(_ content: ArraySlice<UInt8>, what: String) throws(EvidenceError) -> String {
        guard !content.isEmpty, content.count <= 64 else { throw EvidenceError(.malformed, "\(what): bad OID length") }
        var arcs: [UInt64] = []
        var value: UInt64 = 0
        var pending = false
        for byte in content {
            guard value >> 56 == 0 else { throw EvidenceError(.malformed, "\(what): OID arc too large") }
            value = value << 7 | UInt64(byte & 0x7F)
            pending = true
            if byte & 0x80 == 0 {
                arcs.append(value)
                value = 0
                pending = false
            }
        }
        guard !pending, let first = arcs.first else { throw EvidenceError(.malformed, "\(what): OID ends mid-arc") }
        let head: [UInt64] = first < 40 ? [0, first] : first < 80 ? [1, first - 40] : [2, first - 80]
        return (head + arcs.dropFirst()).map(String.init).joined(separator: ".")
    }

    /// A non-negative INTEGER or ENUMERATED content that fits 63 bits.
    static func unsigned(_ content: ArraySlice<UInt8>, what: String) throws(EvidenceError) -> Int64 {
        guard !content.isEmpty, let first = content.first, first & 0x80 == 0 else {
            throw EvidenceError(.malformed, "\(what): expected a non-negative DER integer")
        }
        let significant = content.drop { $0 == 0 }
        guard significant.count <= 7 || (significant.count == 8 && (significant.first ?? 0) < 0x80) else {
            throw EvidenceError(.malformed, "\(what): DER integer too large")
        }
        return significant.reduce(Int64(0)) { $0 << 8 | Int64($1) }
    }
}
