import Crypto
import CryptoExtras
import Foundation
import KBSClaims

/// How a signing key signs: the scheme and the hash the message is digested with.
package enum SignatureScheme: String, Sendable, Hashable, CaseIterable {
    /// ECDSA over P-256 with SHA-256; signatures DER-encoded (X9.62 `Ecdsa-Sig-Value`).
    case ecdsaSHA256 = "ecdsa-sha256"
    /// RSASSA-PSS with MGF1 and a salt as long as the digest.
    case rsaPSSSHA256 = "rsa-pss-sha256"
    case rsaPSSSHA384 = "rsa-pss-sha384"
    case rsaPSSSHA512 = "rsa-pss-sha512"
    /// RSASSA-PKCS1-v1_5.
    case rsaPKCS1SHA256 = "rsa-pkcs1-sha256"
    case rsaPKCS1SHA384 = "rsa-pkcs1-sha384"
    case rsaPKCS1SHA512 = "rsa-pkcs1-sha512"

    /// The key algorithm the scheme needs.
    package var keyAlgorithm: KeyAlgorithm { self == .ecdsaSHA256 ? .p256 : .rsa2048 }

    /// The bytes of the digest the scheme signs.
    package var digestCount: Int {
        switch self {
        case .ecdsaSHA256, .rsaPSSSHA256, .rsaPKCS1SHA256: 32
        case .rsaPSSSHA384, .rsaPKCS1SHA384: 48
        case .rsaPSSSHA512, .rsaPKCS1SHA512: 64
        }
    }

    /// Whether the scheme is RSASSA-PSS.
    var isPSS: Bool { self == .rsaPSSSHA256 || self == .rsaPSSSHA384 || self == .rsaPSSSHA512 }

    /// The schemes a key of `algorithm` signs with.
    package static func schemes(for algorithm: KeyAlgorithm) -> [SignatureScheme] {
        allCases.filter { $0.keyAlgorithm == algorithm }
    }
}

/// What is signed: the message itself (hashed here), or a digest the caller computed.
package enum SignedMessage: Sendable {
    case raw([UInt8])
    case digest([UInt8])
}

extension KeyHierarchy {
    /// Signs `message` with the current version of the enabled signing key `keyID`.
    ///
    /// A precomputed digest is accepted for ECDSA only: swift-crypto's RSA signs a digest only as one of its own hash
    /// types, which cannot be built from bytes.
    package func sign(keyID: String, message: SignedMessage, scheme: SignatureScheme) async throws(KeyError) -> [UInt8] {
        let record = try await signingRecord(keyID, scheme: scheme)
        let material = try await dataKeyMaterial(record, version: record.currentVersion)
        return try material.withUnsafeBytes { (bytes) throws(KeyError) -> [UInt8] in
            do {
                switch scheme {
                case .ecdsaSHA256:
                    let key = try P256.Signing.PrivateKey(rawRepresentation: bytes)
                    switch message {
                    case .raw(let data): return Array(try key.signature(for: data).derRepresentation)
                    case .digest(let digest): return Array(try key.signature(for: try PrecomputedSHA256(digest)).derRepresentation)
                    }
                default:
                    let key = try _RSA.Signing.PrivateKey(derRepresentation: bytes)
                    guard case .raw(let data) = message else {
                        throw KeyError(.invalidArgument, "RSA keys sign whole messages here, not precomputed digests")
                    }
                    let padding: _RSA.Signing.Padding = scheme.isPSS ? .PSS : .insecurePKCS1v1_5
                    switch scheme.digestCount {
                    case 48: return Array(try key.signature(for: SHA384.hash(data: data), padding: padding).rawRepresentation)
                    case 64: return Array(try key.signature(for: SHA512.hash(data: data), padding: padding).rawRepresentation)
                    default: return Array(try key.signature(for: SHA256.hash(data: data), padding: padding).rawRepresentation)
                    }
                }
            } catch let error as KeyError {
                throw error
            } catch {
                throw KeyError(.integrity, "key \(keyID) could not sign: \(error)")
            }
        }
    }

    /// Whether `signature` is `scheme`'s signature over `message` by the enabled signing key `keyID`.
    package func verify(keyID: String, message: SignedMessage, signature: [UInt8], scheme: SignatureScheme) async throws(KeyError) -> Bool {
        let record = try await signingRecord(keyID, scheme: scheme)
        let material = try await dataKeyMaterial(record, version: record.currentVersion)
        return try material.withUnsafeBytes { (bytes) throws(KeyError) -> Bool in
            do {
                switch scheme {
                case .ecdsaSHA256:
                    let key = try P256.Signing.PrivateKey(rawRepresentation: bytes).publicKey
                    guard let parsed = try? P256.Signing.ECDSASignature(derRepresentation: signature) else { return false }
                    switch message {
                    case .raw(let data): return key.isValidSignature(parsed, for: data)
                    case .digest(let digest): return key.isValidSignature(parsed, for: try PrecomputedSHA256(digest))
                    }
                default:
                    let key = try _RSA.Signing.PrivateKey(derRepresentation: bytes).publicKey
                    guard case .raw(let data) = message else {
                        throw KeyError(.invalidArgument, "RSA keys verify whole messages here, not precomputed digests")
                    }
                    let parsed = _RSA.Signing.RSASignature(rawRepresentation: signature)
                    let padding: _RSA.Signing.Padding = scheme.isPSS ? .PSS : .insecurePKCS1v1_5
                    switch scheme.digestCount {
                    case 48: return key.isValidSignature(parsed, for: SHA384.hash(data: data), padding: padding)
                    case 64: return key.isValidSignature(parsed, for: SHA512.hash(data: data), padding: padding)
                    default: return key.isValidSignature(parsed, for: SHA256.hash(data: data), padding: padding)
                    }
                }
            } catch let error as KeyError {
                throw error
            } catch {
                throw KeyError(.integrity, "key \(keyID) could not verify: \(error)")
            }
        }
    }

    /// The DER `SubjectPublicKeyInfo` of the enabled signing key `keyID`.
    package func publicKey(keyID: String) async throws(KeyError) -> [UInt8] {
        let record = try await load(keyID)
        try record.requireDataKey()
        guard !record.keyAlgorithm.isSymmetric else { throw KeyError(.invalidState, "key \(keyID) is symmetric; it has no public key") }
        let material = try await dataKeyMaterial(record, version: record.currentVersion)
        return try material.withUnsafeBytes { (bytes) throws(KeyError) -> [UInt8] in
            do {
                switch record.keyAlgorithm {
                case .p256: return Array(try P256.Signing.PrivateKey(rawRepresentation: bytes).publicKey.derRepresentation)
                default: return Array(try _RSA.Signing.PrivateKey(derRepresentation: bytes).publicKey.derRepresentation)
                }
            } catch {
                throw KeyError(.integrity, "key \(keyID) material does not parse as a \(record.keyAlgorithm.rawValue) key")
            }
        }
    }

    /// The record of signing key `keyID`, checked to be a data key whose algorithm `scheme` fits.
    private func signingRecord(_ keyID: String, scheme: SignatureScheme) async throws(KeyError) -> KeyRecord {
        let record = try await load(keyID)
        try record.requireDataKey()
        guard record.keyAlgorithm == scheme.keyAlgorithm else {
            throw KeyError(
                .invalidArgument, "key \(keyID) is \(record.keyAlgorithm.rawValue); \(scheme.rawValue) needs \(scheme.keyAlgorithm.rawValue)")
        }
        return record
    }
}

/// A SHA-256 digest the caller computed, so that ECDSA can sign it as swift-crypto signs its own digests.
private struct PrecomputedSHA256: Digest {
    static let byteCount = 32
    let bytes: [UInt8]

    init(_ bytes: [UInt8]) throws(KeyError) {
        guard bytes.count == Self.byteCount else { throw KeyError(.invalidArgument, "a SHA-256 digest is 32 bytes, not \(bytes.count)") }
        self.bytes = bytes
    }

    func withUnsafeBytes<R>(_ body: (UnsafeRawBufferPointer) throws -> R) rethrows -> R { try bytes.withUnsafeBytes(body) }

    func makeIterator() -> IndexingIterator<[UInt8]> { bytes.makeIterator() }

    var description: String { "SHA256 digest: " + bytes.map { String($0, radix: 16) }.joined() }
}
