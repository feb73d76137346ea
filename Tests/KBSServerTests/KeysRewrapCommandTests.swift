import Foundation
import KBSBroker
import KBSKeys
import KBSStore
import Testing

/// `kbs keys rewrap` through the built binary: after `kbs keys rotate KEK`, every version of every data key under the
/// KEK is wrapped by its new version, ciphertexts made before still decrypt, unusable keys are skipped with a note,
/// and bad input changes nothing.
@Suite(.enabled(if: ServerProcess.binary != nil, "needs the kbs binary"))
struct KeysRewrapCommandTests {
    static let passphrase = "rewrap test passphrase, not a secret"

    /// Runs `kbs ARGUMENTS --data-dir DIRECTORY` with the master passphrase in its environment.
    static func kbs(_ directory: String, _ arguments: [String]) throws -> (status: Int32, out: String, err: String) {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: try #require(ServerProcess.binary))
        process.arguments = arguments + ["--data-dir", directory]
        var environment = ProcessInfo.processInfo.environment
        environment["KBS_MASTER_PASSPHRASE"] = passphrase
        process.environment = environment
        let (out, err) = (Pipe(), Pipe())
        process.standardOutput = out
        process.standardError = err
        try process.run()
        // Standard error stays small here (a line a key), so reading the two pipes in turn cannot stall the child.
        let outData = out.fileHandleForReading.readDataToEndOfFile()
        let errData = err.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        return (process.terminationStatus, String(decoding: outData, as: UTF8.self), String(decoding: errData, as: UTF8.self))
    }

    /// The KEK id and version each version of data key `id` is wrapped by.
    static func wrappers(_ keys: BrokerKeys, _ id: String) async throws -> [String] {
        try await keys.hierarchy.record(id).versions.map { version in
            let wrapper = try KeyHierarchy.ciphertextKey(version.wrapped)
            return "\(wrapper.id) v\(wrapper.version)"
        }
    }

    static func open(_ directory: String) throws -> BrokerKeys {
        try BrokerKeys.open(directory: directory, passphrase: Array(passphrase.utf8), create: false, actor: "test")
    }

    @Test func rewrapMovesEveryDataKeyToTheKEKsCurrentVersion() async throws {
        let directory = ServerProcess.temporaryDirectory("kbs-rewrap")
        defer { try? FileManager.default.removeItem(atPath: directory) }
        for arguments in [
            ["keys", "create", "kek"], ["keys", "create", "d1", "d2", "d3", "d4", "--parent", "kek"], ["keys", "create", "other-kek"],
            ["keys", "create", "o1", "--parent", "other-kek"], ["keys", "rotate", "d1"],
        ] {
            let run = try Self.kbs(directory, arguments)
            #expect(run.status == 0, "\(arguments): \(run.err)")
        }
        // Ciphertexts under every data key version there is, before the KEK rotates.
        var sealed: [(id: String, ciphertext: [UInt8])] = []
        do {
            let keys = try Self.open(directory)
            for id in ["d1", "d2", "d3", "o1"] {
                sealed.append((id, try await keys.hierarchy.encrypt(keyID: id, plaintext: Array("under \(id)".utf8), aad: Array(id.utf8))))
            }
            #expect(try await Self.wrappers(keys, "d1") == ["kek v1", "kek v1"])
        }
        for arguments in [["keys", "disable", "d4"], ["keys", "rotate", "kek"]] {
            let run = try Self.kbs(directory, arguments)
            #expect(run.status == 0, "\(arguments): \(run.err)")
        }

        let rewrap = try Self.kbs(directory, ["keys", "rewrap", "--parent", "kek"])
        #expect(rewrap.status == 0, "\(rewrap.err)")
        let printed = rewrap.out.split(separator: "\n").compactMap { line in
            (try? JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any])?["id"] as? String
        }
        #expect(printed == ["d1", "d2", "d3"], "each rewrapped key acknowledged on stdout: \(rewrap.out)")
        #expect(rewrap.err.contains("[1/4] d1: rewrapped 2 version(s) under kek v2"), "\(rewrap.err)")
        #expect(rewrap.err.contains("[4/4] d4: skipped, disabled: "), "\(rewrap.err)")
        #expect(rewrap.err.hasSuffix("rewrap: 3 rewrapped, 0 already current, 1 skipped (of 4 data keys)\n"), "\(rewrap.err)")

        do {
            let keys = try Self.open(directory)
            #expect(try await Self.wrappers(keys, "d1") == ["kek v2", "kek v2"])
            for id in ["d2", "d3"] { #expect(try await Self.wrappers(keys, id) == ["kek v2"]) }
            #expect(try await Self.wrappers(keys, "d4") == ["kek v1"], "the disabled key is left as it was")
            #expect(try await Self.wrappers(keys, "o1") == ["other-kek v1"], "another KEK's keys are not touched")
            for (id, ciphertext) in sealed {
                #expect(try await keys.hierarchy.decrypt(ciphertext, aad: Array(id.utf8)) == Array("under \(id)".utf8), "\(id)")
            }
        }

        // Run again (after an interruption, say): nothing is rewritten; named keys work the same way.
        let again = try Self.kbs(directory, ["keys", "rewrap", "d2", "d3"])
        #expect(again.status == 0 && again.out.isEmpty, "\(again.err)")
        #expect(again.err.contains("[1/2] d2: already wrapped by kek v2") && again.err.contains("rewrap: 0 rewrapped, 2 already current"))

        // Audited like every `kbs keys` operation, the refusal of the disabled key too; the chain verifies.
        let store = try Store(directory: directory, readOnly: true)
        let rewraps = try store.auditRecords(limit: 100_000).filter { $0.action == "rewrap" }
        #expect(rewraps.filter { $0.outcome == .success }.map(\.resource).sorted() == ["d1", "d2", "d3"])
        #expect(rewraps.contains { $0.resource == "d4" && $0.outcome == .failure && $0.detailsJSON.contains("disabled") })
        #expect(rewraps.allSatisfy { $0.actor == "cli" })
        let verify = try Self.kbs(directory, ["audit", "verify"])
        #expect(verify.status == 0, "\(verify.err)")
    }

    @Test func badInputIsRefusedAndChangesNothing() async throws {
        let directory = ServerProcess.temporaryDirectory("kbs-rewrap")
        defer { try? FileManager.default.removeItem(atPath: directory) }
        for arguments in [["keys", "create", "kek", "other-kek"], ["keys", "create", "d1", "--parent", "kek"], ["keys", "rotate", "kek"]] {
            #expect(try Self.kbs(directory, arguments).status == 0)
        }
        let cases: [(arguments: [String], prefix: String)] = [
            (["--parent", "d1"], "error: invalid_argument: key d1 is a data key"),
            (["--parent", "nowhere"], "error: not_found: "),
            (["d1", "nowhere"], "error: not_found: "),
            (["kek"], "error: invalid_argument: key kek is a key-encryption key"),
            (["d1", "--parent", "other-kek"], "error: invalid_argument: key d1 is wrapped by kek, not other-kek"),
        ]
        for (arguments, prefix) in cases {
            let run = try Self.kbs(directory, ["keys", "rewrap"] + arguments)
            #expect(run.status == 1 && run.err.hasPrefix(prefix), "\(arguments): \(run.status) \(run.err)")
            #expect(run.out.isEmpty)
        }
        let usage = try Self.kbs(directory, ["keys", "rewrap"])
        #expect(usage.status == 2, "naming nothing is a usage error: \(usage.err)")
        // A KEK that is not enabled cannot unwrap what is under it: refused before anything changes.
        #expect(try Self.kbs(directory, ["keys", "disable", "kek"]).status == 0)
        let disabled = try Self.kbs(directory, ["keys", "rewrap", "--parent", "kek"])
        #expect(disabled.status == 1 && disabled.err.hasPrefix("error: disabled: "), "\(disabled.err)")

        let keys = try Self.open(directory)
        #expect(try await Self.wrappers(keys, "d1") == ["kek v1"], "nothing was rewrapped")
        let store = try Store(directory: directory, readOnly: true)
        #expect(try store.auditRecords(limit: 100_000).allSatisfy { $0.action != "rewrap" })
    }
}
