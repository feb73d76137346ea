import Foundation
import KBSClaims
package import KBSKeys

extension KeyService {
    /// `Sign`: `message` (1–4096 bytes, or a digest as long as the algorithm's hash) signed with a `SIGN_VERIFY` key by
    /// `algorithm` (AWS's name: `ECDSA_SHA_256`, `RSASSA_PSS_SHA_256`, …). ECDSA signatures are DER-encoded.
    package func sign(_ caller: KMSCaller, _ reference: String, message: SignedMessage, algorithm: String)
        async throws(BrokerError) -> (keyID: String, signature: [UInt8])
    {
        let (key, scheme) = try await signingKey(caller, "kms:Sign", reference, message: message, algorithm: algorithm)
        let keys = try await broker.vault.keySource.hierarchy()
        let signature: [UInt8]
        do { signature = try await keys.sign(keyID: key.record.id, message: message, scheme: scheme) } catch {
            throw await failed(caller, "kms:Sign", key.record.id, Self.signingError(error))
        }
        try await audited(caller, "kms:Sign", key.record.id, ["algorithm": .string(algorithm)])
        return (key.entry.id, signature)
    }

    /// `Verify`: true when `signature` is the key's `algorithm` signature over `message`; a signature that does not
    /// verify is `kms_invalid_signature`, as AWS answers it.
    package func verify(_ caller: KMSCaller, _ reference: String, message: SignedMessage, signature: [UInt8], algorithm: String)
        async throws(BrokerError) -> String
    {
        let (key, scheme) = try await signingKey(caller, "kms:Verify", reference, message: message, algorithm: algorithm)
        let keys = try await broker.vault.keySource.hierarchy()
        let valid: Bool
        do { valid = try await keys.verify(keyID: key.record.id, message: message, signature: signature, scheme: scheme) } catch {
            throw await failed(caller, "kms:Verify", key.record.id, Self.signingError(error))
        }
        guard valid else {
            throw await failed(caller, "kms:Verify", key.record.id, Self.error("invalid_signature", "the signature verification failed"))
        }
        try await audited(caller, "kms:Verify", key.record.id, ["algorithm": .string(algorithm)])
        return key.entry.id
    }

    /// `GetPublicKey`: the DER `SubjectPublicKeyInfo` of a `SIGN_VERIFY` key.
    package func publicKey(_ caller: KMSCaller, _ reference: String) async throws(BrokerError) -> (key: KMSKeyView, publicKey: [UInt8]) {
        let key = try await resolve(reference)
        try await authorize(caller, "kms:GetPublicKey", .key(key))
        guard key.entry.usage == .signVerify else {
            throw await failed(
                caller, "kms:GetPublicKey", key.record.id,
                Self.error("unsupported", "key \(key.entry.id) is symmetric; it has no public key"))
        }
        let keys = try await broker.vault.keySource.hierarchy()
        let der: [UInt8]
        do { der = try await keys.publicKey(keyID: key.record.id) } catch {
            throw await failed(caller, "kms:GetPublicKey", key.record.id, Self.keyError(error))
        }
        try await audited(caller, "kms:GetPublicKey", key.record.id)
        return (key, der)
    }

    /// The key and scheme of a `Sign` or `Verify`, decided and checked: a signing key, an algorithm it has, a message or
    /// digest of the right size.
    private func signingKey(_ caller: KMSCaller, _ action: String, _ reference: String, message: SignedMessage, algorithm: String)
        async throws(BrokerError) -> (KMSKeyView, SignatureScheme)
    {
        guard let scheme = KMSSigningAlgorithm.scheme(algorithm) else {
            throw Self.error("validation", "SigningAlgorithm \(algorithm.prefix(64)) is not one this service signs with")
        }
        switch message {
        case .raw(let bytes):
            guard (1...KeyService.maximumPlaintext).contains(bytes.count) else { throw Self.error("validation", "Message must be 1 to 4096 bytes") }
        case .digest(let bytes):
            guard bytes.count == scheme.digestCount else {
                throw Self.error("validation", "a DIGEST message for \(algorithm) is \(scheme.digestCount) bytes, not \(bytes.count)")
            }
        }
        let key = try await resolve(reference)
        try await authorize(caller, action, .key(key))
        guard key.entry.usage == .signVerify else {
            throw await failed(
                caller, action, key.record.id, Self.error("invalid_key_usage", "key \(key.entry.id) is \(key.entry.usage.rawValue); it does not sign")
            )
        }
        guard scheme.keyAlgorithm == key.entry.spec.algorithm else {
            throw await failed(
                caller, action, key.record.id,
                Self.error("invalid_key_usage", "\(algorithm) is not a signing algorithm of \(key.entry.spec.rawValue) keys"))
        }
        if case .digest = message, scheme.keyAlgorithm == .rsa2048 {
            throw await failed(caller, action, key.record.id, Self.error("unsupported", "RSA keys sign RAW messages here, not DIGEST"))
        }
        return (key, scheme)
    }

    /// A signing refusal from the hierarchy: its state, else an internal error (the checks above leave nothing else).
    static func signingError(_ error: KeyError) -> BrokerError {
        error.reason == .integrity ? BrokerError(.failed, "kms_internal", "the key could not sign") : keyError(error)
    }
}
