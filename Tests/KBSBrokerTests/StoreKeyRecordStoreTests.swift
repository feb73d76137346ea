import Foundation
import KBSBroker
import KBSClaims
import KBSKeys
import KBSStore
import Testing

/// The key hierarchy over the broker's SQLite store: what is acknowledged survives a reopen, and saves are
/// compare-and-set.
struct StoreKeyRecordStoreTests {
    static func temporaryDirectory() throws -> String {
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("kbs-broker-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
        return path
    }

    static let cheap = ScryptParameters(log2N: 10, r: 8, p: 1)
    static let now = Date(timeIntervalSince1970: 1_800_000_000)

    /// Keys created and rotated through one `Store` decrypt their old and new ciphertexts after the file is reopened
    /// by another `Store` and the master key is unsealed again.
    @Test func rotatedKeysSurviveAReopen() async throws {
        let directory = try Self.temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let sealed = directory + "/master.sealed"
        let passphrase = Array("correct horse battery staple".utf8)
        let master = try LocalMasterKeyProvider.create(at: sealed, passphrase: passphrase, scrypt: Self.cheap)
        let hierarchy = KeyHierarchy(master: master, store: StoreKeyRecordStore(try Store(directory: directory)))
        _ = try await hierarchy.createKeyEncryptionKey(id: "kek-app", now: Self.now)
        _ = try await hierarchy.createDataKey(id: "dek-db", parent: "kek-app", now: Self.now)
        let before = try await hierarchy.encrypt(keyID: "dek-db", plaintext: Array("first".utf8))
        _ = try await hierarchy.rotate("dek-db", now: Self.now + 60)
        _ = try await hierarchy.rotate("kek-app", now: Self.now + 120)
        let after = try await hierarchy.encrypt(keyID: "dek-db", plaintext: Array("second".utf8))

        let reopened = KeyHierarchy(
            master: try LocalMasterKeyProvider.unseal(at: sealed, passphrase: passphrase),
            store: StoreKeyRecordStore(try Store(directory: directory)))
        #expect(try await reopened.decrypt(before) == Array("first".utf8))
        #expect(try await reopened.decrypt(after) == Array("second".utf8))
        let records = try await reopened.records()
        #expect(records.map(\.id) == ["dek-db", "kek-app"])
        #expect(records.first?.currentVersion == 2)
        // The store holds wrapped material only: neither plaintext appears in the database file.
        let database = try Data(contentsOf: URL(fileURLWithPath: directory + "/kbs.sqlite"))
        #expect(database.range(of: Data("first".utf8)) == nil)
    }

    /// Two writers that read the same revision: the second save is a conflict, not a lost update.
    @Test func savesAreCompareAndSet() async throws {
        let directory = try Self.temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let master = try LocalMasterKeyProvider.create(at: directory + "/m", passphrase: [1, 2, 3], scrypt: Self.cheap)
        let first = StoreKeyRecordStore(try Store(directory: directory))
        let second = StoreKeyRecordStore(try Store(directory: directory))
        let hierarchy = KeyHierarchy(master: master, store: first)
        let record = try await hierarchy.createKeyEncryptionKey(id: "kek", now: Self.now)
        _ = try await hierarchy.disable("kek")
        do {
            try await second.save(record, expectedRevision: record.revision)
            Issue.record("a stale save overwrote a newer revision")
        } catch let error as KeyError {
            #expect(error.reason == .conflict)
        }
        do {
            try await second.save(record, expectedRevision: nil)
            Issue.record("a create overwrote an existing key")
        } catch let error as KeyError {
            #expect(error.reason == .alreadyExists)
        }
        #expect(try await second.load("kek")?.state == .disabled)
        #expect(try await second.load("missing") == nil)
    }
}
