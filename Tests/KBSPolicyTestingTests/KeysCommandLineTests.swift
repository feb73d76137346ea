import Foundation
import KBSPolicyTesting
import Testing

/// `kbs keys …` through the built binary: states, and no acknowledged key lost to `kill -9` mid-burst.
struct KeysCommandLineTests {
    static let passphrase = "test passphrase, not a secret"

    /// Starts `kbs` with the master passphrase in its environment.
    static func start(_ arguments: [String]) throws -> (Process, Pipe, Pipe) {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: try #require(CommandLineTests.binary))
        process.arguments = arguments
        var environment = ProcessInfo.processInfo.environment
        environment["KBS_MASTER_PASSPHRASE"] = passphrase
        process.environment = environment
        let out = Pipe()
        let err = Pipe()
        process.standardOutput = out
        process.standardError = err
        try process.run()
        return (process, out, err)
    }

    static func run(_ arguments: [String]) throws -> (status: Int32, out: String, err: String) {
        let (process, out, err) = try start(arguments)
        let outData = out.fileHandleForReading.readDataToEndOfFile()
        let errData = err.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        return (process.terminationStatus, String(decoding: outData, as: UTF8.self), String(decoding: errData, as: UTF8.self))
    }

    /// Runs `arguments`, reads acknowledged lines until `count` arrived, then SIGKILLs it; the ids it acknowledged.
    static func killAfter(_ count: Int, _ arguments: [String]) throws -> [String] {
        let (process, out, _) = try start(arguments)
        var buffer = Data()
        var acknowledged: [String] = []
        let handle = out.fileHandleForReading
        while acknowledged.count < count {
            let chunk = handle.availableData
            if chunk.isEmpty { break }
            buffer.append(chunk)
            while let newline = buffer.firstIndex(of: 0x0A) {
                let line = buffer[buffer.startIndex..<newline]
                buffer.removeSubrange(buffer.startIndex...newline)
                if let object = try? JSONSerialization.jsonObject(with: line) as? [String: Any], let id = object["id"] as? String {
                    acknowledged.append(id)
                }
            }
        }
        kill(process.processIdentifier, SIGKILL)
        process.waitUntilExit()
        // Lines written before the kill but not yet read were acknowledged too.
        buffer.append(handle.readDataToEndOfFile())
        for line in buffer.split(separator: 0x0A) {
            if let object = try? JSONSerialization.jsonObject(with: line) as? [String: Any], let id = object["id"] as? String {
                acknowledged.append(id)
            }
        }
        return acknowledged
    }

    static func keys(in directory: String) throws -> [String: [String: Any]] {
        let listed = try run(["keys", "list", "--data-dir", directory])
        #expect(listed.status == 0, "\(listed.err)")
        var result: [String: [String: Any]] = [:]
        for line in listed.out.split(separator: "\n") {
            let object = try #require(try JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any])
            result[try #require(object["id"] as? String)] = object
        }
        return result
    }

    @Test(.enabled(if: CommandLineTests.binary != nil)) func killNineLosesNoAcknowledgedKeyAndTheAuditChainHolds() throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("kbs-keys-\(UUID().uuidString)").path
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let kek = try Self.run(["keys", "create", "kek", "--data-dir", directory])
        #expect(kek.status == 0, "\(kek.err)")

        let ids = (0..<400).map { String(format: "dek-%03d", $0) }
        let created = try Self.killAfter(40, ["keys", "create"] + ids + ["--parent", "kek", "--data-dir", directory])
        #expect(created.count >= 40)
        let rotated = try Self.killAfter(15, ["keys", "rotate"] + created + ["--data-dir", directory])
        #expect(rotated.count >= 15)

        let stored = try Self.keys(in: directory)
        for id in created { #expect(stored[id] != nil, "acknowledged key \(id) was lost") }
        for id in rotated { #expect((stored[id]?["current_version"] as? Int ?? 0) >= 2, "acknowledged rotation of \(id) was lost") }
        let audit = try Self.run(["audit", "verify", "--data-dir", directory])
        #expect(audit.status == 0, "\(audit.err)")
    }

    @Test(.enabled(if: CommandLineTests.binary != nil)) func statesAndRefusals() throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("kbs-keys-\(UUID().uuidString)").path
        defer { try? FileManager.default.removeItem(atPath: directory) }
        #expect(try Self.run(["keys", "create", "kek", "--data-dir", directory]).status == 0)
        #expect(try Self.run(["keys", "create", "dek", "--parent", "kek", "--tier", "2", "--data-dir", directory]).status == 0)
        let early = try Self.run(["keys", "schedule-deletion", "dek", "--days", "3", "--data-dir", directory])
        #expect(early.status == 1)
        #expect(early.err.hasPrefix("error: invalid_argument: "))
        #expect(try Self.run(["keys", "schedule-deletion", "dek", "--days", "7", "--data-dir", directory]).status == 0)
        let rotate = try Self.run(["keys", "rotate", "dek", "--data-dir", directory])
        #expect(rotate.err.hasPrefix("error: pending_deletion: "), "\(rotate.err)")
        let cancelled = try Self.run(["keys", "cancel-deletion", "dek", "--data-dir", directory])
        #expect(cancelled.out.contains("\"state\":\"disabled\""), "\(cancelled.out)")
        #expect(try Self.keys(in: directory)["dek"]?["required_tier"] as? Int == 2)
        let missing = try Self.run(["keys", "list", "--data-dir", directory + "/nowhere"])
        #expect(missing.err.hasPrefix("error: sealed: "), "\(missing.err)")
    }
}
