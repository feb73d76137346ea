import Crypto
package import KBSBroker
import KBSClaims

/// The audit log's hash chain: how a record's hash is computed, and the value the first record chains from.
///
/// A record's hash is SHA-256 over this encoding, every field in this order and each one as an 8-byte big-endian
/// length followed by that many bytes, so that no two different records encode alike (moving bytes from one field
/// to the next changes a length):
///
/// ```
/// "kbs-audit-v1"                       12 bytes, no length (domain separation)
/// seq         length 8, int64 big-endian
/// at          length 8, int64 big-endian (milliseconds since 1970)
/// kind        UTF-8
/// actor       UTF-8
/// action      UTF-8
/// resource    UTF-8
/// outcome     UTF-8
/// details     UTF-8 of the canonical JSON (members sorted by UTF-16 code units, no whitespace, minimal escapes)
/// prev_hash   32 bytes: the previous record's hash, or the genesis value for seq 1
/// ```
package enum AuditChain {
    /// What the first record's `prev_hash` holds: 32 zero bytes.
    package static let genesis = [UInt8](repeating: 0, count: 32)

    /// The domain-separation prefix of every encoding; a later format changes it.
    package static let domain = Array("kbs-audit-v1".utf8)

    /// The bytes a record's hash covers (everything but the hash itself).
    package static func encode(_ record: AuditRecord) -> [UInt8] {
        var out = domain
        field(bigEndian(record.seq), to: &out)
        field(bigEndian(record.at), to: &out)
        for text in [record.kind.rawValue, record.actor, record.action, record.resource, record.outcome.rawValue, record.detailsJSON] {
            field(Array(text.utf8), to: &out)
        }
        field(record.prevHash, to: &out)
        return out
    }

    /// SHA-256 of ``encode(_:)``.
    package static func hash(_ record: AuditRecord) -> [UInt8] {
        Array(SHA256.hash(data: encode(record)))
    }

    /// `details` as canonical JSON: the text stored and hashed.
    package static func canonicalJSON(_ details: [String: AuditValue]) -> String {
        var out: [UInt8] = []
        write(.object(details), to: &out)
        return String(decoding: out, as: UTF8.self)
    }

    private static func field(_ bytes: [UInt8], to out: inout [UInt8]) {
        out += bigEndian(Int64(bytes.count))
        out += bytes
    }

    private static func bigEndian(_ value: Int64) -> [UInt8] {
        (0..<8).map { UInt8(truncatingIfNeeded: UInt64(bitPattern: value) >> UInt64(56 - 8 * $0)) }
    }

    private static func write(_ value: AuditValue, to out: inout [UInt8]) {
        switch value {
        case .null: out += Array("null".utf8)
        case .bool(let flag): out += Array((flag ? "true" : "false").utf8)
        case .integer(let number): out += Array(String(number).utf8)
        case .string(let text): JCS.appendString(text, to: &out)
        case .list(let elements):
            out.append(UInt8(ascii: "["))
            for (index, element) in elements.enumerated() {
                if index > 0 { out.append(UInt8(ascii: ",")) }
                write(element, to: &out)
            }
            out.append(UInt8(ascii: "]"))
        case .object(let members):
            out.append(UInt8(ascii: "{"))
            // The order RFC 8785 uses, so a JCS implementation reproduces the text.
            let sorted = members.sorted { $0.key.utf16.lexicographicallyPrecedes($1.key.utf16) }
            for (index, member) in sorted.enumerated() {
                if index > 0 { out.append(UInt8(ascii: ",")) }
                JCS.appendString(member.key, to: &out)
                out.append(UInt8(ascii: ":"))
                write(member.value, to: &out)
            }
            out.append(UInt8(ascii: "}"))
        }
    }
}
