import Foundation
import KBSBroker
import KBSStore
import Testing

/// The store contract's plain repositories: resources, reference values, capability tokens, API keys, token signing
/// keys and the AWS KMS API's keys and aliases, each written on one replica and read on the other.
extension StoreContractTests {
    @Test("resources are created, replaced, listed without their sealed values and deleted", arguments: StoreBackend.allCases)
    func resources(backend: StoreBackend) async throws {
        try await StoreUnderTest.with(backend) { store in
            let resources = store.first.ports.resources
            let secret = StoredResource(path: "repo/key/a", sealed: [1, 2, 3], requiredTier: 2, labelsJSON: #"{"team":"x"}"#)
            #expect(try await resources.put(secret) == false)
            #expect(
                try await store.replica(1).ports.resources.put(StoredResource(path: "repo/key/a", sealed: [4], requiredTier: 3, labelsJSON: "{}")))
            #expect(try await resources.put(StoredResource(path: "repo/key/B", sealed: [5], requiredTier: 0, labelsJSON: "{}")) == false)
            let read = try #require(try await store.replica(1).ports.resources.resource(at: "repo/key/a"))
            #expect(read.sealed == [4] && read.requiredTier == 3 && read.labelsJSON == "{}")
            #expect(read.createdAt > 0 && read.updatedAt >= read.createdAt)
            let all = try await resources.all()
            #expect(all.map(\.path) == ["repo/key/B", "repo/key/a"])
            #expect(all.allSatisfy { $0.sealed.isEmpty })
            #expect(try await resources.delete(at: "repo/key/a"))
            #expect(try await resources.delete(at: "repo/key/a") == false)
            #expect(try await resources.resource(at: "repo/key/a") == nil)
            await #expect(throws: StoreError.self) {
                try await resources.put(StoredResource(path: "", sealed: [], requiredTier: 0, labelsJSON: "{}"))
            }
        }
    }

    @Test("reference values are added once each and read back sorted", arguments: StoreBackend.allCases)
    func referenceValues(backend: StoreBackend) async throws {
        try await StoreUnderTest.with(backend) { store in
            let values = store.first.ports.referenceValues
            let added = try await values.add(kind: "snp", name: "measurement", values: ["bb", "aa", "aa"])
            #expect(added == 2)
            let addedElsewhere = try await store.replica(1).ports.referenceValues.add(kind: "snp", name: "measurement", values: ["aa", "cc"])
            #expect(addedElsewhere == 1)
            let addedOther = try await values.add(kind: "tdx", name: "mrtd", values: ["01"])
            #expect(addedOther == 1)
            let everything = try await values.all()
            #expect(everything == ["snp": ["measurement": ["aa", "bb", "cc"]], "tdx": ["mrtd": ["01"]]])
            await #expect(throws: StoreError.self) { try await values.add(kind: "snp", name: "", values: ["aa"]) }
        }
    }

    @Test("capability tokens: inserted once, read, revoked keeping the first time", arguments: StoreBackend.allCases)
    func capabilityTokens(backend: StoreBackend) async throws {
        try await StoreUnderTest.with(backend) { store in
            let tokens = store.first.ports.capabilityTokens
            let token = StoredCapabilityToken(
                id: "t-1", subject: "agent:a", capabilitiesJSON: #"["read"]"#, keyVersion: 4_000_000_000, issuedAt: 10, expiresAt: 20)
            try await tokens.insert(token)
            await #expect(throws: StoreError.self) { try await store.replica(1).ports.capabilityTokens.insert(token) }
            try await tokens.insert(
                StoredCapabilityToken(id: "t-0", subject: "agent:b", capabilitiesJSON: "[]", keyVersion: 1, issuedAt: 5, expiresAt: 9))
            #expect(try await store.replica(1).ports.capabilityTokens.token("t-1") == token)
            #expect(try await tokens.all().map(\.id) == ["t-0", "t-1"])
            #expect(try await store.replica(1).ports.capabilityTokens.revoke("t-1", at: 15))
            #expect(try await tokens.revoke("t-1", at: 17))
            #expect(try await tokens.token("t-1")?.revokedAt == 15)
            #expect(try await tokens.revoke("unknown", at: 15) == false)
            #expect(try await tokens.token("unknown") == nil)
        }
    }

    @Test("API keys: inserted, read newest first, revoked", arguments: StoreBackend.allCases)
    func apiKeys(backend: StoreBackend) async throws {
        try await StoreUnderTest.with(backend) { store in
            let keys = store.first.ports.apiKeys
            let old = StoredAPIKey(keyID: "k-old", secretHash: Array(repeating: 1, count: 32), subject: "apikey:k-old", createdAt: 1)
            let new = StoredAPIKey(
                keyID: "k-new", secretHash: Array(repeating: 2, count: 32), subject: "oidc:x#y", createdAt: 2, expiresAt: 99, name: "ci",
                sealedSecret: [9, 9])
            try await keys.insert(old)
            try await store.replica(1).ports.apiKeys.insert(new)
            await #expect(throws: (any Error).self) { try await keys.insert(old) }
            await #expect(throws: StoreError.self) {
                try await keys.insert(StoredAPIKey(keyID: "short", secretHash: [1], subject: "s", createdAt: 1))
            }
            #expect(try await keys.key("k-new") == new)
            #expect(try await keys.all().map(\.keyID) == ["k-new", "k-old"])
            #expect(try await store.replica(1).ports.apiKeys.revoke("k-old", at: 50))
            #expect(try await keys.revoke("k-old", at: 60))
            #expect(try await keys.key("k-old")?.revokedAt == 50)
            #expect(try await keys.revoke("missing", at: 1) == false)
        }
    }

    @Test("token signing keys: added once each, listed oldest first, removed by age", arguments: StoreBackend.allCases)
    func tokenSigningKeys(backend: StoreBackend) async throws {
        try await StoreUnderTest.with(backend) { store in
            let keys = store.first.ports.tokenSigningKeys
            try await keys.addSigningKey(StoredTokenSigningKey(keyID: "kid-2", sealedPrivateKey: [2], createdAt: 200))
            try await store.replica(1).ports.tokenSigningKeys.addSigningKey(
                StoredTokenSigningKey(keyID: "kid-1", sealedPrivateKey: [1], createdAt: 100))
            await #expect(throws: (any Error).self) {
                try await keys.addSigningKey(StoredTokenSigningKey(keyID: "kid-1", sealedPrivateKey: [3], createdAt: 300))
            }
            #expect(try await store.replica(1).ports.tokenSigningKeys.signingKeys().map(\.keyID) == ["kid-1", "kid-2"])
            #expect(try await keys.removeSigningKeys(createdBefore: 150) == 1)
            #expect(try await keys.signingKeys() == [StoredTokenSigningKey(keyID: "kid-2", sealedPrivateKey: [2], createdAt: 200)])
        }
    }

    @Test("KMS keys and aliases: inserted once, paged in id and name order, updated and removed", arguments: StoreBackend.allCases)
    func kmsKeysAndAliases(backend: StoreBackend) async throws {
        try await StoreUnderTest.with(backend) { store in
            let kms = store.first.kms
            let ids = ["b-key", "a-key", "c-key"]
            for id in ids {
                try await kms.insert(
                    KMSKeyEntry(id: id, creator: "apikey:k", description: "", usage: .encryptDecrypt, spec: .symmetricDefault, createdAt: 1))
            }
            await #expect(throws: StoreError.self) {
                try await store.replica(1).kms.insert(
                    KMSKeyEntry(id: "a-key", creator: "x", description: "", usage: .signVerify, spec: .eccNISTP256, createdAt: 2))
            }
            #expect(try await kms.keys(after: nil, limit: 2).map(\.id) == ["a-key", "b-key"])
            #expect(try await kms.keys(after: "b-key", limit: 2).map(\.id) == ["c-key"])
            var entry = try #require(try await store.replica(1).kms.key("a-key"))
            entry.rotationPeriodDays = 90
            entry.rotationStartedAt = 5
            entry.deletionWindowDays = 7
            #expect(try await store.replica(1).kms.update(entry))
            #expect(try await kms.key("a-key") == entry)
            entry.id = "missing"
            #expect(try await kms.update(entry) == false)

            #expect(try await kms.createAlias(KMSAlias(name: "alias/one", keyID: "a-key", createdAt: 1, updatedAt: 1)))
            #expect(try await kms.createAlias(KMSAlias(name: "alias/two", keyID: "b-key", createdAt: 1, updatedAt: 1)))
            #expect(try await store.replica(1).kms.createAlias(KMSAlias(name: "alias/one", keyID: "c-key", createdAt: 2, updatedAt: 2)) == false)
            #expect(try await kms.aliases(after: nil, limit: 10, keyID: nil).map(\.name) == ["alias/one", "alias/two"])
            #expect(try await kms.aliases(after: nil, limit: 10, keyID: "b-key").map(\.name) == ["alias/two"])
            #expect(try await kms.aliases(after: "alias/one", limit: 10, keyID: nil).map(\.name) == ["alias/two"])
            #expect(try await store.replica(1).kms.updateAlias("alias/one", keyID: "c-key", at: 9))
            #expect(try await kms.alias("alias/one") == KMSAlias(name: "alias/one", keyID: "c-key", createdAt: 1, updatedAt: 9))
            #expect(try await kms.updateAlias("alias/none", keyID: "c-key", at: 9) == false)
            #expect(try await kms.deleteAlias("alias/one"))
            #expect(try await kms.deleteAlias("alias/one") == false)
            #expect(try await kms.alias("alias/one") == nil)
        }
    }
}
