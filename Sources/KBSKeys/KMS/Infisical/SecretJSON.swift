import Foundation
import KBSClaims

/// Writes a flat JSON object whose one secret member is escaped byte by byte into a buffer the caller wipes.
///
/// `JSONEncoder` would first need the secret as a `String`, a copy nobody can wipe; the other members are ordinary
/// text. The secret must be UTF-8 because Infisical stores secret values as text.
enum SecretJSON {
    static func object(
        _ members: [(String, String)],
        secretName: String,
        secret: UnsafeRawBufferPointer
    ) throws(KeyError) -> Data {
        guard isUTF8(secret) else { throw KeyError(.invalidArgument, "a secret value for Infisical must be UTF-8") }
        // Room for the worst case (every byte escaped as \u00XX), so the buffer never grows and leaves a copy behind.
        let memberBytes = members.reduce(0) { $0 + ($1.0.utf8.count + $1.1.utf8.count) * 6 + 8 }
        var out = Data(capacity: 16 + (secretName.utf8.count + secret.count) * 6 + memberBytes)
        out.append(UInt8(ascii: "{"))
        for (name, value) in members {
            appendString(value.utf8, name: name, to: &out)
            out.append(UInt8(ascii: ","))
        }
        appendString(secret, name: secretName, to: &out)
        out.append(UInt8(ascii: "}"))
        return out
    }

    private static func appendString(
        _ bytes: some Sequence<UInt8>,
        name: String,
        to out: inout Data
    ) {
        append(name.utf8, to: &out)
        out.append(UInt8(ascii: ":"))
        append(bytes, to: &out)
    }

    /// A JSON string literal: quote, backslash and control characters escaped, other UTF-8 bytes as they are.
    private static func append(_ bytes: some Sequence<UInt8>, to out: inout Data) {
        let hex = Array("0123456789abcdef".utf8)
        out.append(UInt8(ascii: "\""))
        for byte in bytes {
            switch byte {
            case UInt8(ascii: "\""), UInt8(ascii: "\\"):
                out.append(UInt8(ascii: "\\"))
                out.append(byte)
            case 0..<0x20, 0x7F:
                out.append(contentsOf: Array(#"\u00"#.utf8) + [hex[Int(byte >> 4)], hex[Int(byte & 0xF)]])
            default:
                out.append(byte)
            }
        }
        out.append(UInt8(ascii: "\""))
    }

    /// Validates UTF-8 without making a `String` of the secret.
    private static func isUTF8(_ bytes: UnsafeRawBufferPointer) -> Bool {
        var iterator = bytes.makeIterator()
        var decoder = UTF8()
        while true {
            switch decoder.decode(&iterator) {
            case .scalarValue: continue
            case .emptyInput: return true
            case .error: return false
            }
        }
    }
}
