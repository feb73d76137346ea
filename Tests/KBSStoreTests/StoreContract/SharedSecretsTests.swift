import Foundation
import KBSClaims
import KBSKeys
import KBSStore
import PostgresNIO
import Testing

@testable import KBSStorePostgres

/// The secrets replicas on one PostgreSQL store share: made once whoever asks first, opened alike by every replica,
/// refused to a replica holding another master key.
@Suite struct SharedSecretsTests {
    /// Cheap scrypt: the cases test who wins, not the sealing's cost.
    static let scrypt = ScryptParameters(log2N: 10, r: 8, p: 1)

    @Test func replicasStartingTogetherShareOneMasterKeyAndItsSealedKeys() async throws {
        try await StoreUnderTest.withPostgresStores { stores in
            let secrets = stores.map(PostgresSharedSecrets.init(store:))
            let passphrase = Array("correct horse".utf8)
            // Both replicas create at once: one sealed copy is kept and both open it.
            async let first = secrets[0].masterKey(passphrase: passphrase, scrypt: Self.scrypt)
            async let second = secrets[1].masterKey(passphrase: passphrase, scrypt: Self.scrypt)
            let masters = try await [first, second]
            let probe = SecretBytes(copying: Array("probe".utf8))
            let wrapped = try masters[0].wrap(probe, context: [1])
            #expect(try masters[1].unwrap(wrapped, context: [1]).withUnsafeBytes { Array($0) } == Array("probe".utf8))

            async let pepper0 = secrets[0].sealedKey("api-key-pepper", master: masters[0])
            async let pepper1 = secrets[1].sealedKey("api-key-pepper", master: masters[1])
            let peppers = try await [pepper0, pepper1]
            #expect(peppers[0].count == 32 && peppers[0] == peppers[1])
            let redaction = try await secrets[1].sealedKey("audit-redaction-key", master: masters[1])
            #expect(redaction != peppers[0])

            // The sealed rows hold neither key in the clear.
            let rows = try await stores[0].rows("SELECT name, value FROM shared_secret ORDER BY name") { row in
                try row.decode((String, Data).self)
            }
            #expect(rows.map(\.0) == ["api-key-pepper", "audit-redaction-key", "master.sealed"])
            for (_, value) in rows {
                #expect(Array(value).firstRange(of: peppers[0]) == nil && Array(value).firstRange(of: redaction) == nil)
            }
        }
    }

    @Test func aWrongPassphraseOrAnotherMasterKeyIsRefused() async throws {
        try await StoreUnderTest.withPostgresStores { stores in
            let secrets = PostgresSharedSecrets(store: stores[0])
            let master = try await secrets.masterKey(passphrase: Array("right".utf8), scrypt: Self.scrypt)
            _ = try await secrets.sealedKey("api-key-pepper", master: master)
            await #expect(throws: KeyError.self) {
                try await PostgresSharedSecrets(store: stores[1]).masterKey(passphrase: Array("wrong".utf8), scrypt: Self.scrypt)
            }
            let other = try LocalMasterKeyProvider.seal(passphrase: Array("other".utf8), scrypt: Self.scrypt).provider
            let refusal = await #expect(throws: KeyError.self) { try await secrets.sealedKey("api-key-pepper", master: other) }
            #expect(refusal?.reason == .integrity)
            #expect(refusal?.message.contains("another master key") == true)
        }
    }
}
