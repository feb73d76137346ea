import Foundation
import KBSBroker
import KBSClaims
import KBSKeys
import KBSStore
import Testing

/// The store contract's change counters of a release's inputs (issue 18): every write to resources, reference values
/// or key records, from either replica, advances its counter, which is what lets the broker keep those in memory.
extension StoreContractTests {
    @Test("release revisions advance on every write to their table, whichever replica writes", arguments: StoreBackend.allCases)
    func releaseRevisions(backend: StoreBackend) async throws {
        try await StoreUnderTest.with(backend) { store in
            let reader = try #require(store.first.ports.revisions)
            let writer = store.replica(1).ports
            var last = try await reader.releaseRevisions()

            func advanced(_ path: WritableKeyPath<ReleaseRevisions, Int64>, _ write: () async throws -> Void) async throws -> Bool {
                try await write()
                let now = try await reader.releaseRevisions()
                defer { last = now }
                var others = now
                others[keyPath: path] = last[keyPath: path]
                return now[keyPath: path] > last[keyPath: path] && others == last
            }

            #expect(
                try await advanced(\.resources) {
                    _ = try await writer.resources.put(StoredResource(path: "r/k/a", sealed: [1], requiredTier: 0, labelsJSON: "{}"))
                })
            #expect(
                try await advanced(\.resources) {
                    _ = try await writer.resources.put(StoredResource(path: "r/k/a", sealed: [2], requiredTier: 1, labelsJSON: "{}"))
                })
            #expect(try await advanced(\.resources) { _ = try await writer.resources.delete(at: "r/k/a") })
            #expect(
                try await advanced(\.referenceValues) {
                    _ = try await writer.referenceValues.add(kind: "snp", name: "measurement", values: ["aa", "bb"])
                })
            #expect(
                try await advanced(\.referenceValues) {
                    _ = try await writer.referenceValues.remove(kind: "snp", name: "measurement", values: ["aa"])
                })
            #expect(try await writer.referenceValues.all() == ["snp": ["measurement": ["bb"]]])
            #expect(try await writer.referenceValues.remove(kind: "snp", name: "measurement", values: ["aa", "zz"]) == 0)
            // A write that changed nothing may advance its counter too (PostgreSQL's statement triggers do): only a
            // spurious reload, never a stale read.
            last = try await reader.releaseRevisions()

            let directory = FileManager.default.temporaryDirectory.appendingPathComponent("kbs-contract-revisions-\(UUID())").path
            try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
            defer { try? FileManager.default.removeItem(atPath: directory) }
            let master = try LocalMasterKeyProvider.create(
                at: directory + "/master.sealed", passphrase: [1, 2, 3], scrypt: ScryptParameters(log2N: 10, r: 8, p: 1))
            let keys = KeyHierarchy(master: master, store: store.replica(1).keyRecords)
            #expect(try await advanced(\.keyRecords) { _ = try await keys.createKeyEncryptionKey(id: "kek", now: Self.now) })
            #expect(try await advanced(\.keyRecords) { _ = try await keys.createDataKey(id: "dek", parent: "kek", now: Self.now) })
            let sealed = try await keys.encrypt(keyID: "dek", plaintext: [4, 2])

            // A hierarchy on the first replica reading records by the counter: a key disabled on the other replica is
            // refused under the counter read after the change.
            let cached = KeyHierarchy(master: master, store: store.first.keyRecords)
            let before = try await reader.releaseRevisions().keyRecords
            #expect(try await cached.decrypt(sealed, recordsAt: before) == [4, 2])
            _ = try await keys.disable("dek")
            let after = try await reader.releaseRevisions().keyRecords
            #expect(after > before)
            let refused = await Self.keyError { _ = try await cached.decrypt(sealed, recordsAt: after) }
            #expect(refused?.reason == .disabled)
        }
    }
}
