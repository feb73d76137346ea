package import Crypto
package import CryptoExtras
import KBSClaims

/// A public key a signature can be checked with. There is no symmetric case: an HMAC secret is never a JWS
/// verification key, which closes the RS256/HS256 confusion by construction.
package enum VerificationKey: Sendable {
    case rsa(_RSA.Signing.PublicKey)
    case p256(P256.Signing.PublicKey)
    case p384(P384.Signing.PublicKey)
    case ed25519(Curve25519.Signing.PublicKey)
    case secp256k1(Secp256k1.PublicKey)

    /// The key type in words, for messages.
    package var name: String {
        switch self {
        case .rsa(let key): "RSA-\(key.keySizeInBits)"
        case .p256: "EC P-256"
        case .p384: "EC P-384"
        case .ed25519: "Ed25519"
        case .secp256k1: "EC secp256k1"
        }
    }

    /// Smallest RSA modulus accepted (RFC 7518 §3.3).
    package static let minimumRSABits = 2048

    /// An RSA key from its modulus and exponent; `weak_key` under 2048 bits.
    package static func rsa(modulus: [UInt8], exponent: [UInt8]) throws(JOSEError) -> VerificationKey {
        let significant = modulus.drop { $0 == 0 }
        let bits = rsaBits(modulus)
        guard bits >= minimumRSABits else { throw JOSEError(.weakKey, "the RSA key has \(bits) bits; at least \(minimumRSABits) are required") }
        guard !exponent.isEmpty, exponent.count <= 8 else { throw JOSEError(.invalidKey, "the RSA exponent is unusable") }
        do {
            return .rsa(try _RSA.Signing.PublicKey(n: Array(significant), e: exponent))
        } catch {
            throw JOSEError(.invalidKey, "the RSA key does not parse")
        }
    }

    /// An EC or Ed25519 key from its curve name and coordinates (JWK `crv`, `x`, `y`).
    package static func curve(_ curve: String, x: [UInt8], y: [UInt8]?) throws(JOSEError) -> VerificationKey {
        do {
            switch curve {
            case "P-256":
                guard x.count == 32, let y, y.count == 32 else { throw JOSEError(.invalidKey, "a P-256 key has 32-byte x and y") }
                return .p256(try P256.Signing.PublicKey(rawRepresentation: x + y))
            case "P-384":
                guard x.count == 48, let y, y.count == 48 else { throw JOSEError(.invalidKey, "a P-384 key has 48-byte x and y") }
                return .p384(try P384.Signing.PublicKey(rawRepresentation: x + y))
            case "secp256k1":
                guard x.count == 32, let y, y.count == 32, let key = Secp256k1.PublicKey([0x04] + x + y) else {
                    throw JOSEError(.invalidKey, "not a secp256k1 point")
                }
                return .secp256k1(key)
            case "Ed25519":
                guard x.count == 32, y == nil else { throw JOSEError(.invalidKey, "an Ed25519 key is 32 bytes of x") }
                return .ed25519(try Curve25519.Signing.PublicKey(rawRepresentation: x))
            default:
                throw JOSEError(.unsupported, "curve `\(curve)` is not supported")
            }
        } catch let error as JOSEError {
            throw error
        } catch {
            throw JOSEError(.invalidKey, "the \(curve) point is not on the curve")
        }
    }

    /// The size of an RSA modulus in bits, leading zero bytes and bits not counted.
    static func rsaBits(_ modulus: [UInt8]) -> Int {
        let significant = modulus.drop { $0 == 0 }
        return significant.isEmpty ? 0 : significant.count * 8 - significant.first!.leadingZeroBitCount
    }
}

extension VerificationKey {
    /// The signature key a JWK holds: RSA, EC on P-256, P-384 or secp256k1, or OKP Ed25519 (`weak_key`,
    /// `invalid_key` and `unsupported` as ``rsa(modulus:exponent:)`` and ``curve(_:x:y:)`` give them).
    package init(_ jwk: JWK) throws(JOSEError) {
        switch jwk.parameters {
        case .rsa(let modulus, let exponent):
            self = try .rsa(modulus: modulus, exponent: exponent)
        case .ec(let curve, let x, let y):
            self = try .curve(curve, x: x, y: y)
        case .okp(let curve, let x):
            guard curve == "Ed25519" else { throw JOSEError(.unsupported, "OKP curve `\(curve)` cannot sign") }
            self = try .curve(curve, x: x, y: nil)
        }
    }
}
