import Foundation
import Glibc
import Testing

@testable import KBSKeys

struct SealedFileTests {
    /// Whether `b` unwraps what `a` wraps, i.e. both hold the same master key.
    func sameMaster(_ a: LocalMasterKeyProvider, _ b: LocalMasterKeyProvider) throws -> Bool {
        let key = SecretBytes.random(count: 32)
        let wrapped = try a.wrap(key, context: Array("check".utf8))
        return copied(try b.unwrap(wrapped, context: Array("check".utf8))) == copied(key)
    }

    @Test func passphraseSealAndUnsealRoundTrip() throws {
        let path = try temporaryDirectory() + "/master.sealed"
        let passphrase = Array("correct horse battery staple".utf8)
        let created = try LocalMasterKeyProvider.create(at: path, passphrase: passphrase, scrypt: cheapScrypt)
        let unsealed = try LocalMasterKeyProvider.unseal(at: path, passphrase: passphrase)
        #expect(try sameMaster(created, unsealed))
        let text = try String(contentsOfFile: path, encoding: .utf8)
        #expect(text.contains("\"method\" : \"passphrase\""))
        #expect(text.contains("\"log2N\" : 10"))
    }

    @Test func wrongPassphraseFails() async throws {
        let path = try temporaryDirectory() + "/master.sealed"
        _ = try LocalMasterKeyProvider.create(at: path, passphrase: Array("right".utf8), scrypt: cheapScrypt)
        await expectKeyError(.wrongPassphrase) {
            _ = try LocalMasterKeyProvider.unseal(at: path, passphrase: Array("wrong".utf8))
        }
        await expectKeyError(.invalidArgument) { _ = try LocalMasterKeyProvider.unseal(at: path, shares: []) }
    }

    @Test func sealedFilesAreMode0600AndNeverOverwritten() async throws {
        let directory = try temporaryDirectory()
        let passphrasePath = directory + "/a.sealed"
        let sharesPath = directory + "/b.sealed"
        _ = try LocalMasterKeyProvider.create(at: passphrasePath, passphrase: Array("p".utf8), scrypt: cheapScrypt)
        _ = try LocalMasterKeyProvider.create(at: sharesPath, threshold: 2, shareCount: 3)
        for path in [passphrasePath, sharesPath] {
            var info = stat()
            #expect(stat(path, &info) == 0)
            #expect(info.st_mode & 0o777 == 0o600)
        }
        let before = try Data(contentsOf: URL(fileURLWithPath: passphrasePath))
        await expectKeyError(.alreadyExists) {
            _ = try LocalMasterKeyProvider.create(at: passphrasePath, passphrase: Array("q".utf8), scrypt: cheapScrypt)
        }
        #expect(try Data(contentsOf: URL(fileURLWithPath: passphrasePath)) == before)
        // No temporary files are left behind.
        #expect(try FileManager.default.contentsOfDirectory(atPath: directory).sorted() == ["a.sealed", "b.sealed"])
    }

    @Test func missingFileIsSealedAndBadParametersAreRefused() async throws {
        let directory = try temporaryDirectory()
        await expectKeyError(.sealed) {
            _ = try LocalMasterKeyProvider.unseal(at: directory + "/absent", passphrase: Array("p".utf8))
        }
        await expectKeyError(.invalidArgument) {
            _ = try LocalMasterKeyProvider.create(
                at: directory + "/x", passphrase: Array("p".utf8), scrypt: ScryptParameters(log2N: 30, r: 8, p: 1))
        }
        try Data("{}".utf8).write(to: URL(fileURLWithPath: directory + "/junk"))
        await expectKeyError(.malformed) {
            _ = try LocalMasterKeyProvider.unseal(at: directory + "/junk", passphrase: Array("p".utf8))
        }
    }

    @Test func sharesOfAnotherFileAndTamperedParametersFail() async throws {
        let path = try temporaryDirectory() + "/master.sealed"
        let (_, shares) = try LocalMasterKeyProvider.create(at: path, threshold: 2, shareCount: 3)
        let (_, others) = try LocalMasterKeyProvider.create(at: path + ".other", threshold: 2, shareCount: 3)
        // Shares of another file: right shape, wrong sealing key.
        await expectKeyError(.shares) { _ = try LocalMasterKeyProvider.unseal(at: path, shares: Array(others.prefix(2))) }
        // The parameters are bound as additional data: editing one fails authentication even with the right shares.
        let text = try String(contentsOfFile: path, encoding: .utf8)
        #expect(text.contains("\"shareCount\" : 3"))
        try text.replacingOccurrences(of: "\"shareCount\" : 3", with: "\"shareCount\" : 4")
            .write(toFile: path, atomically: false, encoding: .utf8)
        await expectKeyError(.shares) { _ = try LocalMasterKeyProvider.unseal(at: path, shares: Array(shares.prefix(2))) }
    }

    @Test func anyThreeOfFiveSharesUnsealAndTwoDoNot() async throws {
        let path = try temporaryDirectory() + "/master.sealed"
        let (created, shares) = try LocalMasterKeyProvider.create(at: path, threshold: 3, shareCount: 5)
        #expect(shares.count == 5)
        let triples = subsets(shares, size: 3)
        #expect(triples.count == 10)
        for subset in triples {
            let unsealed = try LocalMasterKeyProvider.unseal(at: path, shares: subset)
            #expect(try sameMaster(created, unsealed), "shares \(subset.map(\.index))")
        }
        for pair in subsets(shares, size: 2) {
            await expectKeyError(.shares) { _ = try LocalMasterKeyProvider.unseal(at: path, shares: pair) }
        }
    }

    @Test func aCorruptedShareFails() async throws {
        let path = try temporaryDirectory() + "/master.sealed"
        let (_, shares) = try LocalMasterKeyProvider.create(at: path, threshold: 3, shareCount: 5)
        var values = shares[1].values
        values[7] ^= 0x01
        let corrupted = ShamirShare(threshold: 3, index: shares[1].index, values: values)
        await expectKeyError(.shares) {
            _ = try LocalMasterKeyProvider.unseal(at: path, shares: [shares[0], corrupted, shares[2]])
        }
        let relabelled = ShamirShare(threshold: 3, index: 5, values: shares[1].values)
        await expectKeyError(.shares) {
            _ = try LocalMasterKeyProvider.unseal(at: path, shares: [shares[0], relabelled, shares[2]])
        }
        // Shares through their text form still unseal.
        let parsed = try shares.suffix(3).map { try ShamirShare(encoded: $0.encoded) }
        _ = try LocalMasterKeyProvider.unseal(at: path, shares: parsed)
    }
}
