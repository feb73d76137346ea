import Foundation
import Testing

@testable import KBSKeys

/// A key hierarchy rooted in an Infisical KMS key (the stand-in).
@Suite(InfisicalTools.needed)
struct InfisicalMasterKeyProviderTests {
    let plaintext = Array("the model weights' key".utf8)
    let aad = Array("repo/type/tag".utf8)

    @Test func rootsAKeyHierarchy() async throws {
        let standIn = try InfisicalStandIn()
        defer { standIn.stop() }
        let client = standIn.client()
        let provider = try await InfisicalMasterKeyProvider.connect(client: client, keyName: "kbs-master", create: true)
        #expect(provider.masterKeyID == "infisical/kbs-master")
        let keys = KeyHierarchy(master: provider, store: InMemoryKeyRecordStore())
        _ = try await keys.createKeyEncryptionKey(id: "kek", now: epoch)
        _ = try await keys.createDataKey(id: "dek", parent: "kek", now: epoch)
        let ciphertext = try await keys.encrypt(keyID: "dek", plaintext: plaintext, aad: aad)
        #expect(try await keys.decrypt(ciphertext, aad: aad) == plaintext)
        _ = try await keys.rotate("kek", now: epoch + day)
        _ = try await keys.rewrap("dek")
        #expect(try await keys.decrypt(ciphertext, aad: aad) == plaintext)

        // A second connection finds the same Infisical key, and so unwraps what the first wrapped.
        let again = try await InfisicalMasterKeyProvider.connect(client: standIn.client(), keyName: "kbs-master")
        #expect(again.keyID == provider.keyID)
        let reopened = KeyHierarchy(master: again, store: keys.store)
        #expect(try await reopened.decrypt(ciphertext, aad: aad) == plaintext)
    }

    @Test func bindsTheContextAndTheWrappingKey() async throws {
        let standIn = try InfisicalStandIn()
        defer { standIn.stop() }
        let client = standIn.client()
        let provider = try await InfisicalMasterKeyProvider.connect(client: client, keyName: "kbs-master", create: true)
        let kek = SecretBytes.random(count: 32)
        let context = Array("kbs-keys/v1 kek\u{0}kek\u{0}1".utf8)
        let wrapped = try await provider.wrap(kek, context: context)
        #expect(copied(try await provider.unwrap(wrapped, context: context)) == copied(kek))
        #expect(!wrapped.containsBytes(copied(kek)))

        // Another record's context, an altered ciphertext, or another Infisical key: integrity.
        await expectKeyError(.integrity) {
            _ = try await provider.unwrap(wrapped, context: Array("kbs-keys/v1 kek\u{0}kek\u{0}2".utf8))
        }
        var altered = wrapped
        altered[altered.count - 5] ^= 1
        await expectKeyError(.integrity) { _ = try await provider.unwrap(altered, context: context) }
        let other = try await InfisicalMasterKeyProvider.connect(client: client, keyName: "kbs-other", create: true)
        await expectKeyError(.integrity) { _ = try await other.unwrap(wrapped, context: context) }
        // Infisical's ciphertext under our header but naming the other key: Infisical itself refuses it.
        let (_, ciphertext) = try InfisicalMasterKeyProvider.parse(wrapped)
        let id = Array(other.keyID.utf8)
        let relabelled =
            InfisicalMasterKeyProvider.blobMagic + [UInt8(id.count >> 8), UInt8(id.count & 0xFF)] + id
            + ciphertext
        await expectKeyError(.integrity) { _ = try await other.unwrap(relabelled, context: context) }
        // Truncated or foreign bytes do not parse.
        await expectKeyError(.malformed) { _ = try await provider.unwrap(Array(wrapped.prefix(6)), context: context) }
        await expectKeyError(.malformed) { _ = try await provider.unwrap(Array("not wrapped".utf8), context: context) }
    }

    @Test func aHierarchyRefusesMaterialMovedBetweenRecords() async throws {
        let standIn = try InfisicalStandIn()
        defer { standIn.stop() }
        let provider = try await InfisicalMasterKeyProvider.connect(
            client: standIn.client(), keyName: "kbs-master", create: true)
        let store = InMemoryKeyRecordStore()
        let keys = KeyHierarchy(master: provider, store: store)
        _ = try await keys.createKeyEncryptionKey(id: "kek-a", now: epoch)
        _ = try await keys.createKeyEncryptionKey(id: "kek-b", now: epoch)
        _ = try await keys.createDataKey(id: "dek", parent: "kek-b", now: epoch)
        // Give kek-b the wrapped material of kek-a: the context (the record id) no longer matches.
        var b = try await keys.record("kek-b")
        let a = try await keys.record("kek-a")
        b.versions[0].wrapped = a.versions[0].wrapped
        try await store.save(b, expectedRevision: b.revision)
        // Creating a data key under kek-b unwraps only kek-b itself, so only the provider's context check stands in
        // the way (no data key's own authentication would catch it).
        await expectKeyError(.integrity) { _ = try await keys.createDataKey(id: "dek-2", parent: "kek-b", now: epoch) }
        await expectKeyError(.integrity) { _ = try await keys.encrypt(keyID: "dek", plaintext: plaintext) }
    }

    @Test func aDisabledInfisicalKeyIsRefused() async throws {
        let standIn = try InfisicalStandIn()
        defer { standIn.stop() }
        let client = standIn.client()
        let provider = try await InfisicalMasterKeyProvider.connect(client: client, keyName: "kbs-master", create: true)
        let wrapped = try await provider.wrap(SecretBytes.random(count: 32), context: [1])
        let disabled = try standIn.sdk(["disable-key", provider.keyID])
        #expect(disabled.status == 0 && disabled.output == "disabled\n", "\(disabled.output)")
        await expectKeyError(.disabled) {
            _ = try await InfisicalMasterKeyProvider.connect(client: client, keyName: "kbs-master")
        }
        // A provider made before the key was disabled gets Infisical's refusal.
        await expectKeyError(.disabled) { _ = try await provider.wrap(SecretBytes.random(count: 32), context: [1]) }
        await expectKeyError(.disabled) { _ = try await provider.unwrap(wrapped, context: [1]) }
    }

    @Test func aMissingKeyIsNotCreatedUnlessAsked() async throws {
        let standIn = try InfisicalStandIn()
        defer { standIn.stop() }
        await expectKeyError(.notFound) {
            _ = try await InfisicalMasterKeyProvider.connect(client: standIn.client(), keyName: "absent")
        }
    }
}
