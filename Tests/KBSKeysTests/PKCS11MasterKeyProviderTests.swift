import CPKCS11
import Foundation
import Glibc
import KBSClaims
import Testing

@testable import KBSKeys

/// One SoftHSM2 token for this test process, in a temporary token directory.
///
/// SoftHSM reads `SOFTHSM2_CONF` once, at the first `C_Initialize` of the process, so the variable is set (and the
/// token initialized with `softhsm2-util`) before any test loads the module; the tests tell their keys apart by label.
struct SoftHSMToken: Sendable {
    static let utilityName = "softhsm2-util"
    static let label = "kbs-keys-tests"
    static let pin = Array("kbs-user-pin-1".utf8)

    /// Under CI SoftHSM2 must be installed; elsewhere its absence skips the suite.
    static var presentOrRequired: Bool {
        (FileManager.default.fileExists(atPath: PKCS11MasterKeyProvider.Configuration.softHSM2ModulePath)
            && utility != nil) || ProcessInfo.processInfo.environment["CI"] == "true"
    }

    /// `softhsm2-util` on `PATH` (or in /usr/bin), if installed.
    static var utility: String? {
        let path = ProcessInfo.processInfo.environment["PATH"] ?? ""
        return (path.split(separator: ":").map(String.init) + ["/usr/bin"])
            .map { $0 + "/" + utilityName }
            .first { FileManager.default.isExecutableFile(atPath: $0) }
    }

    /// The token, initialized on first use.
    static let shared: Result<SoftHSMToken, SetupError> = initialize()

    struct SetupError: Error, CustomStringConvertible {
        var description: String
    }

    let directory: String

    /// A configuration for a fresh key label on the token.
    func configuration(_ name: String = "master") -> PKCS11MasterKeyProvider.Configuration {
        .init(tokenLabel: Self.label, keyLabel: "\(name)-\(UUID().uuidString.prefix(8))")
    }

    private static func initialize() -> Result<SoftHSMToken, SetupError> {
        guard let utility else { return .failure(SetupError(description: "\(utilityName) is not installed")) }
        do {
            let directory = try temporaryDirectory()
            try FileManager.default.createDirectory(atPath: directory + "/tokens", withIntermediateDirectories: true)
            let configuration = """
                directories.tokendir = \(directory)/tokens
                objectstore.backend = file
                log.level = ERROR
                slots.removable = false

                """
            try configuration.write(toFile: directory + "/softhsm2.conf", atomically: true, encoding: .utf8)
            setenv("SOFTHSM2_CONF", directory + "/softhsm2.conf", 1)

            let process = Process()
            process.executableURL = URL(fileURLWithPath: utility)
            process.arguments = [
                "--init-token", "--free", "--label", label, "--pin", String(decoding: pin, as: UTF8.self),
                "--so-pin", "kbs-so-pin-1",
            ]
            var environment = ProcessInfo.processInfo.environment
            environment["SOFTHSM2_CONF"] = directory + "/softhsm2.conf"
            process.environment = environment
            let output = Pipe()
            process.standardOutput = output
            process.standardError = output
            try process.run()
            let text = String(decoding: output.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
            process.waitUntilExit()
            guard process.terminationStatus == 0 else {
                return .failure(SetupError(description: "\(utilityName) --init-token exited \(process.terminationStatus): \(text)"))
            }
            return .success(SoftHSMToken(directory: directory))
        } catch {
            return .failure(SetupError(description: "cannot set up the SoftHSM2 token: \(error)"))
        }
    }
}

@Suite(.serialized, .enabled(if: SoftHSMToken.presentOrRequired, "SoftHSM2 (package softhsm2) is not installed; run Tools/bootstrap"))
struct PKCS11MasterKeyProviderTests {
    let context = Array("kbs-keys/v1 kek".utf8) + [0] + Array("kek".utf8) + [0] + Array("1".utf8)

    @Test func wrapsAndUnwrapsOnTheToken() throws {
        let token = try SoftHSMToken.shared.get()
        let configuration = token.configuration()
        let provider = try PKCS11MasterKeyProvider.create(configuration, pin: SoftHSMToken.pin)
        #expect(provider.masterKeyID == "pkcs11:\(SoftHSMToken.label)/\(configuration.keyLabel)")

        let key = SecretBytes.random(count: 32)
        let wrapped = try provider.wrap(key, context: context)
        #expect(wrapped.count == 4 + 1 + 12 + 32 + 16)
        #expect(Array(wrapped.prefix(5)) == Array("KBSH".utf8) + [1])
        #expect(try copied(provider.unwrap(wrapped, context: context)) == copied(key))
        // The key bytes do not appear in the wrapped form, and a second wrap uses another IV.
        let keyBytes = copied(key)
        #expect(!(0...(wrapped.count - 32)).contains { Array(wrapped[$0..<$0 + 32]) == keyBytes })
        let again = try provider.wrap(key, context: context)
        #expect(again != wrapped)
        #expect(Array(again[5..<17]) != Array(wrapped[5..<17]))
        #expect(try copied(provider.unwrap(again, context: context)) == copied(key))

        // Any length works, including an empty context.
        let short = SecretBytes(copying: [1, 2, 3])
        #expect(try copied(provider.unwrap(provider.wrap(short, context: []), context: [])) == [1, 2, 3])
    }

    @Test func otherContextFailsIntegrity() async throws {
        let token = try SoftHSMToken.shared.get()
        let provider = try PKCS11MasterKeyProvider.create(token.configuration(), pin: SoftHSMToken.pin)
        let wrapped = try provider.wrap(SecretBytes.random(count: 32), context: context)
        var other = context
        other[other.count - 1] = Array("2".utf8)[0]
        await expectKeyError(.integrity) { _ = try provider.unwrap(wrapped, context: other) }
        await expectKeyError(.integrity) { _ = try provider.unwrap(wrapped, context: []) }
        await expectKeyError(.integrity) { _ = try provider.unwrap(wrapped, context: context + [0]) }
        // The failures leave the session usable.
        #expect(try provider.unwrap(wrapped, context: context).count == 32)
    }

    @Test func everyFlippedByteIsRefused() async throws {
        let token = try SoftHSMToken.shared.get()
        let provider = try PKCS11MasterKeyProvider.create(token.configuration(), pin: SoftHSMToken.pin)
        let wrapped = try provider.wrap(SecretBytes.random(count: 32), context: context)
        for index in wrapped.indices {
            for mask: UInt8 in [0x01, 0x80, 0xFF] {
                var altered = wrapped
                altered[index] ^= mask
                // Magic and version do not parse; IV, ciphertext and tag fail the tag.
                await expectKeyError(index < 5 ? .malformed : .integrity) {
                    _ = try provider.unwrap(altered, context: context)
                }
            }
        }
        for length in [0, 4, 5, 17, 32] {
            await expectKeyError(.malformed) { _ = try provider.unwrap(Array(wrapped.prefix(length)), context: context) }
        }
        // Shortened or lengthened bodies that still parse fail the tag.
        await expectKeyError(.integrity) { _ = try provider.unwrap(Array(wrapped.dropLast()), context: context) }
        await expectKeyError(.integrity) { _ = try provider.unwrap(wrapped + [0], context: context) }
        #expect(try provider.unwrap(wrapped, context: context).count == 32)
    }

    @Test func anotherProviderOpenedByLabelUnwraps() async throws {
        let token = try SoftHSMToken.shared.get()
        let configuration = token.configuration()
        let key = SecretBytes.random(count: 32)
        let first = try PKCS11MasterKeyProvider.create(configuration, pin: SoftHSMToken.pin)
        let wrapped = try first.wrap(key, context: context)

        let second = try PKCS11MasterKeyProvider.open(configuration, pin: SoftHSMToken.pin)
        #expect(second.masterKeyID == first.masterKeyID)
        #expect(try copied(second.unwrap(wrapped, context: context)) == copied(key))
        #expect(try copied(first.unwrap(second.wrap(key, context: context), context: context)) == copied(key))

        // Another key on the same token does not unwrap it.
        let other = try PKCS11MasterKeyProvider.create(token.configuration("other"), pin: SoftHSMToken.pin)
        await expectKeyError(.integrity) { _ = try other.unwrap(wrapped, context: context) }
    }

    @Test func theLibraryUnderAnotherPathIsTheSameModule() async throws {
        let token = try SoftHSMToken.shared.get()
        let configuration = token.configuration()
        let provider = try PKCS11MasterKeyProvider.create(configuration, pin: SoftHSMToken.pin)
        let wrapped = try provider.wrap(SecretBytes.random(count: 32), context: context)
        // Debian's path is a symbolic link; the real file is the same library, with the same login state.
        let resolved = try #require(realpath(configuration.modulePath, nil))
        defer { free(resolved) }
        var direct = configuration
        direct.modulePath = String(cString: resolved)
        #expect(direct.modulePath != configuration.modulePath)
        #expect(try PKCS11Module.load(direct.modulePath) === PKCS11Module.load(configuration.modulePath))
        let other = try PKCS11MasterKeyProvider.open(direct, pin: SoftHSMToken.pin)
        #expect(try other.unwrap(wrapped, context: context).count == 32)
        await expectKeyError(.wrongPassphrase) { _ = try PKCS11MasterKeyProvider.open(direct, pin: Array("kbs-user-pin-2".utf8)) }
    }

    @Test func createRefusesAnExistingLabelAndOpenAMissingOne() async throws {
        let token = try SoftHSMToken.shared.get()
        let configuration = token.configuration()
        await expectKeyError(.notFound) { _ = try PKCS11MasterKeyProvider.open(configuration, pin: SoftHSMToken.pin) }
        let provider = try PKCS11MasterKeyProvider.create(configuration, pin: SoftHSMToken.pin)
        await expectKeyError(.alreadyExists) { _ = try PKCS11MasterKeyProvider.create(configuration, pin: SoftHSMToken.pin) }
        // The refused create left the first key alone.
        let wrapped = try provider.wrap(SecretBytes.random(count: 32), context: context)
        #expect(try PKCS11MasterKeyProvider.open(configuration, pin: SoftHSMToken.pin).unwrap(wrapped, context: context).count == 32)
    }

    @Test func theTokenRefusesToRevealTheKey() async throws {
        let token = try SoftHSMToken.shared.get()
        let provider = try PKCS11MasterKeyProvider.create(token.configuration(), pin: SoftHSMToken.pin)
        do throws(KeyError) {
            let value = try provider.keyAttribute(CK_ATTRIBUTE_TYPE(CKA_VALUE))
            Issue.record("the token returned CKA_VALUE (\(value.count) bytes)")
        } catch {
            #expect(error.reason == .sealed)
            #expect(error.message.contains("CKR_ATTRIBUTE_SENSITIVE"), "\(error)")
        }
        let yes: [UInt8] = [UInt8(CK_TRUE)]
        let no: [UInt8] = [UInt8(CK_FALSE)]
        #expect(try provider.keyAttribute(CK_ATTRIBUTE_TYPE(CKA_SENSITIVE)) == yes)
        #expect(try provider.keyAttribute(CK_ATTRIBUTE_TYPE(CKA_EXTRACTABLE)) == no)
        #expect(try provider.keyAttribute(CK_ATTRIBUTE_TYPE(CKA_ALWAYS_SENSITIVE)) == yes)
        #expect(try provider.keyAttribute(CK_ATTRIBUTE_TYPE(CKA_NEVER_EXTRACTABLE)) == yes)
        #expect(try provider.keyAttribute(CK_ATTRIBUTE_TYPE(CKA_TOKEN)) == yes)
        #expect(try provider.keyAttribute(CK_ATTRIBUTE_TYPE(CKA_WRAP)) == no)
        #expect(try provider.keyAttribute(CK_ATTRIBUTE_TYPE(CKA_VALUE_LEN)) == withUnsafeBytes(of: CK_ULONG(32)) { Array($0) })
    }

    @Test func wrongPINIsWrongPassphrase() async throws {
        let token = try SoftHSMToken.shared.get()
        let configuration = token.configuration()
        _ = try PKCS11MasterKeyProvider.create(configuration, pin: SoftHSMToken.pin)
        let wrongPIN = Array("kbs-user-pin-2".utf8)

        // No session open: the token itself checks the PIN.
        let module = try PKCS11Module.load(configuration.modulePath)
        #expect(module.sessionCount == 0, "an earlier test left a provider open")
        do throws(KeyError) {
            _ = try PKCS11MasterKeyProvider.open(configuration, pin: wrongPIN)
            Issue.record("a wrong PIN opened the token")
        } catch {
            #expect(error.reason == .wrongPassphrase)
            #expect(error.message.contains("CKR_PIN_INCORRECT"), "\(error)")
            #expect(!error.message.contains("kbs-user-pin"))
        }
        #expect(module.sessionCount == 0)

        // While another provider is logged in, the token answers CKR_USER_ALREADY_LOGGED_IN without looking at the
        // PIN; the provider checks it against the PIN that logged in.
        let open = try PKCS11MasterKeyProvider.open(configuration, pin: SoftHSMToken.pin)
        #expect(module.sessionCount == 1)
        await expectKeyError(.wrongPassphrase) { _ = try PKCS11MasterKeyProvider.open(configuration, pin: wrongPIN) }
        await expectKeyError(.wrongPassphrase) { _ = try PKCS11MasterKeyProvider.create(token.configuration(), pin: wrongPIN) }
        #expect(module.sessionCount == 1)
        let again = try PKCS11MasterKeyProvider.open(configuration, pin: SoftHSMToken.pin)
        #expect(module.sessionCount == 2)
        #expect(try again.unwrap(open.wrap(SecretBytes.random(count: 32), context: context), context: context).count == 32)
    }

    @Test func refusesABadConfiguration() async throws {
        let token = try SoftHSMToken.shared.get()
        let configuration = token.configuration()
        var missingToken = configuration
        missingToken.tokenLabel = "no-such-token"
        await expectKeyError(.sealed) { _ = try PKCS11MasterKeyProvider.open(missingToken, pin: SoftHSMToken.pin) }
        var missingModule = configuration
        missingModule.modulePath = token.directory + "/no-such-module.so"
        await expectKeyError(.sealed) { _ = try PKCS11MasterKeyProvider.open(missingModule, pin: SoftHSMToken.pin) }
        var notAModule = configuration
        notAModule.modulePath = token.directory + "/softhsm2.conf"
        await expectKeyError(.sealed) { _ = try PKCS11MasterKeyProvider.open(notAModule, pin: SoftHSMToken.pin) }
        await expectKeyError(.invalidArgument) { _ = try PKCS11MasterKeyProvider.open(configuration, pin: []) }
        var longLabel = configuration
        longLabel.tokenLabel = String(repeating: "t", count: 33)
        await expectKeyError(.invalidArgument) { _ = try PKCS11MasterKeyProvider.open(longLabel, pin: SoftHSMToken.pin) }
        var emptyKey = configuration
        emptyKey.keyLabel = ""
        await expectKeyError(.invalidArgument) { _ = try PKCS11MasterKeyProvider.create(emptyKey, pin: SoftHSMToken.pin) }
    }

    @Test func concurrentCallsShareOneSession() async throws {
        let token = try SoftHSMToken.shared.get()
        // Through the protocol, as the hierarchy calls it.
        let provider: any MasterKeyProvider = try PKCS11MasterKeyProvider.create(token.configuration(), pin: SoftHSMToken.pin)
        let context = self.context
        let results = try await withThrowingTaskGroup(of: Bool.self) { group in
            for task in 0..<16 {
                group.addTask {
                    for round in 0..<8 {
                        let key = SecretBytes.random(count: 32)
                        let bound = context + [UInt8(task), UInt8(round)]
                        let wrapped = try await provider.wrap(key, context: bound)
                        guard try await copied(provider.unwrap(wrapped, context: bound)) == copied(key) else { return false }
                    }
                    return true
                }
            }
            return try await group.reduce(into: [Bool]()) { $0.append($1) }
        }
        #expect(results.count == 16 && results.allSatisfy { $0 })
    }

    @Test func keyHierarchyOverTheToken() async throws {
        let token = try SoftHSMToken.shared.get()
        let configuration = token.configuration()
        let store = InMemoryKeyRecordStore()
        let plaintext = Array("weights shard 7".utf8)
        let aad = Array("repo/type/tag".utf8)
        let ciphertext: [UInt8]
        do {
            let keys = KeyHierarchy(master: try PKCS11MasterKeyProvider.create(configuration, pin: SoftHSMToken.pin), store: store)
            let kek = try await keys.createKeyEncryptionKey(id: "kek", now: epoch)
            #expect(Array(try #require(kek.version(1)).wrapped.prefix(4)) == Array("KBSH".utf8))
            _ = try await keys.createDataKey(id: "dek", parent: "kek", now: epoch)
            ciphertext = try await keys.encrypt(keyID: "dek", plaintext: plaintext, aad: aad)
            #expect(try await keys.decrypt(ciphertext, aad: aad) == plaintext)
        }
        // A fresh hierarchy over the same records and a provider opened again by label.
        let reopened = KeyHierarchy(master: try PKCS11MasterKeyProvider.open(configuration, pin: SoftHSMToken.pin), store: store)
        #expect(try await reopened.decrypt(ciphertext, aad: aad) == plaintext)
        _ = try await reopened.rotate("kek", now: epoch + day)
        _ = try await reopened.rewrap("dek")
        #expect(try await reopened.decrypt(ciphertext, aad: aad) == plaintext)

        // A hierarchy over another key on the token cannot unwrap the KEK.
        let stranger = KeyHierarchy(
            master: try PKCS11MasterKeyProvider.create(token.configuration("stranger"), pin: SoftHSMToken.pin), store: store)
        await expectKeyError(.integrity) { _ = try await stranger.decrypt(ciphertext, aad: aad) }
    }
}
