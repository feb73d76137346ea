import Testing

@testable import KBSKeys

struct LocalKMSBackendTests {
    let secret = Array("a DEK for the model weights".utf8)

    func backend(aad: [UInt8] = []) async throws -> LocalKMSBackend {
        let (keys, _) = try makeHierarchy()
        _ = try await keys.createKeyEncryptionKey(id: "kek", now: epoch)
        _ = try await keys.createDataKey(id: "dek", parent: "kek", now: epoch)
        _ = try await keys.createDataKey(id: "other", parent: "kek", now: epoch)
        return LocalKMSBackend(hierarchy: keys, aad: aad)
    }

    @Test func roundTripsThroughTheHierarchy() async throws {
        let kms = try await backend(aad: Array("bound".utf8))
        let ciphertext = try await kms.encrypt(keyID: "dek", plaintext: SecretBytes(copying: secret))
        #expect(!ciphertext.containsBytes(secret))
        #expect(copied(try await kms.decrypt(keyID: "dek", ciphertext: ciphertext)) == secret)
        // The same hierarchy with other additional data refuses it.
        let unbound = LocalKMSBackend(hierarchy: kms.hierarchy)
        await expectKeyError(.integrity) { _ = try await unbound.decrypt(keyID: "dek", ciphertext: ciphertext) }
    }

    @Test func refusesAnotherKeysCiphertextAndAlteredBytes() async throws {
        let kms = try await backend()
        var ciphertext = try await kms.encrypt(keyID: "dek", plaintext: SecretBytes(copying: secret))
        await expectKeyError(.integrity) { _ = try await kms.decrypt(keyID: "other", ciphertext: ciphertext) }
        ciphertext[ciphertext.count - 1] ^= 1
        await expectKeyError(.integrity) { _ = try await kms.decrypt(keyID: "dek", ciphertext: ciphertext) }
        await expectKeyError(.notFound) {
            _ = try await kms.encrypt(keyID: "missing", plaintext: SecretBytes(copying: secret))
        }
        await expectKeyError(.invalidState) {
            _ = try await kms.encrypt(keyID: "kek", plaintext: SecretBytes(copying: secret))
        }
    }
}

extension Array where Element == UInt8 {
    func containsBytes(_ subsequence: [UInt8]) -> Bool {
        guard !subsequence.isEmpty, count >= subsequence.count else { return false }
        return (0...(count - subsequence.count)).contains { Array(self[$0..<$0 + subsequence.count]) == subsequence }
    }
}
