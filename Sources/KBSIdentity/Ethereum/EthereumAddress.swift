import KBSClaims
import KBSJOSE

/// A 20-byte Ethereum account address.
struct EthereumAddress: Equatable, Sendable {
    var bytes: [UInt8]

    /// The address of a secp256k1 public key: the last 20 bytes of Keccak-256 over its 64-byte `x ‖ y`.
    init(publicKey: Secp256k1.PublicKey) {
        bytes = Array(Keccak256.hash(publicKey.uncompressed.dropFirst()).suffix(20))
    }

    /// Parses `0x` + 40 hex digits. Mixed case must be a valid EIP-55 checksum; with `requireChecksum`, all-lower or
    /// all-upper text is refused too (EIP-4361 requires the checksummed form).
    init(_ text: String, requireChecksum: Bool = false) throws(IdentityError) {
        guard text.utf8.count == 42, let bytes = Hex.decode(text, prefix: .required) else {
            throw IdentityError(.malformed, "an address is 0x and 40 hex digits")
        }
        self.bytes = bytes
        let digits = text.dropFirst(2)
        let mixed = digits.contains(where: \.isUppercase) && digits.contains(where: \.isLowercase)
        if mixed || requireChecksum {
            guard String(digits) == String(checksummed.dropFirst(2)) else {
                throw IdentityError(.malformed, "address \(text) does not carry a valid EIP-55 checksum")
            }
        }
    }

    var isZero: Bool { bytes.allSatisfy { $0 == 0 } }

    /// The EIP-55 mixed-case form: a hex letter is upper case where the matching nibble of
    /// Keccak-256(lower-case hex) is 8 or more.
    var checksummed: String {
        let lower = Hex.encode(bytes)
        let hash = Keccak256.hash(Array(lower.utf8))
        var out = "0x"
        for (index, character) in lower.enumerated() {
            let nibble = index % 2 == 0 ? hash[index / 2] >> 4 : hash[index / 2] & 0xF
            out.append(character.isLetter && nibble >= 8 ? Character(character.uppercased()) : character)
        }
        return out
    }
}

/// An Ethereum signature `r ‖ s ‖ v` (65 bytes) and the signer it recovers to.
enum EthereumSignature {
    /// Parses `0x` + 130 hex digits; `v` must be 27/28 or 0/1.
    static func parse(_ text: String) throws(IdentityError) -> (compact: [UInt8], recoveryID: Int32) {
        guard let bytes = Hex.decode(text, prefix: .required) else { throw IdentityError(.malformed, "the signature is not 0x-prefixed hex") }
        return try parse(bytes)
    }

    /// Parses the 65 bytes `r ‖ s ‖ v`.
    static func parse(_ bytes: [UInt8]) throws(IdentityError) -> (compact: [UInt8], recoveryID: Int32) {
        guard bytes.count == 65 else { throw IdentityError(.malformed, "the signature is \(bytes.count) bytes; r ‖ s ‖ v is 65") }
        let recoveryID: Int32
        switch bytes[64] {
        case 27, 28: recoveryID = Int32(bytes[64] - 27)
        case 0, 1: recoveryID = Int32(bytes[64])
        default: throw IdentityError(.malleable, "v = \(bytes[64]) is not 27, 28, 0 or 1")
        }
        return (Array(bytes.prefix(64)), recoveryID)
    }

    /// The address that signed `digest`, refusing high-s, out-of-range and unrecoverable signatures.
    static func signer(of text: String, digest: [UInt8]) throws(IdentityError) -> EthereumAddress {
        try signer(of: try parse(text), digest: digest)
    }

    /// The address that signed `digest` with the 65 bytes `r ‖ s ‖ v` (a JWS `ES256K-R` signature).
    static func signer(of bytes: [UInt8], digest: [UInt8]) throws(IdentityError) -> EthereumAddress {
        try signer(of: try parse(bytes), digest: digest)
    }

    private static func signer(of parsed: (compact: [UInt8], recoveryID: Int32), digest: [UInt8]) throws(IdentityError) -> EthereumAddress {
        let (compact, recoveryID) = parsed
        let key: Secp256k1.PublicKey
        do {
            key = try Secp256k1.recover(compact, recoveryID: recoveryID, digest: digest)
        } catch .highS {
            throw IdentityError(.malleable, "the signature has a high s (EIP-2); only the low-s form is accepted")
        } catch {
            throw IdentityError(.signature, "no public key can be recovered from the signature")
        }
        let address = EthereumAddress(publicKey: key)
        guard !address.isZero else { throw IdentityError(.signature, "the signature recovers to the zero address") }
        return address
    }

    /// EIP-191 version 0x45 (`personal_sign`): Keccak-256 of the prefix, the decimal byte length and the message.
    static func personalDigest(_ message: [UInt8]) -> [UInt8] {
        Keccak256.hash(Array("\u{19}Ethereum Signed Message:\n\(message.count)".utf8) + message)
    }
}
