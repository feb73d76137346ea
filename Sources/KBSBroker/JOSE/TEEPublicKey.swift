import Foundation
import Crypto
import CryptoExtras
import KBSClaims

/// The key a TEE sends in `runtime-data.tee-pubkey` (a JWK), to which released secrets are encrypted.
///
/// EC keys on P-256, P-384 and P-521 get `ECDH-ES+A256KW`; RSA keys (2048 bits or more) get `RSA-OAEP-256`. Trustee
/// refuses P-384; this broker accepts it, since RFC 7518 defines it and nothing about the scheme is weaker.
public struct TEEPublicKey: @unchecked Sendable {
    // Public keys are immutable values; the RSA one only lacks the annotation.
    enum Key {
        case p256(P256.KeyAgreement.PublicKey)
        case p384(P384.KeyAgreement.PublicKey)
        case p521(P521.KeyAgreement.PublicKey)
        case rsa(_RSA.Encryption.PublicKey)
    }

    let key: Key

    /// Reads a JWK object; refuses private members, an `alg` that does not fit the key, and points off the curve.
    public init(jwk: [String: Any]) throws(BrokerError) {
        for member in ["d", "p", "q", "dp", "dq", "qi"] where jwk[member] != nil {
            throw .badRequest("invalid_tee_pubkey", "`tee-pubkey` holds the private member `\(member)`: send only the public key")
        }
        func bytes(_ name: String) throws(BrokerError) -> [UInt8] {
            guard let text = jwk[name] as? String, let value = Base64URL.decode(text), !value.isEmpty else {
                throw .badRequest("invalid_tee_pubkey", "`tee-pubkey` needs `\(name)` as unpadded base64url")
            }
            return value
        }
        let alg = jwk["alg"] as? String
        switch jwk["kty"] as? String {
        case "EC":
            if let alg, alg != "ECDH-ES+A256KW" {
                throw .badRequest("unsupported_alg", "an EC `tee-pubkey` takes `alg` ECDH-ES+A256KW, not \(alg)")
            }
            let (x, y) = (try bytes("x"), try bytes("y"))
            let raw = x + y
            do {
                switch jwk["crv"] as? String {
                case "P-256" where x.count == 32 && y.count == 32: key = .p256(try .init(rawRepresentation: raw))
                case "P-384" where x.count == 48 && y.count == 48: key = .p384(try .init(rawRepresentation: raw))
                case "P-521" where x.count == 66 && y.count == 66: key = .p521(try .init(rawRepresentation: raw))
                case let curve:
                    throw BrokerError.badRequest("invalid_tee_pubkey",
                        "`tee-pubkey` curve \(curve ?? "(none)") with \(x.count)-byte coordinates is not P-256, P-384 or P-521")
                }
            } catch let error as BrokerError {
                throw error
            } catch {
                throw .badRequest("invalid_tee_pubkey", "`tee-pubkey` is not a point on its curve")
            }
        case "RSA":
            if let alg, alg != "RSA-OAEP-256" {
                throw .badRequest("unsupported_alg", "an RSA `tee-pubkey` takes `alg` RSA-OAEP-256, not \(alg)")
            }
            do { key = .rsa(try .init(n: try bytes("n"), e: try bytes("e"))) } catch let error as BrokerError {
                throw error
            } catch {
                throw .badRequest("invalid_tee_pubkey", "`tee-pubkey` is not an RSA public key of 2048 bits or more")
            }
        case let kty:
            throw .badRequest("invalid_tee_pubkey", "`tee-pubkey` has `kty` \(kty ?? "(none)"); expected EC or RSA")
        }
    }

    /// The JWE `alg` this key gets.
    public var algorithm: String {
        if case .rsa = key { return "RSA-OAEP-256" }
        return "ECDH-ES+A256KW"
    }
}
