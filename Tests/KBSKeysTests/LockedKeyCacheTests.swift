import Testing

@testable import KBSKeys

/// The data-key cache: found only under the exact revisions it was kept at, wiped when dropped, and bounded.
@Suite struct LockedKeyCacheTests {
    static func name(_ id: String, version: UInt32 = 1, revision: Int = 1, parent: String = "kek", parentRevision: Int = 1) -> LockedKeyCache.Name {
        LockedKeyCache.Name(id: id, version: version, revision: revision, parent: parent, parentRevision: parentRevision)
    }

    /// The bytes cached under `name`, or nil.
    static func found(_ cache: LockedKeyCache, _ name: LockedKeyCache.Name) -> [UInt8]? {
        guard let key = cache.key(name) else { return nil }
        return key.withUnsafeBytes { Array($0) }
    }

    @Test("a kept key is found under its exact name only")
    func exactName() throws {
        let cache = LockedKeyCache()
        try #require(cache.isLocked)
        cache.keep(SecretBytes(copying: [1, 2, 3]), as: Self.name("dek"))
        #expect(Self.found(cache, Self.name("dek")) == [1, 2, 3])
        #expect(Self.found(cache, Self.name("dek", revision: 2)) == nil)
        #expect(Self.found(cache, Self.name("dek", parentRevision: 2)) == nil)
        #expect(Self.found(cache, Self.name("dek", version: 2)) == nil)
        #expect(Self.found(cache, Self.name("other")) == nil)
    }

    @Test("a newer revision replaces the older entry; dropping a key or its parent wipes its entries")
    func replaceAndDrop() throws {
        let cache = LockedKeyCache()
        try #require(cache.isLocked)
        cache.keep(SecretBytes(copying: [1]), as: Self.name("dek"))
        cache.keep(SecretBytes(copying: [2]), as: Self.name("dek", revision: 2))
        #expect(cache.count == 1)
        cache.keep(SecretBytes(copying: [3]), as: Self.name("dek2", parent: "kek2"))
        cache.drop("kek")
        #expect(cache.count == 1)
        #expect(Self.found(cache, Self.name("dek", revision: 2)) == nil)
        cache.drop("dek2")
        #expect(cache.count == 0)
    }

    @Test("the cache holds at most its capacity, and keys longer than a slot are not kept")
    func bounded() throws {
        let cache = LockedKeyCache()
        try #require(cache.isLocked)
        for index in 0..<(LockedKeyCache.capacity + 10) {
            cache.keep(SecretBytes(copying: [UInt8(index % 256)]), as: Self.name("dek-\(index)"))
        }
        #expect(cache.count == LockedKeyCache.capacity)
        cache.keep(SecretBytes(zeros: LockedKeyCache.slotBytes + 1), as: Self.name("long"))
        #expect(Self.found(cache, Self.name("long")) == nil)
    }
}
