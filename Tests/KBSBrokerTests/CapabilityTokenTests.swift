import Crypto
import Foundation
import KBSClaims
import KBSKeys
import KBSStore
import Synchronization
import Testing

@testable import KBSBroker

/// Capability tokens: issue and verify, attenuation that only narrows, tampering of every part, expiry, revocation
/// that beats the cache (also from a second store on the same file), a foreign root key, and hostile inputs.
struct CapabilityTokenTests {
    /// A data directory with a store, a cheaply sealed master key and an authority over them.
    struct Fixture {
        let directory: String
        let store: Store
        let hierarchy: KeyHierarchy
        let authority: CapabilityAuthority
        let clock: TestClock

        static let passphrase = Array("capability tokens test".utf8)

        init(cacheCapacity: Int = 4096) throws {
            directory = FileManager.default.temporaryDirectory.appendingPathComponent("kbs-captokens-\(UUID().uuidString)").path
            try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
            store = try Store(directory: directory)
            let master = try LocalMasterKeyProvider.create(
                at: directory + "/master.sealed", passphrase: Self.passphrase, scrypt: StoreKeyRecordStoreTests.cheap)
            clock = TestClock(Date(timeIntervalSince1970: 1_800_000_000))
            let clock = clock
            hierarchy = KeyHierarchy(master: master, store: StoreKeyRecordStore(store))
            authority = CapabilityAuthority(ports: .sqlite(store, clock: { clock.now }), keys: KeySource(hierarchy), cacheCapacity: cacheCapacity)
        }

        /// Another store and authority on the same file, as the CLI beside a server has (its own cache, same clock).
        func second() throws -> (Store, CapabilityAuthority) {
            let other = try Store(directory: directory)
            let master = try LocalMasterKeyProvider.unseal(at: directory + "/master.sealed", passphrase: Self.passphrase)
            let clock = clock
            return (
                other,
                CapabilityAuthority(
                    ports: .sqlite(other, clock: { clock.now }), keys: KeySource(KeyHierarchy(master: master, store: StoreKeyRecordStore(other))))
            )
        }

        func remove() { try? FileManager.default.removeItem(atPath: directory) }
    }

    /// The refusal's code, or nil when `body` succeeded.
    static func code(_ body: () async throws(BrokerError) -> Void) async -> String? {
        do { try await body() } catch { return error.code }
        return nil
    }

    static func verifyCode(_ authority: CapabilityAuthority, _ token: String, _ capability: String? = nil) async -> String? {
        await code { () async throws(BrokerError) in _ = try await authority.verify(token, capability: capability) }
    }

    /// The token's JSON object, to tamper with.
    static func object(_ token: String) throws -> [String: Any] {
        let json = try #require(Base64URL.decode(String(token.dropFirst("kbsc1.".count))))
        return try #require(try JSONSerialization.jsonObject(with: Data(json)) as? [String: Any])
    }

    static func token(_ object: [String: Any]) throws -> String {
        "kbsc1." + Base64URL.encode(try JSONSerialization.data(withJSONObject: object, options: [.sortedKeys]))
    }

    @Test func capabilityGrammarAndCovering() throws {
        let prefix = try #require(Capability("read:secrets/db/*"))
        #expect(prefix.covers(try #require(Capability("read:secrets/db/password"))))
        #expect(prefix.covers(try #require(Capability("read:secrets/db/*"))))
        #expect(prefix.covers(try #require(Capability("read:secrets/db/x*"))))
        #expect(!prefix.covers(try #require(Capability("read:secrets/dbx"))))
        #expect(!prefix.covers(try #require(Capability("read:secrets/*"))))
        #expect(!prefix.covers(try #require(Capability("write:secrets/db/password"))))
        let exact = try #require(Capability("write:logs/app"))
        #expect(!exact.covers(try #require(Capability("write:logs/app*"))))
        #expect(try #require(Capability("read:*")).covers(try #require(Capability("read:anything/at:all"))))
        for bad in [
            "", "read", ":x", "read:", "Read:x", "read:a*b", "read:a**", "read:has space", "re*d:x", "read:\u{e9}",
            String(repeating: "a", count: 65) + ":x",
        ] {
            #expect(Capability(bad) == nil, "\(bad)")
        }
        #expect(
            Capability.intersection([prefix, exact], [try #require(Capability("read:*")), try #require(Capability("read:secrets/db/a"))]) == [prefix])
    }

    @Test func issuedTokenVerifiesAndGrantsOnlyItsCapabilities() async throws {
        let fixture = try Fixture()
        defer { fixture.remove() }
        let issued = try await fixture.authority.issue(
            agent: "agent-7", capabilities: ["read:secrets/db/*", "write:logs/app", "read:secrets/db/*"],
            lifetime: 600, actor: "test")
        #expect(issued.token.hasPrefix("kbsc1."))
        #expect(issued.expires == Int64(fixture.clock.now.timeIntervalSince1970) + 600)
        let verified = try await fixture.authority.verify(issued.token)
        #expect(verified.id == issued.id && verified.subject == "agent-7" && verified.expires == issued.expires)
        #expect(verified.capabilities.map(\.description) == ["read:secrets/db/*", "write:logs/app"])
        _ = try await fixture.authority.verify(issued.token, capability: "read:secrets/db/password")
        _ = try await fixture.authority.verify(issued.token, capability: "write:logs/app")
        #expect(await Self.verifyCode(fixture.authority, issued.token, "read:secrets/dbx") == "capability_denied")
        #expect(await Self.verifyCode(fixture.authority, issued.token, "write:logs/app2") == "capability_denied")
        #expect(await Self.verifyCode(fixture.authority, issued.token, "write:logs/*") == "capability_denied")
        #expect(await Self.verifyCode(fixture.authority, issued.token, "no capability") == "invalid_request")

        // Refusals at issue: bad agent, bad or no capabilities, lifetime out of range.
        for (agent, caps, lifetime) in [
            ("", ["read:x"], 60.0), ("a\u{0}b", ["read:x"], 60), ("a", [], 60), ("a", ["read x"], 60),
            ("a", ["read:x"], 0), ("a", ["read:x"], 86401),
        ] {
            let refused = await Self.code { () async throws(BrokerError) in
                _ = try await fixture.authority.issue(agent: agent, capabilities: caps, lifetime: lifetime, actor: "test")
            }
            #expect(refused == "invalid_request", "\(agent) \(caps) \(lifetime)")
        }

        // The store keeps metadata only; issue and the root key's creation are audited, without the token.
        let stored = try #require(try fixture.store.capabilityToken(issued.id))
        #expect(stored.subject == "agent-7" && stored.keyVersion == 1 && stored.revokedAt == nil)
        let signature = try #require(try Self.object(issued.token)["sig"] as? String)
        let records = try fixture.store.auditRecords()
        #expect(records.contains { $0.action == "issue_capability_token" && $0.resource == issued.id })
        #expect(records.contains { $0.action == "create" && $0.resource == CapabilityAuthority.rootKeyID })
        for name in ["kbs.sqlite", "kbs.sqlite-wal"] {
            guard let bytes = FileManager.default.contents(atPath: fixture.directory + "/" + name) else { continue }
            #expect(bytes.range(of: Data(issued.token.utf8)) == nil && bytes.range(of: Data(signature.utf8)) == nil, "\(name)")
        }
        #expect(try fixture.store.verifyAudit().isValid)
    }

    @Test func attenuationNarrowsCapabilitiesAndExpiryWithoutTheKey() async throws {
        let fixture = try Fixture()
        defer { fixture.remove() }
        let issued = try await fixture.authority.issue(
            agent: "agent", capabilities: ["read:secrets/db/*", "write:logs/app"], lifetime: 600, actor: "test")
        let now = fixture.clock.now
        let narrowed = try CapabilityAuthority.attenuate(issued.token, capabilities: ["read:secrets/db/password"], expires: now + 60)
        let verified = try await fixture.authority.verify(narrowed)
        #expect(verified.capabilities.map(\.description) == ["read:secrets/db/password"])
        #expect(verified.expires == Int64(now.timeIntervalSince1970) + 60)
        _ = try await fixture.authority.verify(narrowed, capability: "read:secrets/db/password")
        #expect(await Self.verifyCode(fixture.authority, narrowed, "read:secrets/db/other") == "capability_denied")
        #expect(await Self.verifyCode(fixture.authority, narrowed, "write:logs/app") == "capability_denied")
        // A second caveat narrows further; the original still holds its full rights.
        let twice = try CapabilityAuthority.attenuate(narrowed, capabilities: nil, expires: now + 30)
        #expect(try await fixture.authority.verify(twice).expires == Int64(now.timeIntervalSince1970) + 30)
        _ = try await fixture.authority.verify(issued.token, capability: "write:logs/app")
        fixture.clock.advance(45)
        #expect(await Self.verifyCode(fixture.authority, twice) == "token_expired")
        _ = try await fixture.authority.verify(narrowed)
        fixture.clock.advance(20)
        #expect(await Self.verifyCode(fixture.authority, narrowed) == "token_expired")
        _ = try await fixture.authority.verify(issued.token)
        // An empty caveat list of capabilities leaves nothing.
        let nothing = try CapabilityAuthority.attenuate(issued.token, capabilities: [], expires: nil)
        #expect(try await fixture.authority.verify(nothing).capabilities.isEmpty)
        #expect(await Self.verifyCode(fixture.authority, nothing, "write:logs/app") == "capability_denied")
        // A caveat that says nothing, or is malformed, is refused.
        for (caps, expires) in [(nil, nil), (["bad cap"], nil)] as [([String]?, Date?)] {
            let refused = await Self.code { () async throws(BrokerError) in
                _ = try CapabilityAuthority.attenuate(issued.token, capabilities: caps, expires: expires)
            }
            #expect(refused == "invalid_request")
        }
    }

    @Test func aWideningCaveatGrantsNothingBeyondTheBase() async throws {
        let fixture = try Fixture()
        defer { fixture.remove() }
        let issued = try await fixture.authority.issue(agent: "agent", capabilities: ["read:secrets/db/*"], lifetime: 300, actor: "test")
        let widened = try CapabilityAuthority.attenuate(
            issued.token, capabilities: ["read:*", "admin:everything", "write:secrets/db/*"],
            expires: fixture.clock.now + 86400)
        let verified = try await fixture.authority.verify(widened)
        #expect(verified.capabilities.map(\.description) == ["read:secrets/db/*"])
        #expect(verified.expires == issued.expires)
        for wanted in ["read:secrets/other", "admin:everything", "write:secrets/db/x", "read:*"] {
            #expect(await Self.verifyCode(fixture.authority, widened, wanted) == "capability_denied", "\(wanted)")
        }
        _ = try await fixture.authority.verify(widened, capability: "read:secrets/db/x")
        fixture.clock.advance(300)
        #expect(await Self.verifyCode(fixture.authority, widened) == "token_expired")
    }

    /// Issue 15, #6: a forged token under a known id is refused before the root key is touched (using it may cost a
    /// key-service or HSM call each time): an authority whose key source cannot open still answers `invalid_token`.
    @Test func aForgedTokenUnderAKnownIDCostsNoKeyOperation() async throws {
        let fixture = try Fixture()
        defer { fixture.remove() }
        let issued = try await fixture.authority.issue(agent: "agent", capabilities: ["read:secrets/db/*"], lifetime: 600, actor: "test")
        let clock = fixture.clock
        let keyless = CapabilityAuthority(
            ports: .sqlite(try Store(directory: fixture.directory), clock: { clock.now }),
            keys: KeySource { throw KeyError(.sealed, "no key operation may happen here") })
        for (name, value) in [("sub", "someone-else"), ("caps", "[\"admin:*\"]")] as [(String, String)] {
            var object = try Self.object(issued.token)
            object[name] = name == "caps" ? ["admin:*"] : value
            #expect(await Self.verifyCode(keyless, try Self.token(object)) == "invalid_token", "\(name)")
        }
        var later = try Self.object(issued.token)
        later["exp"] = (later["exp"] as? Int ?? 0) + 3600
        #expect(await Self.verifyCode(keyless, try Self.token(later)) == "invalid_token")
    }

    @Test func anyEditToTheBaseACaveatOrTheSignatureIsInvalid() async throws {
        let fixture = try Fixture()
        defer { fixture.remove() }
        let issued = try await fixture.authority.issue(agent: "agent", capabilities: ["read:secrets/db/*"], lifetime: 600, actor: "test")
        let now = fixture.clock.now
        let first = try CapabilityAuthority.attenuate(issued.token, capabilities: ["read:secrets/db/a"], expires: nil)
        let token = try CapabilityAuthority.attenuate(first, capabilities: nil, expires: now + 60)
        _ = try await fixture.authority.verify(token)
        let original = try Self.object(token)
        let caveats = try #require(original["caveats"] as? [[String: Any]])
        #expect(caveats.count == 2)

        var edits: [(String, [String: Any])] = []
        func edit(_ name: String, _ change: (inout [String: Any]) -> Void) {
            var copy = original
            change(&copy)
            edits.append((name, copy))
        }
        edit("base caps") { $0["caps"] = ["read:*"] }
        edit("base caps added") { $0["caps"] = ["read:secrets/db/*", "write:x"] }
        edit("subject") { $0["sub"] = "admin" }
        edit("base expiry") { $0["exp"] = (($0["exp"] as? Int) ?? 0) + 3600 }
        edit("issued") { $0["iat"] = (($0["iat"] as? Int) ?? 0) - 1 }
        edit("id") { $0["id"] = UUID().uuidString.lowercased() }
        edit("first caveat caps") { object in
            var list = caveats
            list[0]["caps"] = ["read:secrets/db/*"]
            object["caveats"] = list
        }
        edit("last caveat expiry") { object in
            var list = caveats
            list[1]["exp"] = Int(now.timeIntervalSince1970) + 6000
            object["caveats"] = list
        }
        edit("last caveat dropped") { $0["caveats"] = [caveats[0]] }
        edit("first caveat dropped") { $0["caveats"] = [caveats[1]] }
        edit("all caveats dropped") { $0["caveats"] = [] as [Any] }
        edit("caveats reordered") { $0["caveats"] = [caveats[1], caveats[0]] }
        edit("signature") { object in
            var bytes = Base64URL.decode(object["sig"] as? String ?? "") ?? []
            bytes[0] ^= 1
            object["sig"] = Base64URL.encode(bytes)
        }
        // Dropping the last caveat and presenting its link's predecessor is impossible: the holder only has the last.
        for (name, object) in edits {
            #expect(await Self.verifyCode(fixture.authority, try Self.token(object)) == "invalid_token", "\(name)")
        }
        // The untouched token, re-encoded the same way, still verifies: the edits, not the encoding, broke them.
        _ = try await fixture.authority.verify(try Self.token(original))
    }

    @Test func revocationCountsAtOnceEvenWhenTheCacheHoldsTheToken() async throws {
        let fixture = try Fixture()
        defer { fixture.remove() }
        let one = try await fixture.authority.issue(agent: "agent", capabilities: ["read:x"], lifetime: 600, actor: "test")
        let two = try await fixture.authority.issue(agent: "agent", capabilities: ["read:x"], lifetime: 600, actor: "test")
        _ = try await fixture.authority.verify(one.token)
        _ = try await fixture.authority.verify(two.token)
        #expect(fixture.authority.cache.count == 2)
        #expect(try await fixture.authority.revoke(one.id, actor: "test"))
        #expect(await Self.verifyCode(fixture.authority, one.token) == "token_revoked")
        // An attenuated copy of a revoked token is revoked too (same id).
        #expect(
            await Self.verifyCode(fixture.authority, try CapabilityAuthority.attenuate(one.token, capabilities: nil, expires: fixture.clock.now + 10))
                == "token_revoked")

        // A revocation through another store and authority on the same file (the CLI beside a server).
        let (otherStore, other) = try fixture.second()
        _ = try await other.verify(two.token)
        #expect(try await other.revoke(two.id, actor: "cli"))
        // The first authority's cache still holds the verified chain; the revocation wins all the same.
        #expect(fixture.authority.cache.lookup(SHA256.hash(data: Array(two.token.utf8)), now: fixture.clock.now) != nil)
        #expect(await Self.verifyCode(fixture.authority, two.token) == "token_revoked")
        #expect(try await other.revoke(two.id, actor: "cli"))
        #expect(try await !other.revoke(UUID().uuidString.lowercased(), actor: "cli"))
        #expect(try otherStore.capabilityTokens().allSatisfy { $0.revokedAt != nil })
        #expect(try fixture.store.auditRecords().filter { $0.action == "revoke_capability_token" }.count == 3)
    }

    @Test func aTokenFromAnotherRootKeyIsInvalid() async throws {
        let mine = try Fixture()
        let theirs = try Fixture()
        defer {
            mine.remove()
            theirs.remove()
        }
        let foreign = try await theirs.authority.issue(agent: "agent", capabilities: ["read:*"], lifetime: 600, actor: "test")
        #expect(await Self.verifyCode(mine.authority, foreign.token) == "invalid_token")
        // Even when this store knows the id (so only the key differs), the chain does not verify.
        _ = try await mine.authority.issue(agent: "agent", capabilities: ["read:x"], lifetime: 600, actor: "test")
        let stored = try #require(try theirs.store.capabilityToken(foreign.id))
        try mine.store.insertCapabilityToken(stored)
        #expect(await Self.verifyCode(mine.authority, foreign.token) == "invalid_token")
        _ = try await theirs.authority.verify(foreign.token)
    }

    @Test func malformedTokensAreInvalidAndNeverCrash() async throws {
        let fixture = try Fixture()
        defer { fixture.remove() }
        let issued = try await fixture.authority.issue(agent: "agent", capabilities: ["read:x"], lifetime: 600, actor: "test")
        var generator = SystemRandomNumberGenerator()
        var inputs = [
            "", "kbsc1.", "kbsc1.!!!", "kbsc2." + String(issued.token.dropFirst(6)), "kbsc1.e30", "kbsc1." + Base64URL.encode(Array("[]".utf8)),
            "kbsc1." + Base64URL.encode(Array("not json".utf8)), String(issued.token.dropLast(3)), issued.token + "A",
            "kbsc1." + String(repeating: "A", count: 20 * 1024),
        ]
        for _ in 0..<200 {
            let bytes = (0..<Int.random(in: 0...300, using: &generator)).map { _ in UInt8.random(in: 0...255, using: &generator) }
            inputs.append(Bool.random(using: &generator) ? "kbsc1." + Base64URL.encode(bytes) : String(decoding: bytes, as: UTF8.self))
        }
        let original = try Self.object(issued.token)
        let json = String(decoding: try JSONSerialization.data(withJSONObject: original, options: [.sortedKeys]), as: UTF8.self)
        // A duplicate member (`sub` twice: which one wins differs between parsers), an unknown member, non-integer times.
        inputs.append("kbsc1." + Base64URL.encode(Array(json.replacingOccurrences(of: "{\"caps\"", with: "{\"sub\":\"admin\",\"caps\"").utf8)))
        var extra = original
        extra["aud"] = "x"
        inputs.append(try Self.token(extra))
        var fractional = original
        fractional["exp"] = Double(issued.expires) + 0.5
        inputs.append(try Self.token(fractional))
        var negative = original
        negative["iat"] = -1
        inputs.append(try Self.token(negative))
        var unknownCaveat = original
        unknownCaveat["caveats"] = [["aud": "x"]]
        inputs.append(try Self.token(unknownCaveat))
        for input in inputs {
            #expect(await Self.verifyCode(fixture.authority, input) == "invalid_token", "\(input.prefix(60))")
        }

        // 32 caveats are accepted (and verify, each link chained); a 33rd cannot be added or presented.
        var token = issued.token
        for _ in 0..<32 { token = try CapabilityAuthority.attenuate(token, capabilities: ["read:x"], expires: nil) }
        _ = try await fixture.authority.verify(token, capability: "read:x")
        let refused = await Self.code { () async throws(BrokerError) in
            _ = try CapabilityAuthority.attenuate(token, capabilities: nil, expires: fixture.clock.now)
        }
        #expect(refused == "invalid_request")
        let parsed = try CapabilityToken(parsing: token)
        let overlong = parsed.appending(CapabilityToken.Caveat(capabilities: nil, expires: parsed.expiresAt)).text
        #expect(await Self.verifyCode(fixture.authority, overlong) == "invalid_token")
        // 65 capabilities in one list are refused at issue and when parsing.
        let many = (0...64).map { "read:r\($0)" }
        let tooMany = await Self.code { () async throws(BrokerError) in
            _ = try await fixture.authority.issue(agent: "agent", capabilities: many, lifetime: 60, actor: "test")
        }
        #expect(tooMany == "invalid_request")
        var wide = original
        wide["caps"] = many
        #expect(await Self.verifyCode(fixture.authority, try Self.token(wide)) == "invalid_token")
    }

    /// A rotation of the root key leaves issued tokens valid (the store names the version that signed each); a
    /// disabled root key verifies nothing it has not just verified; an `iat` ahead of the clock is refused.
    @Test func rootKeyRotationDisablingAndFutureIssue() async throws {
        let fixture = try Fixture(cacheCapacity: 0)
        defer { fixture.remove() }
        let old = try await fixture.authority.issue(agent: "agent", capabilities: ["read:x"], lifetime: 600, actor: "test")
        _ = try await fixture.hierarchy.rotate(CapabilityAuthority.rootKeyID, now: fixture.clock.now)
        let new = try await fixture.authority.issue(agent: "agent", capabilities: ["read:x"], lifetime: 600, actor: "test")
        #expect(try fixture.store.capabilityToken(new.id)?.keyVersion == 2)
        _ = try await fixture.authority.verify(old.token)
        _ = try await fixture.authority.verify(new.token)
        #expect(try fixture.store.capabilityToken(old.id)?.keyVersion == 1)

        fixture.clock.advance(-120)
        #expect(await Self.verifyCode(fixture.authority, new.token) == "invalid_token")
        fixture.clock.advance(120)

        _ = try await fixture.hierarchy.disable(CapabilityAuthority.rootKeyID)
        #expect(await Self.verifyCode(fixture.authority, old.token) == "key_disabled")
        let refused = await Self.code { () async throws(BrokerError) in
            _ = try await fixture.authority.issue(agent: "agent", capabilities: ["read:x"], lifetime: 60, actor: "test")
        }
        #expect(refused == "key_disabled")
    }

    @Test func theCacheIsBoundedAndAgesOut() async throws {
        let fixture = try Fixture(cacheCapacity: 3)
        defer { fixture.remove() }
        var tokens: [String] = []
        for index in 0..<6 {
            tokens.append(try await fixture.authority.issue(agent: "agent-\(index)", capabilities: ["read:x"], lifetime: 600, actor: "test").token)
        }
        for token in tokens + tokens {
            _ = try await fixture.authority.verify(token)
            #expect(fixture.authority.cache.count <= 3)
        }
        let digest = SHA256.hash(data: Array(tokens[5].utf8))
        #expect(fixture.authority.cache.lookup(digest, now: fixture.clock.now) != nil)
        fixture.clock.advance(31)
        #expect(fixture.authority.cache.lookup(digest, now: fixture.clock.now) == nil)
        _ = try await fixture.authority.verify(tokens[5])
    }
}
