import Foundation
import KBSPolicyTesting
import Testing

#if canImport(FoundationNetworking)
    import FoundationNetworking
#endif

/// A `kbs serve` child process on a free loopback port, stopped by the test that started it.
final class ServerProcess: @unchecked Sendable {
    static let adminToken = "test-admin-token-0123456789abcdef"

    /// The built `kbs` binary, beside the test bundle or in `.build/debug`.
    static var binary: String? {
        let candidates = [
            URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent().appendingPathComponent("kbs").path,
            RepositoryPaths.path(".build/debug/kbs"),
        ]
        return candidates.first { FileManager.default.isExecutableFile(atPath: $0) }
    }

    let process = Process()
    let dataDirectory: String
    let stderrPath: String
    private(set) var port = 0
    private let session: URLSession

    /// Starts `kbs serve` and waits until it listens; `environment` adds variables, and `launcher` (a command that
    /// ends by executing its arguments) starts the binary when given.
    init(
        policies: String, dataDirectory: String? = nil, arguments: [String] = [], token: String? = ServerProcess.adminToken,
        environment extra: [String: String] = [:], launcher: [String] = []
    ) throws {
        let binary = try #require(ServerProcess.binary, "the kbs binary is not built; run `swift build` first")
        let data = dataDirectory ?? ServerProcess.temporaryDirectory("kbs-data")
        self.dataDirectory = data
        stderrPath = data + "/stderr-\(UUID()).log"
        _ = FileManager.default.createFile(atPath: stderrPath, contents: nil)
        let serve = ["serve", "--policies", policies, "--data-dir", data, "--port", "0", "--reload-interval-ms", "200"] + arguments
        if let program = launcher.first {
            process.executableURL = URL(fileURLWithPath: program)
            process.arguments = Array(launcher.dropFirst()) + [binary] + serve
        } else {
            process.executableURL = URL(fileURLWithPath: binary)
            process.arguments = serve
        }
        var environment = ProcessInfo.processInfo.environment
        environment["KBS_ADMIN_TOKEN"] = token
        // Tests never reach the vendors: a test that fetches collateral points the server at a local stand-in.
        environment["KBS_COLLATERAL_FETCH"] = "false"
        environment.merge(extra) { $1 }
        process.environment = environment
        let stdout = Pipe()
        process.standardOutput = stdout
        process.standardError = try FileHandle(forWritingTo: URL(fileURLWithPath: stderrPath))
        let configuration = URLSessionConfiguration.ephemeral
        configuration.timeoutIntervalForRequest = 30
        // Each request says what it sends: no cookie jar, and a redirect is an answer to look at, not to follow.
        configuration.httpShouldSetCookies = false
        configuration.httpCookieAcceptPolicy = .never
        session = URLSession(configuration: configuration, delegate: NoRedirects(), delegateQueue: nil)
        try process.run()
        var text = ""
        let deadline = Date().addingTimeInterval(60)
        while !text.contains("\n"), Date() < deadline, process.isRunning {
            let chunk = stdout.fileHandleForReading.availableData
            if chunk.isEmpty { break }
            text += String(decoding: chunk, as: UTF8.self)
        }
        guard let range = text.range(of: #"127\.0\.0\.1:(\d+)"#, options: .regularExpression),
            let port = Int(text[range].split(separator: ":").last ?? "")
        else {
            process.terminate()
            throw ServerTestError("kbs serve did not start: \(text)\n\(stderr)")
        }
        self.port = port
    }

    deinit {
        if process.isRunning {
            process.terminate()
            process.waitUntilExit()
        }
    }

    /// What the server wrote to standard error so far.
    var stderr: String { (try? String(contentsOfFile: stderrPath, encoding: .utf8)) ?? "" }

    /// Stops the server with SIGTERM and waits for it.
    func stop() {
        guard process.isRunning else { return }
        process.terminate()
        process.waitUntilExit()
    }

    /// Kills the server with SIGKILL: no shutdown code runs.
    func kill9() {
        guard process.isRunning else { return }
        kill(process.processIdentifier, SIGKILL)
        process.waitUntilExit()
    }

    /// Sends a signal to the server.
    func signal(_ number: Int32) { kill(process.processIdentifier, number) }

    /// One HTTP request; the status and body.
    @discardableResult
    func request(_ method: String, _ path: String, body: String? = nil, headers: [String: String] = [:], admin: Bool = false)
        async throws -> (status: Int, body: String, headers: [String: String])
    {
        try await request(method, path, bytes: body.map { Data($0.utf8) }, headers: headers, admin: admin)
    }

    /// One HTTP request whose body is any bytes (sent as `application/json` unless `headers` say otherwise).
    @discardableResult
    func request(_ method: String, _ path: String, bytes body: Data?, headers: [String: String] = [:], admin: Bool = false)
        async throws -> (status: Int, body: String, headers: [String: String])
    {
        var request = URLRequest(url: URL(string: "http://127.0.0.1:\(port)\(path)")!)
        request.httpMethod = method
        if let body {
            request.httpBody = body
            request.setValue("application/json", forHTTPHeaderField: "Content-Type")
        }
        for (name, value) in headers { request.setValue(value, forHTTPHeaderField: name) }
        if admin { request.setValue("Bearer \(ServerProcess.adminToken)", forHTTPHeaderField: "Authorization") }
        let (data, response) = try await session.data(for: request)
        let http = try #require(response as? HTTPURLResponse)
        var fields: [String: String] = [:]
        for (name, value) in http.allHeaderFields { fields[String(describing: name).lowercased()] = String(describing: value) }
        return (http.statusCode, String(decoding: data, as: UTF8.self), fields)
    }

    /// The body parsed as a JSON object.
    static func object(_ text: String) throws -> [String: Any] {
        try #require(try JSONSerialization.jsonObject(with: Data(text.utf8)) as? [String: Any], "not a JSON object: \(text)")
    }

    /// The `error.code` of a JSON error body.
    static func errorCode(_ text: String) throws -> String? {
        (try object(text)["error"] as? [String: Any])?["code"] as? String
    }

    /// Polls `condition` every 100 ms for up to `seconds`.
    static func eventually(seconds: Double = 15, _ condition: () async throws -> Bool) async throws -> Bool {
        let deadline = Date().addingTimeInterval(seconds)
        while Date() < deadline {
            if try await condition() { return true }
            try await Task.sleep(for: .milliseconds(100))
        }
        return try await condition()
    }

    static func temporaryDirectory(_ prefix: String) -> String {
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("\(prefix)-\(UUID())").path
        try? FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
        return path
    }

    /// A copy of a repository bundle (its top-level files) that a test may edit.
    static func copyOfBundle(_ relative: String) throws -> String {
        let source = RepositoryPaths.path(relative)
        let target = temporaryDirectory("kbs-bundle")
        for file in try FileManager.default.contentsOfDirectory(atPath: source) where file.hasSuffix(".policy") || file.hasSuffix(".json") {
            try FileManager.default.copyItem(atPath: source + "/" + file, toPath: target + "/" + file)
        }
        return target
    }
}

/// A child process run to its end.
enum ChildProcess {
    /// Runs `executable` with `arguments` and `input` on its standard input: its exit status, standard output and
    /// standard error.
    static func run(_ executable: String, _ arguments: [String], input: String = "") throws -> (status: Int32, out: String, err: String) {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: executable)
        process.arguments = arguments
        // Standard error goes to a file, so that a chatty child cannot fill one pipe while the other is read.
        let errors = FileManager.default.temporaryDirectory.appendingPathComponent("child-\(UUID()).err")
        _ = FileManager.default.createFile(atPath: errors.path, contents: nil)
        defer { try? FileManager.default.removeItem(at: errors) }
        let (feed, output) = (Pipe(), Pipe())
        process.standardInput = feed
        process.standardOutput = output
        process.standardError = try FileHandle(forWritingTo: errors)
        try process.run()
        feed.fileHandleForWriting.write(Data(input.utf8))
        try feed.fileHandleForWriting.close()
        let out = String(decoding: output.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        process.waitUntilExit()
        return (process.terminationStatus, out, (try? String(contentsOf: errors, encoding: .utf8)) ?? "")
    }
}

struct ServerTestError: Error, CustomStringConvertible {
    var description: String
    init(_ description: String) { self.description = description }
}

/// The Todo scenario's subjects, by PID.
enum Todo {
    static let rick = "CiRmZDA2MTRkMy1jMzlhLTQ3ODEtYjdiZC04Yjk2ZjVhNTEwMGQSBWxvY2Fs"
    static let morty = "CiRmZDE2MTRkMy1jMzlhLTQ3ODEtYjdiZC04Yjk2ZjVhNTEwMGQSBWxvY2Fs"
    static let beth = "CiRmZDM2MTRkMy1jMzlhLTQ3ODEtYjdiZC04Yjk2ZjVhNTEwMGQSBWxvY2Fs"

    static func request(subject: String, action: String, owner: String? = nil) -> String {
        let properties = owner.map { #","properties":{"ownerID":"\#($0)"}"# } ?? ""
        return #"{"subject":{"type":"user","id":"\#(subject)"},"action":{"name":"\#(action)"},"resource":{"type":"todo","id":"t1"\#(properties)}}"#
    }
}

/// Answers redirects with themselves (a test inspects the 302 a SAML login starts with).
final class NoRedirects: NSObject, URLSessionTaskDelegate, Sendable {
    func urlSession(
        _ session: URLSession, task: URLSessionTask, willPerformHTTPRedirection response: HTTPURLResponse, newRequest request: URLRequest,
        completionHandler: @escaping (URLRequest?) -> Void
    ) {
        completionHandler(nil)
    }
}
