import Crypto
import KBSClaims
import KBSJOSE

/// A DID resolved to the one verification method a proof may use.
struct ResolvedDID {
    var did: String
    /// The method: `key`, `jwk`.
    var method: String
    /// The verification method's fragment (`#…` without the `#`).
    var fragment: String
    var key: VerificationKey
}

/// Derives DID documents locally for the methods that need no network: `did:key` and `did:jwk`.
enum DIDResolver {
    /// Longest DID accepted.
    static let maximumBytes = 4096

    static func resolve(_ did: String) throws(IdentityError) -> ResolvedDID {
        guard did.utf8.count <= maximumBytes else { throw IdentityError(.malformed, "the DID is too long") }
        let parts = did.split(separator: ":", maxSplits: 2, omittingEmptySubsequences: false)
        guard parts.count == 3, parts[0] == "did", !parts[1].isEmpty, !parts[2].isEmpty,
            parts[1].allSatisfy({ $0.isASCII && ($0.isLowercase || $0.isNumber) })
        else { throw IdentityError(.malformed, "`\(did.prefix(60))` is not a DID") }
        let identifier = String(parts[2])
        guard !identifier.contains(where: { "#?/".contains($0) }) else { throw IdentityError(.malformed, "a DID has no path, query or fragment") }
        switch parts[1] {
        case "key": return try didKey(did, identifier)
        case "jwk": return try didJWK(did, identifier)
        default: throw IdentityError(.unsupported, "DID method `\(parts[1])` is not supported (did:key and did:jwk are)")
        }
    }

    /// `did:key:z<base58btc(varint(codec) ‖ public key)>`; the verification method is `#<identifier>`.
    private static func didKey(_ did: String, _ identifier: String) throws(IdentityError) -> ResolvedDID {
        guard identifier.hasPrefix("z"), let bytes = Base58.decode(identifier.utf8.dropFirst()) else {
            throw IdentityError(.malformed, "a did:key identifier is `z` and base58btc")
        }
        let (codec, keyBytes) = try readVarint(bytes)
        let key: VerificationKey
        do {
            switch codec {
            case 0xED:
                guard keyBytes.count == 32 else { throw IdentityError(.invalidKey, "an Ed25519 did:key holds 32 bytes, not \(keyBytes.count)") }
                key = .ed25519(try Curve25519.Signing.PublicKey(rawRepresentation: keyBytes))
            case 0x1200:
                guard keyBytes.count == 33 else { throw IdentityError(.invalidKey, "a P-256 did:key holds a 33-byte compressed point") }
                key = .p256(try P256.Signing.PublicKey(compressedRepresentation: keyBytes))
            case 0x1201:
                guard keyBytes.count == 49 else { throw IdentityError(.invalidKey, "a P-384 did:key holds a 49-byte compressed point") }
                key = .p384(try P384.Signing.PublicKey(compressedRepresentation: keyBytes))
            case 0xE7:
                guard keyBytes.count == 33, let point = Secp256k1.PublicKey(keyBytes) else {
                    throw IdentityError(.invalidKey, "a secp256k1 did:key holds a 33-byte compressed point on the curve")
                }
                key = .secp256k1(point)
            case 0xEC:
                throw IdentityError(.invalidKey, "an X25519 key agrees on keys; it cannot verify a signature")
            case 0x1300...0x1310:
                throw IdentityError(.invalidKey, "the did:key holds a private key (multicodec 0x\(String(codec, radix: 16)))")
            default:
                throw IdentityError(.unsupported, "multicodec 0x\(String(codec, radix: 16)) is not a supported public key")
            }
        } catch let error as IdentityError {
            throw error
        } catch {
            throw IdentityError(.invalidKey, "the did:key point is not on its curve")
        }
        return ResolvedDID(did: did, method: "key", fragment: identifier, key: key)
    }

    /// An unsigned LEB128 varint, minimally encoded, of at most 9 bytes (the multiformats limit).
    private static func readVarint(_ bytes: [UInt8]) throws(IdentityError) -> (UInt64, [UInt8]) {
        var value: UInt64 = 0
        for index in 0..<min(9, bytes.count) {
            let byte = bytes[index]
            value |= UInt64(byte & 0x7F) << (7 * UInt64(index))
            if byte & 0x80 == 0 {
                guard index == 0 || byte != 0 else { throw IdentityError(.malformed, "the multicodec varint is not minimally encoded") }
                return (value, Array(bytes[(index + 1)...]))
            }
        }
        throw IdentityError(.malformed, "the multicodec varint is truncated or too long")
    }

    /// `did:jwk:<base64url(JWK)>`; the verification method is `#0`; private or encryption-only keys are refused.
    private static func didJWK(_ did: String, _ identifier: String) throws(IdentityError) -> ResolvedDID {
        guard let json = Base64URL.decode(identifier.utf8) else { throw IdentityError(.malformed, "a did:jwk identifier is base64url") }
        let node = try CredentialJSON.object(json, what: "did:jwk key")
        guard node["use"]?.stringValue != "enc" else { throw IdentityError(.invalidKey, "the did:jwk key is for encryption only") }
        do throws(JOSEError) {
            return ResolvedDID(did: did, method: "jwk", fragment: "0", key: try VerificationKey(try JWK(node)))
        } catch {
            throw IdentityError(error)
        }
    }
}
