import Crypto
import CryptoExtras

/// A public key a signature can be checked with. There is no symmetric case: an HMAC secret is never a JWS
/// verification key, which closes the RS256/HS256 confusion by construction.
enum VerificationKey: Sendable {
    case rsa(_RSA.Signing.PublicKey)
    case p256(P256.Signing.PublicKey)
    case p384(P384.Signing.PublicKey)
    case ed25519(Curve25519.Signing.PublicKey)
    case secp256k1(Secp256k1.PublicKey)

    /// The key type in words, for messages.
    var name: String {
        switch self {
        case .rsa(let key): "RSA-\(key.keySizeInBits)"
        case .p256: "EC P-256"
        case .p384: "EC P-384"
        case .ed25519: "Ed25519"
        case .secp256k1: "EC secp256k1"
        }
    }

    /// Smallest RSA modulus accepted (RFC 7518 §3.3).
    static let minimumRSABits = 2048

    /// An RSA key from its modulus and exponent; `weak_key` under 2048 bits.
    static func rsa(modulus: [UInt8], exponent: [UInt8]) throws(IdentityError) -> VerificationKey {
        let significant = modulus.drop { $0 == 0 }
        let bits = significant.isEmpty ? 0 : significant.count * 8 - significant.first!.leadingZeroBitCount
        guard bits >= minimumRSABits else { throw IdentityError(.weakKey, "the RSA key has \(bits) bits; at least \(minimumRSABits) are required") }
        guard !exponent.isEmpty, exponent.count <= 8 else { throw IdentityError(.invalidKey, "the RSA exponent is unusable") }
        do {
            return .rsa(try _RSA.Signing.PublicKey(n: Array(significant), e: exponent))
        } catch {
            throw IdentityError(.invalidKey, "the RSA key does not parse")
        }
    }

    /// An EC or Ed25519 key from its curve name and coordinates (JWK `crv`, `x`, `y`).
    static func curve(_ curve: String, x: [UInt8], y: [UInt8]?) throws(IdentityError) -> VerificationKey {
        do {
            switch curve {
            case "P-256":
                guard x.count == 32, let y, y.count == 32 else { throw IdentityError(.invalidKey, "a P-256 key has 32-byte x and y") }
                return .p256(try P256.Signing.PublicKey(rawRepresentation: x + y))
            case "P-384":
                guard x.count == 48, let y, y.count == 48 else { throw IdentityError(.invalidKey, "a P-384 key has 48-byte x and y") }
                return .p384(try P384.Signing.PublicKey(rawRepresentation: x + y))
            case "secp256k1":
                guard x.count == 32, let y, y.count == 32, let key = Secp256k1.PublicKey([0x04] + x + y) else {
                    throw IdentityError(.invalidKey, "not a secp256k1 point")
                }
                return .secp256k1(key)
            case "Ed25519":
                guard x.count == 32, y == nil else { throw IdentityError(.invalidKey, "an Ed25519 key is 32 bytes of x") }
                return .ed25519(try Curve25519.Signing.PublicKey(rawRepresentation: x))
            default:
                throw IdentityError(.unsupported, "curve `\(curve)` is not supported")
            }
        } catch let error as IdentityError {
            throw error
        } catch {
            throw IdentityError(.invalidKey, "the \(curve) point is not on the curve")
        }
    }
}
