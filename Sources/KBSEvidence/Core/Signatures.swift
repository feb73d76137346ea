import Crypto

/// ECDSA checks over the curves TEE vendors use, with raw `r ‖ s` signatures.
enum ECDSA {
    enum Curve { case p256, p384 }

    /// Whether `signature` (raw big-endian `r ‖ s`) signs `message` (hashed with the curve's hash: SHA-256 for
    /// P-256, SHA-384 for P-384) under `publicKey`, given as DER SubjectPublicKeyInfo or a raw point (`x ‖ y`, with
    /// or without the 0x04 prefix).
    static func verify(_ signature: [UInt8], message: [UInt8], publicKey: [UInt8], curve: Curve) -> Bool {
        switch curve {
        case .p256:
            guard let key = p256Key(publicKey), let parsed = try? P256.Signing.ECDSASignature(rawRepresentation: signature) else {
                return false
            }
            return key.isValidSignature(parsed, for: message)
        case .p384:
            guard let key = p384Key(publicKey), let parsed = try? P384.Signing.ECDSASignature(rawRepresentation: signature) else {
                return false
            }
            return key.isValidSignature(parsed, for: message)
        }
    }

    /// As ``verify(_:message:publicKey:curve:)`` with `certificate`'s public key, parsed once per certificate.
    static func verify(_ signature: [UInt8], message: [UInt8], certificate: Certificate, curve: Curve) -> Bool {
        switch curve {
        case .p256:
            guard let key = certificate.p256PublicKey, let parsed = try? P256.Signing.ECDSASignature(rawRepresentation: signature)
            else { return false }
            return key.isValidSignature(parsed, for: message)
        case .p384:
            guard let key = certificate.p384PublicKey, let parsed = try? P384.Signing.ECDSASignature(rawRepresentation: signature)
            else { return false }
            return key.isValidSignature(parsed, for: message)
        }
    }

    /// As ``verify(_:message:publicKey:curve:)`` over an already computed SHA-384 digest.
    static func verifyP384(_ signature: [UInt8], digest: SHA384Digest, publicKey: [UInt8]) -> Bool {
        guard let key = p384Key(publicKey), let parsed = try? P384.Signing.ECDSASignature(rawRepresentation: signature) else {
            return false
        }
        return key.isValidSignature(parsed, for: digest)
    }

    static func p256Key(_ bytes: [UInt8]) -> P256.Signing.PublicKey? {
        switch bytes.count {
        case 64: try? P256.Signing.PublicKey(rawRepresentation: bytes)
        case 65: try? P256.Signing.PublicKey(x963Representation: bytes)
        default: try? P256.Signing.PublicKey(derRepresentation: bytes)
        }
    }

    static func p384Key(_ bytes: [UInt8]) -> P384.Signing.PublicKey? {
        switch bytes.count {
        case 96: try? P384.Signing.PublicKey(rawRepresentation: bytes)
        case 97: try? P384.Signing.PublicKey(x963Representation: bytes)
        default: try? P384.Signing.PublicKey(derRepresentation: bytes)
        }
    }
}
