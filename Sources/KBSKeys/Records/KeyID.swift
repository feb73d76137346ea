import KBSClaims

/// The rules for key ids: 1–255 bytes of ASCII letters, digits and `- _ . / :`, so an id fits the one-byte length
/// in the ciphertext header and can name a KBS resource path such as `repo/type/tag`.
enum KeyID {
    static func validate(_ id: String) throws(KeyError) {
        let bytes = Array(id.utf8)
        guard (1...255).contains(bytes.count) else {
            throw KeyError(.invalidArgument, "a key id has 1 to 255 characters, not \(bytes.count)")
        }
        for byte in bytes {
            switch byte {
            case UInt8(ascii: "a")...UInt8(ascii: "z"), UInt8(ascii: "A")...UInt8(ascii: "Z"),
                UInt8(ascii: "0")...UInt8(ascii: "9"), UInt8(ascii: "-"), UInt8(ascii: "_"), UInt8(ascii: "."),
                UInt8(ascii: "/"), UInt8(ascii: ":"):
                continue
            default:
                throw KeyError(.invalidArgument, "a key id holds only letters, digits and - _ . / : (`\(id)`)")
            }
        }
    }
}
