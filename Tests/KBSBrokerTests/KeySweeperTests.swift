import Foundation
import KBSKeys
import Synchronization
import Testing

@testable import KBSBroker

/// The key sweeper on in-memory ports with the clock in the test's hand: keys past their deletion date destroyed and
/// KMS keys past their rotation period rotated with no request touching them, each once even when two sweeps race.
@Suite struct KeySweeperTests {
    typealias Fixture = KeyServiceTests.Fixture

    let plaintext = Array("a file key".utf8)

    static func sweeper(_ fixture: Fixture) async throws -> KeySweeper {
        let hierarchy = try await fixture.service.broker.vault.keySource.hierarchy()
        return KeySweeper(keys: fixture.service, records: hierarchy.store)
    }

    static func record(_ fixture: Fixture, _ id: String) async throws -> KeyRecord {
        try await fixture.service.broker.vault.keySource.hierarchy().record(id)
    }

    @Test func keysPastTheirDeletionDateAreDestroyedWithoutARequest() async throws {
        let fixture = try Fixture()
        let sweeper = try await Self.sweeper(fixture)
        let key = try await fixture.key()
        try await fixture.service.setAlias(fixture.alice, name: "alias/swept", target: key, update: false)
        let sealed = try await fixture.service.encrypt(fixture.alice, key, plaintext: plaintext, context: [:])
        _ = try await fixture.service.scheduleDeletion(fixture.alice, key, days: 7)
        // A key of the hierarchy that is not a KMS key, and one whose date is further off.
        let hierarchy = try await fixture.service.broker.vault.keySource.hierarchy()
        _ = try await hierarchy.createKeyEncryptionKey(id: "plain-kek", now: fixture.clock.now)
        _ = try await hierarchy.createDataKey(id: "plain-dek", parent: "plain-kek", now: fixture.clock.now)
        _ = try await hierarchy.scheduleDeletion("plain-dek", days: 7, now: fixture.clock.now)
        _ = try await hierarchy.createDataKey(id: "later-dek", parent: "plain-kek", now: fixture.clock.now)
        _ = try await hierarchy.scheduleDeletion("later-dek", days: 30, now: fixture.clock.now)

        #expect(await sweeper.sweep() == KeySweep(), "nothing is due yet")
        fixture.clock.advance(7 * 86_400 + 1)
        let audited = fixture.memory.audit.all.count
        let sweep = await sweeper.sweep()
        #expect(sweep.destroyed.sorted() == [KeyService.recordPrefix + key, "plain-dek"] && sweep.failures.isEmpty, "\(sweep)")

        for id in [KeyService.recordPrefix + key, "plain-dek"] {
            let record = try await Self.record(fixture, id)
            #expect(record.state == .destroyed && record.versions.allSatisfy { $0.wrapped.isEmpty }, "\(id): the material is gone")
        }
        #expect(try await Self.record(fixture, "later-dek").state != .destroyed)
        let entries = fixture.memory.audit.all.dropFirst(audited)
        let kms = try #require(entries.first { $0.action == "kms:DestroyKey" })
        #expect(kms.actor == "kbs" && kms.resource == KeyService.recordPrefix + key && kms.details["aliases"] == .list([.string("alias/swept")]))
        #expect(entries.contains { $0.action == "destroy" && $0.actor == "kbs" && $0.resource == "plain-dek" && $0.outcome == .success })
        #expect(entries.count == 2, "one audit record a destruction: \(entries.map(\.action))")
        #expect(try await fixture.repository.alias("alias/swept") == nil, "its aliases went with it")
        #expect(
            await KeyServiceTests.code {
                _ = try await fixture.service.decrypt(fixture.alice, ciphertext: sealed.ciphertext, context: [:], expectedKey: nil)
            } == "kms_not_found")

        #expect(await sweeper.sweep() == KeySweep(), "a second sweep finds nothing to do")
    }

    @Test func kmsKeysPastTheirRotationPeriodAreRotatedWithoutARequest() async throws {
        let fixture = try Fixture()
        let sweeper = try await Self.sweeper(fixture)
        let key = try await fixture.key()
        let idle = try await fixture.key()
        let before = try await fixture.service.encrypt(fixture.alice, key, plaintext: plaintext, context: [:])
        _ = try await fixture.service.setRotation(fixture.alice, key, days: 90)
        _ = try await fixture.service.setRotation(fixture.alice, idle, days: 90)
        _ = try await fixture.service.changeState(fixture.alice, "DisableKey", idle)

        fixture.clock.advance(89 * 86_400)
        #expect(await sweeper.sweep() == KeySweep(), "not due yet")
        fixture.clock.advance(2 * 86_400)
        let audited = fixture.memory.audit.all.count
        let sweep = await sweeper.sweep()
        #expect(sweep.rotated == [KeyService.recordPrefix + key] && sweep.failures.isEmpty, "a disabled key does not rotate: \(sweep)")

        let record = try await Self.record(fixture, KeyService.recordPrefix + key)
        #expect(record.currentVersion == 2 && record.versions.count == 2)
        let rotation = try #require(fixture.memory.audit.all.dropFirst(audited).first)
        #expect(rotation.action == "kms:RotateKey" && rotation.actor == "kbs" && rotation.details["automatic"] == .bool(true))
        #expect(rotation.details["version"] == .integer(2))
        let status = try await fixture.service.rotationStatus(fixture.alice, key)
        #expect(status.nextRotation == fixture.clock.now.addingTimeInterval(90 * 86_400), "the next period starts now")
        #expect(await sweeper.sweep() == KeySweep(), "rotated once a period")
        // The old version still decrypts; new encryptions use the new one.
        let opened = try await fixture.service.decrypt(fixture.alice, ciphertext: before.ciphertext, context: [:], expectedKey: nil)
        #expect(opened.plaintext == plaintext)
        let after = try await fixture.service.encrypt(fixture.alice, key, plaintext: plaintext, context: [:])
        #expect(try KeyHierarchy.ciphertextKey(after.ciphertext).version == 2)
        #expect(try await Self.record(fixture, KeyService.recordPrefix + idle).currentVersion == 1)
    }

    @Test func sweepsRacingEachOtherDestroyAndRotateEachKeyOnce() async throws {
        for _ in 0..<5 {
            let fixture = try Fixture()
            let sweeper = try await Self.sweeper(fixture)
            let doomed = try await fixture.key()
            let rotating = try await fixture.key()
            _ = try await fixture.service.scheduleDeletion(fixture.alice, doomed, days: 7)
            _ = try await fixture.service.setRotation(fixture.alice, rotating, days: 90)
            fixture.clock.advance(91 * 86_400)
            let audited = fixture.memory.audit.all.count
            async let first = sweeper.sweep()
            async let second = sweeper.sweep()
            async let third = sweeper.sweep()
            let sweeps = await [first, second, third]
            #expect(sweeps.allSatisfy { $0.failures.isEmpty }, "a key another sweep changed first is no failure: \(sweeps)")
            #expect(sweeps.flatMap(\.destroyed) == [KeyService.recordPrefix + doomed])
            #expect(sweeps.flatMap(\.rotated) == [KeyService.recordPrefix + rotating])
            #expect(try await Self.record(fixture, KeyService.recordPrefix + rotating).versions.count == 2)
            let actions = fixture.memory.audit.all.dropFirst(audited).map(\.action).sorted()
            #expect(actions == ["kms:DestroyKey", "kms:RotateKey"])
        }
    }

    @Test func aReplicaActingOnAStaleReadDoesNotRotateTwice() async throws {
        let fixture = try Fixture()
        let key = try await fixture.key()
        _ = try await fixture.service.setRotation(fixture.alice, key, days: 90)
        fixture.clock.advance(91 * 86_400)
        // What a second replica read before the first rotated: the entry and the record, both due.
        let stale = try await fixture.service.view(key)
        #expect(try await fixture.service.rotateIfDue(stale).rotated)
        // The first has saved the new version but not yet its new period: the stale read must not rotate again…
        #expect(try await fixture.repository.update(stale.entry))
        #expect(try await !fixture.service.rotateIfDue(stale).rotated)
        // …nor a fresh read of the record beside the entry not yet updated; that read restarts the period instead.
        let fresh = try await fixture.service.view(key)
        #expect(try await !fixture.service.rotateIfDue(fresh).rotated)
        #expect(try await Self.record(fixture, KeyService.recordPrefix + key).versions.count == 2)
        #expect(try await fixture.service.view(key).nextRotation == fixture.clock.now.addingTimeInterval(90 * 86_400))
        #expect(fixture.memory.audit.all.filter { $0.action == "kms:RotateKey" }.count == 1)
    }

    @Test func aFailingAuditIsReportedAndTheSweepGoesOn() async throws {
        let fixture = try Fixture()
        let sweeper = try await Self.sweeper(fixture)
        let key = try await fixture.key()
        _ = try await fixture.service.scheduleDeletion(fixture.alice, key, days: 7)
        fixture.clock.advance(8 * 86_400)
        fixture.memory.audit.failing.store(true, ordering: .relaxed)
        let sweep = await sweeper.sweep()
        #expect(sweep.failures.map(\.code) == ["audit_unavailable"] && sweep.failures.first?.key == KeyService.recordPrefix + key, "\(sweep)")
        #expect(!sweep.failures.contains { $0.message.contains("a file key") })
    }
}
