import Foundation

/// PEM blocks (`-----BEGIN LABEL----- … -----END LABEL-----`) in a text, in order.
enum PEM {
    struct Block {
        var label: String
        var der: [UInt8]
    }

    /// Every block in `bytes`; text outside blocks is ignored. Nil when a block's body is not base64 or a block is
    /// left open.
    static func blocks(_ bytes: [UInt8]) -> [Block]? {
        let text = String(decoding: bytes, as: UTF8.self)
        var result: [Block] = []
        var label: String?
        var body = ""
        for rawLine in text.split(omittingEmptySubsequences: true, whereSeparator: { $0 == "\n" || $0 == "\r" }) {
            let line = rawLine.trimmingCharacters(in: .whitespaces)
            if line.hasPrefix("-----BEGIN "), line.hasSuffix("-----") {
                guard label == nil else { return nil }
                label = String(line.dropFirst(11).dropLast(5))
                body = ""
            } else if line.hasPrefix("-----END "), line.hasSuffix("-----") {
                guard let open = label, String(line.dropFirst(9).dropLast(5)) == open,
                    let der = Data(base64Encoded: body), !der.isEmpty
                else { return nil }
                result.append(Block(label: open, der: Array(der)))
                label = nil
            } else if label != nil {
                body += line
            }
        }
        return label == nil ? result : nil
    }

    /// Whether `bytes` look like PEM text rather than DER.
    static func looksLikePEM(_ bytes: [UInt8]) -> Bool {
        let dashes = Array("-----BEGIN ".utf8)
        guard bytes.count >= dashes.count else { return false }
        for start in 0...min(bytes.count - dashes.count, 4096) where bytes[start] == dashes[0] {
            if Array(bytes[start..<start + dashes.count]) == dashes { return true }
        }
        return false
    }
}
