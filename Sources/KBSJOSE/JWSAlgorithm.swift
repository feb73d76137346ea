package import Crypto
package import CryptoExtras
import KBSClaims

/// The JWS algorithms verified here, and signed by all but ES256K (RFC 7518 §3, RFC 8037, RFC 8812). `none` and
/// the HMAC family are absent on purpose: a public-key verifier has no business with them.
package enum JWSAlgorithm: String, Sendable, CaseIterable {
    case rs256 = "RS256"
    case rs384 = "RS384"
    case rs512 = "RS512"
    case ps256 = "PS256"
    case ps384 = "PS384"
    case ps512 = "PS512"
    case es256 = "ES256"
    case es384 = "ES384"
    case es256k = "ES256K"
    case edDSA = "EdDSA"

    /// What an issuer may use unless configured otherwise: every asymmetric algorithm but ES256K (wallet keys
    /// are not OIDC keys).
    package static let defaultAllowed: Set<JWSAlgorithm> = [.rs256, .rs384, .rs512, .ps256, .ps384, .ps512, .es256, .es384, .edDSA]

    /// Whether `key` is the kind of key this algorithm signs with; the algorithm never chooses the key type.
    package func fits(_ key: VerificationKey) -> Bool {
        switch (self, key) {
        case (.rs256, .rsa), (.rs384, .rsa), (.rs512, .rsa), (.ps256, .rsa), (.ps384, .rsa), (.ps512, .rsa): true
        case (.es256, .p256), (.es384, .p384), (.es256k, .secp256k1), (.edDSA, .ed25519): true
        default: false
        }
    }

    /// Checks `signature` over `input` with `key`; `signature` or `malleable` when it does not hold.
    package func verify(_ signature: [UInt8], over input: [UInt8], with key: VerificationKey) throws(JOSEError) {
        guard fits(key) else { throw JOSEError(.algorithm, "\(rawValue) cannot be used with an \(key.name) key") }
        let valid: Bool
        switch key {
        case .rsa(let rsa):
            let rsaSignature = _RSA.Signing.RSASignature(rawRepresentation: signature)
            let padding = rsaPadding
            switch self {
            case .rs256, .ps256: valid = rsa.isValidSignature(rsaSignature, for: SHA256.hash(data: input), padding: padding)
            case .rs384, .ps384: valid = rsa.isValidSignature(rsaSignature, for: SHA384.hash(data: input), padding: padding)
            default: valid = rsa.isValidSignature(rsaSignature, for: SHA512.hash(data: input), padding: padding)
            }
        case .p256(let ec):
            // JWS carries raw r ‖ s (RFC 7518 §3.4), never DER; a 70-odd-byte DER blob fails the length check.
            guard signature.count == 64, let parsed = try? P256.Signing.ECDSASignature(rawRepresentation: signature) else {
                throw JOSEError(.signature, "an ES256 signature is 64 bytes of r ‖ s")
            }
            valid = ec.isValidSignature(parsed, for: SHA256.hash(data: input))
        case .p384(let ec):
            guard signature.count == 96, let parsed = try? P384.Signing.ECDSASignature(rawRepresentation: signature) else {
                throw JOSEError(.signature, "an ES384 signature is 96 bytes of r ‖ s")
            }
            valid = ec.isValidSignature(parsed, for: SHA384.hash(data: input))
        case .ed25519(let ed):
            valid = signature.count == 64 && ed.isValidSignature(signature, for: input)
        case .secp256k1(let k1):
            do {
                try Secp256k1.verify(signature, digest: Array(SHA256.hash(data: input)), key: k1)
                valid = true
            } catch .highS {
                throw JOSEError(.malleable, "the secp256k1 signature has a high s; only the low-s form is accepted")
            } catch {
                valid = false
            }
        }
        guard valid else { throw JOSEError(.signature, "the \(rawValue) signature does not verify") }
    }
}

extension JWSAlgorithm {
    /// The JWS signature of `input` with `key` (RFC 7518 §3: raw `r ‖ s` for ECDSA, never DER).
    package func sign(_ input: [UInt8], with key: JWSSigningKey) throws(JOSEError) -> [UInt8] {
        guard fits(key.verificationKey) else { throw JOSEError(.algorithm, "\(rawValue) cannot sign with an \(key.verificationKey.name) key") }
        do {
            switch key {
            case .p256(let key): return Array(try key.signature(for: SHA256.hash(data: input)).rawRepresentation)
            case .p384(let key): return Array(try key.signature(for: SHA384.hash(data: input)).rawRepresentation)
            case .ed25519(let key): return Array(try key.signature(for: input))
            case .rsa(let key):
                switch self {
                case .rs256, .ps256: return Array(try key.signature(for: SHA256.hash(data: input), padding: rsaPadding).rawRepresentation)
                case .rs384, .ps384: return Array(try key.signature(for: SHA384.hash(data: input), padding: rsaPadding).rawRepresentation)
                default: return Array(try key.signature(for: SHA512.hash(data: input), padding: rsaPadding).rawRepresentation)
                }
            }
        } catch {
            throw JOSEError(.failed, "the \(rawValue) signature could not be made")
        }
    }

    /// PSS for the PS family, PKCS #1 v1.5 for RS (RFC 7518 §3.3, §3.5).
    private var rsaPadding: _RSA.Signing.Padding {
        [.ps256, .ps384, .ps512].contains(self) ? .PSS : .insecurePKCS1v1_5
    }
}

/// A private key a JWS can be signed with; like ``VerificationKey`` it has no symmetric case.
package enum JWSSigningKey: Sendable {
    case rsa(_RSA.Signing.PrivateKey)
    case p256(P256.Signing.PrivateKey)
    case p384(P384.Signing.PrivateKey)
    case ed25519(Curve25519.Signing.PrivateKey)

    /// The public half, which a verifier of these signatures holds.
    package var verificationKey: VerificationKey {
        switch self {
        case .rsa(let key): .rsa(key.publicKey)
        case .p256(let key): .p256(key.publicKey)
        case .p384(let key): .p384(key.publicKey)
        case .ed25519(let key): .ed25519(key.publicKey)
        }
    }
}
