import Foundation
import KBSClaims
import Testing

@testable import KBSKeys

/// The Swift client and `InfisicalKMSBackend` against the stand-in, cross-checked with the official client.
@Suite(InfisicalTools.needed)
struct InfisicalKMSBackendTests {
    let plaintext = Array("\u{0}\u{1} a KEK's worth of bytes \u{7F}".utf8)

    @Test func encryptsAndDecryptsThroughInfisical() async throws {
        let standIn = try InfisicalStandIn()
        defer { standIn.stop() }
        let client = standIn.client()
        let key = try await client.createKey(name: "kbs-round-trip")
        #expect(key.name == "kbs-round-trip" && key.projectID == InfisicalTools.projectID && !key.isDisabled)
        #expect(try await client.key(named: "kbs-round-trip") == key)
        #expect(try await client.key(id: key.id) == key)
        let kms = InfisicalKMSBackend(client: client)
        var ciphertext = try await kms.encrypt(keyID: key.id, plaintext: SecretBytes(copying: plaintext))
        #expect(!ciphertext.containsBytes(plaintext))
        #expect(copied(try await kms.decrypt(keyID: key.id, ciphertext: ciphertext)) == plaintext)
        // Another key, or an altered byte, does not decrypt.
        let other = try await client.createKey(name: "kbs-other")
        await expectKeyError(.integrity) { _ = try await kms.decrypt(keyID: other.id, ciphertext: ciphertext) }
        ciphertext[13] ^= 1
        await expectKeyError(.integrity) { _ = try await kms.decrypt(keyID: key.id, ciphertext: ciphertext) }
        // Infisical's limit is checked before anything is sent.
        await expectKeyError(.invalidArgument) {
            _ = try await kms.encrypt(keyID: key.id, plaintext: SecretBytes(zeros: 4097))
        }
        #expect(await client.tokens.logins == 1)
    }

    @Test func ciphertextsCrossBetweenSwiftAndTheOfficialClient() async throws {
        let standIn = try InfisicalStandIn()
        defer { standIn.stop() }
        let client = standIn.client()
        let key = try await client.createKey(name: "kbs-cross")
        let kms = InfisicalKMSBackend(client: client)

        let fromSDK = try standIn.sdk(["encrypt", key.id, Data(plaintext).base64EncodedString()])
        #expect(fromSDK.status == 0, "\(fromSDK.output)")
        let sdkText = fromSDK.output.trimmingCharacters(in: .whitespacesAndNewlines)
        let sdkCiphertext = try #require(Data(base64Encoded: sdkText))
        #expect(copied(try await kms.decrypt(keyID: key.id, ciphertext: Array(sdkCiphertext))) == plaintext)

        let swiftCiphertext = try await kms.encrypt(keyID: key.id, plaintext: SecretBytes(copying: plaintext))
        let toSDK = try standIn.sdk(["decrypt", key.id, Data(swiftCiphertext).base64EncodedString()])
        #expect(toSDK.status == 0, "\(toSDK.output)")
        #expect(Data(base64Encoded: toSDK.output.trimmingCharacters(in: .whitespacesAndNewlines)) == Data(plaintext))
    }

    @Test func putsAndReadsSecrets() async throws {
        let standIn = try InfisicalStandIn()
        defer { standIn.stop() }
        let secrets = InfisicalKMSBackend(client: standIn.client())
        // Quotes, backslashes, control characters and non-ASCII exercise the JSON escaping of secret values.
        let first = "pa\"ss\\word\n\t\u{1}é✓"
        try await secrets.putSecret(name: "DB_PASSWORD", value: SecretBytes(copying: Array(first.utf8)))
        #expect(copied(try await secrets.secret(name: "DB_PASSWORD")) == Array(first.utf8))
        let read = try standIn.sdk(["get-secret", "dev", "/", "DB_PASSWORD"])
        #expect(read.status == 0 && read.output == first + "\n", "\(read.output)")

        try await secrets.putSecret(name: "DB_PASSWORD", value: SecretBytes(copying: Array("second".utf8)))
        #expect(copied(try await secrets.secret(name: "DB_PASSWORD")) == Array("second".utf8))
        #expect(try standIn.sdk(["get-secret", "dev", "/", "DB_PASSWORD"]).output == "second\n")

        // Secrets are per environment.
        let staging = InfisicalKMSBackend(client: standIn.client(environment: "staging"))
        await expectKeyError(.notFound) { _ = try await staging.secret(name: "DB_PASSWORD") }
        await expectKeyError(.notFound) { _ = try await secrets.secret(name: "NO_SUCH_SECRET") }
        await expectKeyError(.invalidArgument) {
            try await secrets.putSecret(name: "BINARY", value: SecretBytes(copying: [0xFF, 0xFE]))
        }
    }

    @Test func wrongCredentialsAreRefusedWithoutEchoingThem() async throws {
        let standIn = try InfisicalStandIn()
        defer { standIn.stop() }
        let wrongSecret = "wrong-secret-9f8e7d6c"
        let client = standIn.client(secret: wrongSecret)
        do {
            try await client.login()
            Issue.record("a wrong client secret logged in")
        } catch {
            #expect(error.reason == .unauthenticated, "\(error)")
            #expect(error.message.contains("401"), "\(error)")
            #expect(!error.message.contains(wrongSecret))
        }
        await expectKeyError(.unauthenticated) {
            _ = try await InfisicalKMSBackend(client: client).secret(name: "ANY")
        }
    }

    @Test func unknownKeysAreNotFound() async throws {
        let standIn = try InfisicalStandIn()
        defer { standIn.stop() }
        let client = standIn.client()
        let kms = InfisicalKMSBackend(client: client)
        let missing = UUID().uuidString.lowercased()
        await expectKeyError(.notFound) {
            _ = try await kms.encrypt(keyID: missing, plaintext: SecretBytes(copying: plaintext))
        }
        await expectKeyError(.notFound) { _ = try await kms.decrypt(keyID: missing, ciphertext: [1, 2, 3]) }
        await expectKeyError(.notFound) { _ = try await client.key(named: "no-such-key") }
    }

    @Test func reLogsInOnceWhenInfisicalRefusesAnExpiredToken() async throws {
        // The stand-in expires the token while the client believes it fresh (its clock stands still), so only
        // Infisical's 403 TokenError can make it log in again.
        let standIn = try InfisicalStandIn()
        defer { standIn.stop() }
        let clock = TestClock()
        let client = standIn.client(now: { clock.now })
        let key = try await client.createKey(name: "kbs-expiry")
        #expect(await client.tokens.logins == 1)
        try standIn.expireTokens()
        let kms = InfisicalKMSBackend(client: client)
        let ciphertext = try await kms.encrypt(keyID: key.id, plaintext: SecretBytes(copying: plaintext))
        #expect(await client.tokens.logins == 2)
        #expect(copied(try await kms.decrypt(keyID: key.id, ciphertext: ciphertext)) == plaintext)
    }

    @Test func renewsTheTokenBeforeItExpiresAndSharesOneLogin() async throws {
        let standIn = try InfisicalStandIn(tokenTTL: 600)
        defer { standIn.stop() }
        let clock = TestClock()
        let client = standIn.client(now: { clock.now })
        let key = try await client.createKey(name: "kbs-renewal")
        let kms = InfisicalKMSBackend(client: client)
        // Concurrent first requests on a fresh client share one login.
        let fresh = standIn.client(now: { clock.now })
        try await withThrowingTaskGroup(of: Void.self) { group in
            for _ in 0..<6 {
                group.addTask { _ = try await fresh.key(id: key.id) }
            }
            try await group.waitForAll()
        }
        #expect(await fresh.tokens.logins == 1)
        // The token is reused while fresh, and renewed a minute before its ten minutes are up.
        _ = try await kms.encrypt(keyID: key.id, plaintext: SecretBytes(copying: plaintext))
        clock.advance(530)
        _ = try await kms.encrypt(keyID: key.id, plaintext: SecretBytes(copying: plaintext))
        #expect(await client.tokens.logins == 1)
        clock.advance(20)
        _ = try await kms.encrypt(keyID: key.id, plaintext: SecretBytes(copying: plaintext))
        #expect(await client.tokens.logins == 2)
    }
}

/// Configuration needs no server.
struct InfisicalConfigurationTests {
    let variables = [
        "INFISICAL_API_URL": "https://infisical.example.com",
        "INFISICAL_UNIVERSAL_AUTH_CLIENT_ID": "identity-1",
        "INFISICAL_UNIVERSAL_AUTH_CLIENT_SECRET": "s3cr3t-value",
        "INFISICAL_PROJECT_ID": "project-1",
        "INFISICAL_ENVIRONMENT": "staging",
    ]

    @Test func readsTheEnvironmentAndNeverShowsTheSecret() throws {
        let configuration = try InfisicalConfiguration(environment: variables)
        #expect(configuration.apiURL.absoluteString == "https://infisical.example.com")
        #expect(configuration.clientID == "identity-1" && configuration.clientSecret == "s3cr3t-value")
        #expect(configuration.projectID == "project-1" && configuration.environment == "staging")
        #expect(configuration.secretPath == "/")
        var dumped = ""
        dump(configuration, to: &dumped)
        for text in [configuration.description, String(reflecting: configuration), "\(configuration)", dumped] {
            #expect(!text.contains("s3cr3t-value"), "\(text)")
        }
    }

    @Test func refusesMissingOrBadSettings() async {
        for name in ["INFISICAL_API_URL", "INFISICAL_UNIVERSAL_AUTH_CLIENT_SECRET", "INFISICAL_PROJECT_ID"] {
            var partial = variables
            partial[name] = nil
            await expectKeyError(.invalidArgument) { _ = try InfisicalConfiguration(environment: partial) }
        }
        var bad = variables
        bad["INFISICAL_API_URL"] = "ftp://infisical.example.com"
        await expectKeyError(.invalidArgument) { _ = try InfisicalConfiguration(environment: bad) }
    }
}
