import Foundation
import KBSPolicyTesting
import Testing

/// `KBS_MASTER_KEY=pkcs11`: the master key lives in a SoftHSM2 token, and `kbs secrets` / `kbs keys` work through it.
@Suite(.enabled(if: SoftHSM.available, "needs softhsm2 (Tools/bootstrap installs it)"))
struct HSMCommandLineTests {
    static let module = SoftHSM.module
    static let utility = SoftHSM.utility

    /// Runs `kbs` with `environment` added (and no master passphrase).
    static func run(_ arguments: [String], _ extra: [String: String], stdin: Data? = nil) throws -> (status: Int32, out: String, err: String) {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: try #require(CommandLineTests.binary))
        process.arguments = arguments
        var environment = ProcessInfo.processInfo.environment
        environment.removeValue(forKey: "KBS_MASTER_PASSPHRASE")
        environment.merge(extra) { $1 }
        process.environment = environment
        let out = Pipe()
        let err = Pipe()
        let input = Pipe()
        process.standardOutput = out
        process.standardError = err
        process.standardInput = input
        try process.run()
        if let stdin { input.fileHandleForWriting.write(stdin) }
        try input.fileHandleForWriting.close()
        let outData = out.fileHandleForReading.readDataToEndOfFile()
        let errData = err.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        return (process.terminationStatus, String(decoding: outData, as: UTF8.self), String(decoding: errData, as: UTF8.self))
    }

    @Test("secrets sealed under a key held by SoftHSM2: put, get, a key rotation, no sealed file; a wrong PIN opens nothing")
    func softHSM() throws {
        let root = FileManager.default.temporaryDirectory.appendingPathComponent("kbs-hsm-\(UUID())").path
        try FileManager.default.createDirectory(atPath: root + "/tokens", withIntermediateDirectories: true)
        try "directories.tokendir = \(root)/tokens\nobjectstore.backend = file\n".write(
            toFile: root + "/softhsm2.conf", atomically: true, encoding: .utf8)
        let initialize = Process()
        initialize.executableURL = URL(fileURLWithPath: try #require(Self.utility))
        initialize.arguments = ["--init-token", "--free", "--label", "kbs-cli", "--pin", "4711-user", "--so-pin", "4711-so"]
        initialize.environment = ["SOFTHSM2_CONF": root + "/softhsm2.conf", "PATH": "/usr/bin:/bin"]
        initialize.standardOutput = FileHandle.nullDevice
        try initialize.run()
        initialize.waitUntilExit()
        #expect(initialize.terminationStatus == 0)

        let data = root + "/data"
        let hsm = [
            "SOFTHSM2_CONF": root + "/softhsm2.conf", "KBS_MASTER_KEY": "pkcs11", "KBS_PKCS11_MODULE": Self.module,
            "KBS_PKCS11_TOKEN": "kbs-cli", "KBS_PKCS11_PIN": "4711-user",
        ]
        let value = Data("hsm-held-\(UUID())".utf8)
        let put = try Self.run(["secrets", "put", "demo/hsm/one", "--data-dir", data], hsm, stdin: value)
        #expect(put.status == 0, "\(put.err)")
        #expect(!FileManager.default.fileExists(atPath: data + "/master.sealed"), "the master key is the token's, not a sealed file")
        let get = try Self.run(["secrets", "get", "demo/hsm/one", "--data-dir", data], hsm)
        #expect(get.status == 0, "\(get.err)")
        #expect(Data(get.out.utf8) == value)

        // The KEK under the token rotates; the old value still opens.
        let rotate = try Self.run(["keys", "rotate", "kbs-resources-kek", "--data-dir", data], hsm)
        #expect(rotate.status == 0, "\(rotate.err)")
        #expect(Data(try Self.run(["secrets", "get", "demo/hsm/one", "--data-dir", data], hsm).out.utf8) == value)

        var wrong = hsm
        wrong["KBS_PKCS11_PIN"] = "0000-wrong"
        let refused = try Self.run(["secrets", "get", "demo/hsm/one", "--data-dir", data], wrong)
        #expect(refused.status == 1)
        #expect(refused.err.hasPrefix("error: master_key: "), "\(refused.err)")
        #expect(!refused.err.contains("0000-wrong"))

        // Without the token the local provider is asked for, and there is no sealed file to open.
        let local = try Self.run(["secrets", "get", "demo/hsm/one", "--data-dir", data], ["KBS_MASTER_PASSPHRASE": "anything"])
        #expect(local.status == 1)
    }
}

/// Debian's SoftHSM2; required under CI=true.
enum SoftHSM {
    static let module = "/usr/lib/softhsm/libsofthsm2.so"
    static let utility = ["/usr/bin/softhsm2-util", "/usr/local/bin/softhsm2-util"].first { FileManager.default.isExecutableFile(atPath: $0) }
    static var available: Bool {
        (FileManager.default.fileExists(atPath: module) && utility != nil) || ProcessInfo.processInfo.environment["CI"] == "true"
    }
}
