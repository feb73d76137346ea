import KBSClaims

/// Reads the members of TPM and Azure vTPM evidence JSON, whose byte fields come as base64, hex, or arrays of
/// numbers depending on the attester version. Every failure is `malformed`.
enum TPMEvidenceJSON {
    /// The largest evidence document accepted (the largest real one, Azure v0, is about 40 KB).
    static let maximumDocument = 1 << 20

    /// How a byte field is written.
    enum Encoding {
        /// Standard or URL-safe base64, padded or not.
        case base64
        case hex
        /// An array of numbers 0…255 (serde's default for `Vec<u8>`).
        case numbers
    }

    static func parse(_ bytes: [UInt8], what: String) throws(EvidenceError) -> JSONNode {
        guard !bytes.isEmpty else { throw EvidenceError(.malformed, "\(what) is empty") }
        guard bytes.count <= maximumDocument else {
            throw EvidenceError(.malformed, "\(what) is \(bytes.count) bytes, more than \(maximumDocument)")
        }
        let root: JSONNode
        do { root = try JSONNode.parse(bytes) } catch {
            throw EvidenceError(.malformed, "\(what) is not JSON: \(error.message) at byte \(error.offset)")
        }
        guard root.kind == .object else { throw EvidenceError(.malformed, "\(what) is \(root.kindName), not an object") }
        return root
    }

    static func member(_ node: JSONNode, _ key: String, in what: String) throws(EvidenceError) -> JSONNode {
        guard node.kind == .object else { throw EvidenceError(.malformed, "\(what) is \(node.kindName), not an object") }
        guard let value = node[key] else { throw EvidenceError(.malformed, "\(what) has no `\(key)`") }
        return value
    }

    static func string(_ node: JSONNode, what: String) throws(EvidenceError) -> String {
        guard let text = node.stringValue else { throw EvidenceError(.malformed, "\(what) is \(node.kindName), not a string") }
        return text
    }

    /// The bytes of `node`, written as `encoding`; at most `limit` bytes.
    static func bytes(_ node: JSONNode, _ encoding: Encoding, what: String, limit: Int) throws(EvidenceError) -> [UInt8] {
        let result: [UInt8]
        switch encoding {
        case .numbers:
            guard case .array(let elements) = node.value else {
                throw EvidenceError(.malformed, "\(what) is \(node.kindName), not an array of bytes")
            }
            guard elements.count <= limit else { throw EvidenceError(.malformed, "\(what) has more than \(limit) bytes") }
            var out: [UInt8] = []
            out.reserveCapacity(elements.count)
            for element in elements {
                guard case .number(let integer?, _) = element.value, let byte = UInt8(exactly: integer) else {
                    throw EvidenceError(.malformed, "\(what) holds something other than a number 0…255")
                }
                out.append(byte)
            }
            result = out
        case .hex, .base64:
            let text = try string(node, what: what)
            // Both encodings take at least one character per byte; refuse the text before decoding it.
            guard text.utf8.count <= 2 * limit + 4 else { throw EvidenceError(.malformed, "\(what) has more than \(limit) bytes") }
            guard let decoded = encoding == .hex ? Hex.decode(text, prefix: .allowed) : Base64URL.decodeLenient(text) else {
                throw EvidenceError(.malformed, "\(what) is not \(encoding == .hex ? "hex" : "base64")")
            }
            guard decoded.count <= limit else { throw EvidenceError(.malformed, "\(what) has more than \(limit) bytes") }
            result = decoded
        }
        return result
    }

    /// A list of SHA-256 PCR values: each an array of 32 numbers or 64 hex digits.
    static func pcrs(_ node: JSONNode, _ encoding: Encoding, what: String) throws(EvidenceError) -> [[UInt8]] {
        guard case .array(let elements) = node.value else {
            throw EvidenceError(.malformed, "\(what) is \(node.kindName), not a list")
        }
        guard !elements.isEmpty, elements.count <= TPMQuote.maximumPCRs else {
            throw EvidenceError(.malformed, "\(what) has \(elements.count) PCR values (expected 1 to \(TPMQuote.maximumPCRs))")
        }
        var values: [[UInt8]] = []
        for (index, element) in elements.enumerated() {
            let value = try bytes(element, encoding, what: "\(what)[\(index)]", limit: 64)
            guard value.count == 32 else {
                throw EvidenceError(.malformed, "\(what)[\(index)] is \(value.count) bytes, not a 32-byte SHA-256 PCR")
            }
            values.append(value)
        }
        return values
    }
}
