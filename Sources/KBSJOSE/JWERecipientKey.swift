package import Crypto
package import CryptoExtras
import KBSClaims

extension JWE {
    /// A public key a JWE can be encrypted to: EC keys on P-256, P-384 and P-521 get `ECDH-ES+A256KW`, RSA keys of
    /// 2048 bits or more `RSA-OAEP-256`. Trustee refuses P-384; this accepts it, since RFC 7518 defines it and
    /// nothing about the scheme is weaker.
    package enum RecipientKey: @unchecked Sendable {
        // Public keys are immutable values; the RSA one only lacks the annotation.
        case p256(P256.KeyAgreement.PublicKey)
        case p384(P384.KeyAgreement.PublicKey)
        case p521(P521.KeyAgreement.PublicKey)
        case rsa(_RSA.Encryption.PublicKey)

        /// The key-management `alg` this key gets.
        package var algorithm: String {
            if case .rsa = self { return "RSA-OAEP-256" }
            return "ECDH-ES+A256KW"
        }

        /// The recipient a JWK names. `algorithm` when its `alg` is not the one its key type gets; `invalid_key`
        /// for a curve or coordinate size outside the three curves and a point off its curve; `weak_key` for RSA
        /// under 2048 bits; `unsupported` for OKP keys.
        package init(_ jwk: JWK) throws(JOSEError) {
            switch jwk.parameters {
            case .ec(let curve, let x, let y):
                if let alg = jwk.algorithm, alg != "ECDH-ES+A256KW" {
                    throw JOSEError(.algorithm, "an EC key takes `alg` ECDH-ES+A256KW, not \(alg)")
                }
                let size = ["P-256": 32, "P-384": 48, "P-521": 66][curve]
                guard let size, x.count == size, y.count == size else {
                    throw JOSEError(.invalidKey, "curve \(curve) with \(x.count)-byte coordinates is not P-256, P-384 or P-521")
                }
                do {
                    switch size {
                    case 32: self = .p256(try .init(rawRepresentation: x + y))
                    case 48: self = .p384(try .init(rawRepresentation: x + y))
                    default: self = .p521(try .init(rawRepresentation: x + y))
                    }
                } catch {
                    throw JOSEError(.invalidKey, "the point is not on its curve")
                }
            case .rsa(let modulus, let exponent):
                if let alg = jwk.algorithm, alg != "RSA-OAEP-256" {
                    throw JOSEError(.algorithm, "an RSA key takes `alg` RSA-OAEP-256, not \(alg)")
                }
                let bits = VerificationKey.rsaBits(modulus)
                guard bits >= VerificationKey.minimumRSABits else {
                    throw JOSEError(.weakKey, "the RSA key has \(bits) bits; at least \(VerificationKey.minimumRSABits) are required")
                }
                do { self = .rsa(try .init(n: modulus, e: exponent)) } catch {
                    throw JOSEError(.invalidKey, "not an RSA public key")
                }
            case .okp(let curve, _):
                throw JOSEError(.unsupported, "an OKP key (\(curve)) cannot be encrypted to; expected EC or RSA")
            }
        }
    }
}
