import Foundation
import Glibc
import Testing

@testable import KBSKeys

/// The test venv (`Tools/bootstrap`) with `infisicalsdk` and `cryptography`, which the stand-in and the checks need.
enum InfisicalTools {
    static let repository = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent().path
    static let python = repository + "/.venv-test/bin/python"
    static let standIn = repository + "/Tools/infisical-local"
    static let checker = repository + "/Tools/check-infisical-local.py"

    /// Under CI the venv must be there (the tests then fail without it); elsewhere its absence skips them.
    static var available: Bool {
        FileManager.default.isExecutableFile(atPath: python) || ProcessInfo.processInfo.environment["CI"] == "true"
    }

    /// The trait for tests that need the venv.
    static let needed = Testing.ConditionTrait.enabled(
        if: available, "no .venv-test with infisicalsdk (run Tools/bootstrap); Infisical tests skipped")

    static let clientID = "kbs-test-identity"
    static let clientSecret = "kbs-test-client-secret-0123456789"
    static let projectID = "kbs-test-project"
}

struct InfisicalToolError: Error, CustomStringConvertible {
    var description: String
}

/// `Tools/infisical-local` on a free loopback port, stopped by the test that started it (or when dropped).
final class InfisicalStandIn: @unchecked Sendable {
    let process = Process()
    let url: URL
    private let stderrPath: String
    private let stdout = Pipe()

    convenience init(tokenTTL: Int = 7200) throws {
        try self.init(pythonArguments: [
            InfisicalTools.standIn, "--port", "0", "--client-id", InfisicalTools.clientID, "--client-secret",
            InfisicalTools.clientSecret, "--token-ttl", String(tokenTTL),
        ])
    }

    /// Runs the venv's Python with `pythonArguments` (the stand-in, or a scripted server); it must print
    /// `listening on URL` first.
    init(pythonArguments: [String]) throws {
        let directory = try temporaryDirectory()
        stderrPath = directory + "/infisical-local.stderr"
        _ = FileManager.default.createFile(atPath: stderrPath, contents: nil)
        process.executableURL = URL(fileURLWithPath: InfisicalTools.python)
        process.arguments = pythonArguments
        process.standardOutput = stdout
        process.standardError = try FileHandle(forWritingTo: URL(fileURLWithPath: stderrPath))
        try process.run()
        var text = ""
        let deadline = Date().addingTimeInterval(30)
        while !text.contains("\n"), Date() < deadline, process.isRunning {
            let chunk = stdout.fileHandleForReading.availableData
            if chunk.isEmpty { break }
            text += String(decoding: chunk, as: UTF8.self)
        }
        let prefix = "listening on "
        guard let line = text.split(separator: "\n").first, line.hasPrefix(prefix),
            let url = URL(string: String(line.dropFirst(prefix.count)))
        else {
            if process.isRunning { process.terminate() }
            let stderr = (try? String(contentsOfFile: stderrPath, encoding: .utf8)) ?? ""
            throw InfisicalToolError(description: "infisical-local did not start: \(text)\n\(stderr)")
        }
        self.url = url
    }

    deinit { stop() }

    /// Has the stand-in expire every token issued so far (SIGUSR1), and waits until it has.
    func expireTokens() throws {
        kill(process.processIdentifier, SIGUSR1)
        var text = ""
        let deadline = Date().addingTimeInterval(10)
        while !text.contains("tokens expired\n"), Date() < deadline, process.isRunning {
            let chunk = stdout.fileHandleForReading.availableData
            if chunk.isEmpty { break }
            text += String(decoding: chunk, as: UTF8.self)
        }
        guard text.contains("tokens expired\n") else {
            throw InfisicalToolError(description: "infisical-local did not expire its tokens: \(text)")
        }
    }

    /// Stops the stand-in and waits for it; SIGKILL if SIGTERM has not stopped it within five seconds.
    func stop() {
        guard process.isRunning else { return }
        process.terminate()
        let deadline = Date().addingTimeInterval(5)
        while process.isRunning, Date() < deadline { usleep(20_000) }
        if process.isRunning { kill(process.processIdentifier, SIGKILL) }
        process.waitUntilExit()
    }

    /// A client for this stand-in with the test identity (or `secret`), clocked by `now`.
    func client(
        secret: String = InfisicalTools.clientSecret,
        environment: String = "dev",
        now: @escaping @Sendable () -> Date = { Date() }
    ) -> InfisicalClient {
        InfisicalClient(
            configuration: InfisicalConfiguration(
                apiURL: url, clientID: InfisicalTools.clientID, clientSecret: secret,
                projectID: InfisicalTools.projectID, environment: environment),
            now: now)
    }

    /// Runs `Tools/check-infisical-local.py` (the official `infisicalsdk`) against this stand-in with `arguments`
    /// after the connection ones; returns its exit status and its standard output and error together.
    func sdk(
        _ arguments: [String],
        secret: String = InfisicalTools.clientSecret
    ) throws -> (status: Int32, output: String) {
        let checker = Process()
        checker.executableURL = URL(fileURLWithPath: InfisicalTools.python)
        checker.arguments =
            [InfisicalTools.checker, url.absoluteString, InfisicalTools.clientID, secret, InfisicalTools.projectID]
            + arguments
        let output = Pipe()
        checker.standardOutput = output
        checker.standardError = output
        try checker.run()
        let data = output.fileHandleForReading.readDataToEndOfFile()
        checker.waitUntilExit()
        return (checker.terminationStatus, String(decoding: data, as: UTF8.self))
    }
}

/// A clock the test moves by hand.
final class TestClock: @unchecked Sendable {
    private let lock = NSLock()
    private var current: Date

    init(_ start: Date = Date()) { current = start }

    var now: Date { lock.withLock { current } }

    func advance(_ seconds: TimeInterval) { lock.withLock { current += seconds } }
}
