import Foundation
import KBSClaims
import Testing

@testable import KBSKeys

struct KeyHierarchyTests {
    let plaintext = Array("the model weights' key".utf8)
    let aad = Array("repo/type/tag".utf8)

    /// A hierarchy with KEK `kek` and data key `dek` under it.
    func hierarchyWithKeys() async throws -> (KeyHierarchy, InMemoryKeyRecordStore) {
        let (keys, store) = try makeHierarchy()
        _ = try await keys.createKeyEncryptionKey(id: "kek", now: epoch)
        _ = try await keys.createDataKey(
            id: "dek", parent: "kek", requiredTier: .gpuConfidentialComputing, labels: ["team": "ml"], now: epoch)
        return (keys, store)
    }

    @Test func encryptsAndDecryptsThroughTheHierarchy() async throws {
        let (keys, _) = try await hierarchyWithKeys()
        let ciphertext = try await keys.encrypt(keyID: "dek", plaintext: plaintext, aad: aad)
        let (header, _) = try Envelope.header(of: ciphertext)
        #expect(header.keyID == "dek" && header.keyVersion == 1)
        #expect(try await keys.decrypt(ciphertext, aad: aad) == plaintext)
        // Two encryptions of the same plaintext differ (fresh salt each time).
        #expect(try await keys.encrypt(keyID: "dek", plaintext: plaintext, aad: aad) != ciphertext)
        let record = try await keys.record("dek")
        #expect(record.requiredTier == .gpuConfidentialComputing)
        #expect(record.labels == ["team": "ml"])
        #expect(record.kind == .dataEncryption(parent: "kek"))
    }

    @Test func rotationKeepsOldCiphertextsDecryptable() async throws {
        let (keys, _) = try await hierarchyWithKeys()
        let before = try await keys.encrypt(keyID: "dek", plaintext: plaintext, aad: aad)
        let rotated = try await keys.rotate("dek", now: epoch + day)
        #expect(rotated.currentVersion == 2)
        #expect(rotated.versions.map(\.number) == [1, 2])
        #expect(rotated.version(2)?.created == epoch + day)
        let after = try await keys.encrypt(keyID: "dek", plaintext: plaintext, aad: aad)
        #expect(try Envelope.header(of: before).header.keyVersion == 1)
        #expect(try Envelope.header(of: after).header.keyVersion == 2)
        #expect(try await keys.decrypt(before, aad: aad) == plaintext)
        #expect(try await keys.decrypt(after, aad: aad) == plaintext)

        // Rotating the KEK: existing data-key versions stay wrapped by KEK version 1, the next by version 2.
        _ = try await keys.rotate("kek", now: epoch + 2 * day)
        _ = try await keys.rotate("dek", now: epoch + 2 * day)
        let dek = try await keys.record("dek")
        let kekVersions = try dek.versions.map { try Envelope.header(of: $0.wrapped).header.keyVersion }
        #expect(kekVersions == [1, 1, 2])
        let third = try await keys.encrypt(keyID: "dek", plaintext: plaintext, aad: aad)
        for ciphertext in [before, after, third] {
            #expect(try await keys.decrypt(ciphertext, aad: aad) == plaintext)
        }
    }

    @Test func rewrapMovesEveryDataKeyVersionToTheCurrentKEKVersion() async throws {
        let (keys, _) = try await hierarchyWithKeys()
        let first = try await keys.encrypt(keyID: "dek", plaintext: plaintext, aad: aad)
        _ = try await keys.rotate("dek", now: epoch)
        let second = try await keys.encrypt(keyID: "dek", plaintext: plaintext, aad: aad)
        let keyBefore = try await keys.useKey("dek", version: 1) { Array($0) }
        _ = try await keys.rotate("kek", now: epoch + day)
        let rewrapped = try await keys.rewrap("dek")
        #expect(try rewrapped.versions.map { try Envelope.header(of: $0.wrapped).header.keyVersion } == [2, 2])
        #expect(try await keys.useKey("dek", version: 1) { Array($0) } == keyBefore)
        #expect(try await keys.decrypt(first, aad: aad) == plaintext)
        #expect(try await keys.decrypt(second, aad: aad) == plaintext)
        await expectKeyError(.invalidState) { _ = try await keys.rewrap("kek") }
    }

    @Test func requiredTierIsOrdered() async throws {
        let (keys, _) = try await hierarchyWithKeys()
        let record = try await keys.record("dek")  // requires gpuConfidentialComputing (3)
        #expect(!record.isReleasable(to: .hsm))
        #expect(record.isReleasable(to: .gpuConfidentialComputing))
        #expect(record.isReleasable(to: .gpuTEEIO))
    }

    @Test func disabledKeysRefuseEncryptAndDecrypt() async throws {
        let (keys, _) = try await hierarchyWithKeys()
        let ciphertext = try await keys.encrypt(keyID: "dek", plaintext: plaintext)
        #expect(try await keys.disable("dek").state == .disabled)
        await expectKeyError(.disabled) { _ = try await keys.encrypt(keyID: "dek", plaintext: plaintext) }
        await expectKeyError(.disabled) { _ = try await keys.decrypt(ciphertext) }
        await expectKeyError(.disabled) { _ = try await keys.useKey("dek") { _ in } }
        await expectKeyError(.disabled) { _ = try await keys.rotate("dek", now: epoch) }
        #expect(try await keys.enable("dek").state == .enabled)
        #expect(try await keys.decrypt(ciphertext) == plaintext)

        // A disabled KEK blocks every data key under it.
        _ = try await keys.disable("kek")
        await expectKeyError(.disabled) { _ = try await keys.decrypt(ciphertext) }
        await expectKeyError(.disabled) { _ = try await keys.createDataKey(id: "dek2", parent: "kek", now: epoch) }
    }

    @Test func pendingDeletionRefusesUseAndCancellingLeavesTheKeyDisabled() async throws {
        let (keys, _) = try await hierarchyWithKeys()
        let ciphertext = try await keys.encrypt(keyID: "dek", plaintext: plaintext)
        let scheduled = try await keys.scheduleDeletion("dek", days: 7, now: epoch)
        #expect(scheduled.state == .pendingDeletion(until: epoch + 7 * day))
        await expectKeyError(.pendingDeletion) { _ = try await keys.encrypt(keyID: "dek", plaintext: plaintext) }
        await expectKeyError(.pendingDeletion) { _ = try await keys.decrypt(ciphertext) }
        await expectKeyError(.invalidState) { _ = try await keys.enable("dek") }
        await expectKeyError(.invalidState) { _ = try await keys.scheduleDeletion("dek", days: 10, now: epoch) }

        #expect(try await keys.cancelDeletion("dek").state == .disabled)
        await expectKeyError(.disabled) { _ = try await keys.decrypt(ciphertext) }
        await expectKeyError(.invalidState) { _ = try await keys.cancelDeletion("dek") }
        _ = try await keys.enable("dek")
        #expect(try await keys.decrypt(ciphertext) == plaintext)
    }

    @Test(arguments: [(6, false), (7, true), (15, true), (30, true), (31, false), (0, false), (-7, false)])
    func deletionWindowIsSevenToThirtyDays(days: Int, allowed: Bool) async throws {
        let (keys, _) = try await hierarchyWithKeys()
        if allowed {
            let record = try await keys.scheduleDeletion("dek", days: days, now: epoch)
            #expect(record.state == .pendingDeletion(until: epoch + Double(days) * day))
        } else {
            await expectKeyError(.invalidArgument) { _ = try await keys.scheduleDeletion("dek", days: days, now: epoch) }
            #expect(try await keys.record("dek").state == .enabled)
        }
    }

    @Test func destroyOnlyAfterTheDate() async throws {
        let (keys, _) = try await hierarchyWithKeys()
        let ciphertext = try await keys.encrypt(keyID: "dek", plaintext: plaintext)
        await expectKeyError(.invalidState) { _ = try await keys.destroy("dek", now: epoch + 100 * day) }
        _ = try await keys.scheduleDeletion("dek", days: 10, now: epoch)
        await expectKeyError(.invalidState) { _ = try await keys.destroy("dek", now: epoch + 10 * day - 1) }
        #expect(try await keys.destroyDue(now: epoch + 9 * day).isEmpty)

        let destroyed = try await keys.destroy("dek", now: epoch + 10 * day)
        #expect(destroyed.state == .destroyed)
        #expect(destroyed.versions.allSatisfy { $0.wrapped.isEmpty })
        await expectKeyError(.destroyed) { _ = try await keys.decrypt(ciphertext) }
        await expectKeyError(.destroyed) { _ = try await keys.enable("dek") }
        await expectKeyError(.destroyed) { _ = try await keys.destroy("dek", now: epoch + 20 * day) }
        await expectKeyError(.alreadyExists) { _ = try await keys.createDataKey(id: "dek", parent: "kek", now: epoch) }
    }

    @Test func destroyDueSweepsKeysWhoseDateHasCome() async throws {
        let (keys, _) = try await hierarchyWithKeys()
        _ = try await keys.createDataKey(id: "other", parent: "kek", now: epoch)
        _ = try await keys.scheduleDeletion("dek", days: 7, now: epoch)
        _ = try await keys.scheduleDeletion("other", days: 30, now: epoch)
        #expect(try await keys.destroyDue(now: epoch + 8 * day) == ["dek"])
        #expect(try await keys.record("other").state == .pendingDeletion(until: epoch + 30 * day))
    }

    @Test func tamperingFailsWithIntegrity() async throws {
        let (keys, _) = try await hierarchyWithKeys()
        _ = try await keys.createDataKey(id: "dek-b", parent: "kek", now: epoch)
        let ciphertext = try await keys.encrypt(keyID: "dek", plaintext: plaintext, aad: aad)
        let (_, bodyStart) = try Envelope.header(of: ciphertext)

        // Body, tag and salt bytes.
        for position in [bodyStart, ciphertext.count - 1, bodyStart - 1] {
            var tampered = ciphertext
            tampered[position] ^= 0x01
            await expectKeyError(.integrity) { _ = try await keys.decrypt(tampered, aad: aad) }
        }
        // Other additional data, or none.
        await expectKeyError(.integrity) { _ = try await keys.decrypt(ciphertext, aad: Array("repo/type/tah".utf8)) }
        await expectKeyError(.integrity) { _ = try await keys.decrypt(ciphertext) }

        // The key id rewritten to another existing data key (same length).
        let other = try await keys.encrypt(keyID: "dek-b", plaintext: plaintext, aad: aad)
        let otherHeader = try Envelope.header(of: other)
        var renamed = Array(otherHeader.header.encoded.prefix(6)) + Array("dek-b".utf8)
        renamed += Array(ciphertext[(6 + 3)...])
        #expect(try Envelope.header(of: renamed).header.keyID == "dek-b")
        await expectKeyError(.integrity) { _ = try await keys.decrypt(renamed, aad: aad) }

        // The version rewritten to another existing version.
        _ = try await keys.rotate("dek", now: epoch)
        var reversioned = ciphertext
        reversioned[6 + 3 + 3] = 2  // the low byte of the big-endian version after "dek"
        #expect(try Envelope.header(of: reversioned).header.keyVersion == 2)
        await expectKeyError(.integrity) { _ = try await keys.decrypt(reversioned, aad: aad) }

        // A version or key that does not exist is not found; garbage is malformed.
        reversioned[6 + 3 + 3] = 9
        await expectKeyError(.notFound) { _ = try await keys.decrypt(reversioned, aad: aad) }
        await expectKeyError(.malformed) { _ = try await keys.decrypt(Array(ciphertext.prefix(20)), aad: aad) }
        var badMagic = ciphertext
        badMagic[0] = 0
        await expectKeyError(.malformed) { _ = try await keys.decrypt(badMagic, aad: aad) }
    }

    @Test func wrappedMaterialMovedToAnotherRecordFails() async throws {
        let (keys, store) = try await hierarchyWithKeys()
        var other = try await keys.createDataKey(id: "dek-b", parent: "kek", now: epoch)
        let source = try await keys.record("dek")
        other.versions[0].wrapped = source.versions[0].wrapped
        let revision = other.revision
        other.revision += 1
        try await store.save(other, expectedRevision: revision)
        await expectKeyError(.integrity) { _ = try await keys.encrypt(keyID: "dek-b", plaintext: plaintext) }
    }

    @Test func keyEncryptionKeysEncryptNothingButDataKeys() async throws {
        let (keys, _) = try await hierarchyWithKeys()
        await expectKeyError(.invalidState) { _ = try await keys.encrypt(keyID: "kek", plaintext: plaintext) }
        await expectKeyError(.invalidState) { _ = try await keys.useKey("kek") { _ in } }
        await expectKeyError(.invalidArgument) { _ = try await keys.createDataKey(id: "x", parent: "dek", now: epoch) }
        await expectKeyError(.notFound) { _ = try await keys.createDataKey(id: "x", parent: "absent", now: epoch) }
        await expectKeyError(.invalidArgument) { _ = try await keys.createKeyEncryptionKey(id: "", now: epoch) }
        await expectKeyError(.invalidArgument) { _ = try await keys.createKeyEncryptionKey(id: "has space", now: epoch) }
        await expectKeyError(.alreadyExists) { _ = try await keys.createKeyEncryptionKey(id: "kek", now: epoch) }
    }

    @Test func useKeyGivesTheDataKeyOfEachVersion() async throws {
        let (keys, _) = try await hierarchyWithKeys()
        let first = try await keys.encrypt(keyID: "dek", plaintext: plaintext, aad: aad)
        _ = try await keys.rotate("dek", now: epoch)
        let second = try await keys.encrypt(keyID: "dek", plaintext: plaintext, aad: aad)

        let current = try await keys.useKey("dek") { Array($0) }
        let old = try await keys.useKey("dek", version: 1) { Array($0) }
        #expect(current.count == 32 && old.count == 32 && current != old)
        // The bytes are the key: they open what the hierarchy sealed with that version.
        #expect(try Envelope.open(second, key: SecretBytes(copying: current), aad: aad) == plaintext)
        #expect(try Envelope.open(first, key: SecretBytes(copying: old), aad: aad) == plaintext)
        await expectKeyError(.notFound) { _ = try await keys.useKey("dek", version: 3) { _ in } }
        // The closure's own errors come through unchanged.
        struct Marker: Error {}
        await #expect(throws: Marker.self) { _ = try await keys.useKey("dek") { (_) throws -> Int in throw Marker() } }
    }

    @Test func staleSavesConflict() async throws {
        let (keys, store) = try await hierarchyWithKeys()
        let stale = try await keys.record("dek")
        _ = try await keys.disable("dek")
        var edited = stale
        edited.state = .enabled
        await expectKeyError(.conflict) { try await store.save(edited, expectedRevision: stale.revision) }
        #expect(try await keys.record("dek").state == .disabled)
    }

    @Test func recordsRoundTripThroughJSON() async throws {
        let (keys, _) = try await hierarchyWithKeys()
        _ = try await keys.scheduleDeletion("dek", days: 7, now: epoch)
        for record in try await keys.records() {
            let data = try JSONEncoder().encode(record)
            #expect(try JSONDecoder().decode(KeyRecord.self, from: data) == record)
        }
        #expect(try await keys.records().map(\.id) == ["dek", "kek"])
    }
}

struct SecretBytesTests {
    @Test func wipeZeroesAndRandomFills() {
        var bytes: [UInt8] = [1, 2, 3, 4]
        wipe(&bytes)
        #expect(bytes == [0, 0, 0, 0])
        let random = SecretBytes.random(count: 33)
        #expect(random.count == 33)
        #expect(copied(random) != [UInt8](repeating: 0, count: 33))
        #expect(copied(SecretBytes(zeros: 3)) == [0, 0, 0])
    }
}
