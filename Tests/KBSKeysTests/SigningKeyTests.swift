import Crypto
import CryptoExtras
import Foundation
import KBSClaims
import Testing

@testable import KBSKeys

/// Signing keys in the hierarchy: their material is made, wrapped and kept like AES keys, signs by its algorithm's
/// schemes only, and never encrypts or rotates.
struct SigningKeyTests {
    let message = Array("sign this".utf8)

    func hierarchy(_ algorithm: KeyAlgorithm) async throws -> KeyHierarchy {
        let (keys, _) = try makeHierarchy()
        _ = try await keys.createKeyEncryptionKey(id: "kek", now: epoch)
        _ = try await keys.createDataKey(id: "signer", parent: "kek", algorithm: algorithm, now: epoch)
        return keys
    }

    @Test func p256SignaturesVerifyWithTheExportedPublicKey() async throws {
        let keys = try await hierarchy(.p256)
        #expect(try await keys.record("signer").keyAlgorithm == .p256)
        let publicKey = try P256.Signing.PublicKey(derRepresentation: try await keys.publicKey(keyID: "signer"))
        let signature = try await keys.sign(keyID: "signer", message: .raw(message), scheme: .ecdsaSHA256)
        #expect(publicKey.isValidSignature(try P256.Signing.ECDSASignature(derRepresentation: signature), for: message))
        let digest = Array(SHA256.hash(data: message))
        let overDigest = try await keys.sign(keyID: "signer", message: .digest(digest), scheme: .ecdsaSHA256)
        #expect(publicKey.isValidSignature(try P256.Signing.ECDSASignature(derRepresentation: overDigest), for: message))
        #expect(try await keys.verify(keyID: "signer", message: .raw(message), signature: signature, scheme: .ecdsaSHA256))
        #expect(try await keys.verify(keyID: "signer", message: .digest(digest), signature: signature, scheme: .ecdsaSHA256))
        #expect(!(try await keys.verify(keyID: "signer", message: .raw(Array("other".utf8)), signature: signature, scheme: .ecdsaSHA256)))
        #expect(!(try await keys.verify(keyID: "signer", message: .raw(message), signature: [1, 2, 3], scheme: .ecdsaSHA256)))
    }

    @Test func rsaSignsPSSAndPKCS1WithEachHash() async throws {
        let keys = try await hierarchy(.rsa2048)
        let publicKey = try _RSA.Signing.PublicKey(derRepresentation: try await keys.publicKey(keyID: "signer"))
        #expect(publicKey.keySizeInBits == 2048)
        for scheme in SignatureScheme.schemes(for: .rsa2048) {
            let signature = try await keys.sign(keyID: "signer", message: .raw(message), scheme: scheme)
            #expect(try await keys.verify(keyID: "signer", message: .raw(message), signature: signature, scheme: scheme), "\(scheme)")
            let other = scheme == .rsaPSSSHA256 ? SignatureScheme.rsaPKCS1SHA256 : .rsaPSSSHA256
            #expect(!(try await keys.verify(keyID: "signer", message: .raw(message), signature: signature, scheme: other)), "\(scheme)")
        }
        let pss = try await keys.sign(keyID: "signer", message: .raw(message), scheme: .rsaPSSSHA256)
        #expect(publicKey.isValidSignature(_RSA.Signing.RSASignature(rawRepresentation: pss), for: SHA256.hash(data: message), padding: .PSS))
    }

    @Test func signingKeysNeitherEncryptRotateNorSignWithAnotherAlgorithm() async throws {
        let keys = try await hierarchy(.p256)
        await expectKeyError(.invalidState) { _ = try await keys.encrypt(keyID: "signer", plaintext: message) }
        await expectKeyError(.invalidState) { _ = try await keys.rotate("signer", now: epoch + day) }
        await expectKeyError(.invalidArgument) { _ = try await keys.sign(keyID: "signer", message: .raw(message), scheme: .rsaPSSSHA256) }
        await expectKeyError(.invalidArgument) { _ = try await keys.sign(keyID: "signer", message: .digest([1, 2, 3]), scheme: .ecdsaSHA256) }
        _ = try await keys.disable("signer")
        await expectKeyError(.disabled) { _ = try await keys.sign(keyID: "signer", message: .raw(message), scheme: .ecdsaSHA256) }
    }

    @Test func aesRecordsLeaveTheAlgorithmOutAndRelabelKeepsTheMaterial() async throws {
        let (keys, store) = try makeHierarchy()
        _ = try await keys.createKeyEncryptionKey(id: "kek", now: epoch)
        _ = try await keys.createDataKey(id: "dek", parent: "kek", labels: ["a": "1"], now: epoch)
        let record = try await keys.record("dek")
        #expect(record.algorithm == nil && record.keyAlgorithm == .aes256)
        let encoded = String(decoding: try JSONEncoder().encode(record), as: UTF8.self)
        #expect(!encoded.contains("algorithm"), "records of AES keys read as before signing keys existed")
        let ciphertext = try await keys.encrypt(keyID: "dek", plaintext: message)
        let relabelled = try await keys.relabel("dek", labels: ["b": "2"])
        #expect(relabelled.labels == ["b": "2"] && relabelled.versions == record.versions)
        #expect(try await keys.decrypt(ciphertext) == message)
        #expect(try await store.load("dek")?.labels == ["b": "2"])
        #expect(try KeyHierarchy.ciphertextKey(ciphertext) == ("dek", 1))
    }
}
