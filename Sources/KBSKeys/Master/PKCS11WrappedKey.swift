import KBSClaims

/// The bytes `PKCS11MasterKeyProvider.wrap` returns:
/// `"KBSH" | 0x01 | IV (12 bytes) | AES-256-GCM ciphertext | tag (16 bytes)`.
///
/// The magic and version say what the bytes are and let a later format coexist; the IV is fresh for every wrap. The
/// key that encrypted them is not named: it is the provider's, and any other key fails the tag.
struct PKCS11WrappedKey: Equatable {
    static let magic: [UInt8] = Array("KBSH".utf8)
    static let version: UInt8 = 1
    static let ivCount = 12
    static let headerCount = magic.count + 1 + ivCount

    /// The GCM IV.
    var iv: [UInt8]
    /// The ciphertext followed by the tag.
    var sealed: [UInt8]

    init(iv: [UInt8], sealed: [UInt8]) {
        precondition(iv.count == Self.ivCount, "a GCM IV here is 12 bytes")
        self.iv = iv
        self.sealed = sealed
    }

    /// Parses `bytes`; an unknown magic or version, or bytes too short to hold a header and a tag, are `malformed`.
    init(parsing bytes: [UInt8]) throws(KeyError) {
        guard bytes.count >= Self.headerCount + PKCS11Session.tagCount else {
            throw KeyError(.malformed, "a PKCS#11-wrapped key is at least \(Self.headerCount + PKCS11Session.tagCount) bytes, got \(bytes.count)")
        }
        guard Array(bytes.prefix(Self.magic.count)) == Self.magic else {
            throw KeyError(.malformed, "not a PKCS#11-wrapped key (unknown magic)")
        }
        let version = bytes[Self.magic.count]
        guard version == Self.version else {
            throw KeyError(.malformed, "PKCS#11-wrapped key format version \(version), expected \(Self.version)")
        }
        iv = Array(bytes[(Self.magic.count + 1)..<Self.headerCount])
        sealed = Array(bytes[Self.headerCount...])
    }

    var bytes: [UInt8] { Self.magic + [Self.version] + iv + sealed }
}
