import Foundation
import KBSPolicyTesting

/// `Tools/infisical-local` (a stand-in for Infisical's KMS API) on a free loopback port.
final class InfisicalLocal: @unchecked Sendable {
    static let clientID = "kbs-attack-identity"
    static let clientSecret = "kbs-attack-client-secret-0123456789"
    let process = Process()
    let url: String

    init() throws {
        process.executableURL = URL(fileURLWithPath: TestVenv.python)
        process.arguments = [
            RepositoryPaths.path("Tools/infisical-local"), "--port", "0", "--client-id", Self.clientID, "--client-secret", Self.clientSecret,
        ]
        let output = Pipe()
        process.standardOutput = output
        process.standardError = FileHandle.nullDevice
        try process.run()
        let line = String(decoding: output.fileHandleForReading.availableData, as: UTF8.self)
        guard let range = line.range(of: "http://127.0.0.1:[0-9]+", options: .regularExpression) else {
            process.terminate()
            throw ServerTestError("infisical-local did not start: \(line)")
        }
        url = String(line[range])
    }

    /// What `kbs serve` needs to keep its master key there.
    var environment: [String: String] {
        [
            "KBS_MASTER_KEY": "infisical", "INFISICAL_API_URL": url, "INFISICAL_UNIVERSAL_AUTH_CLIENT_ID": Self.clientID,
            "INFISICAL_UNIVERSAL_AUTH_CLIENT_SECRET": Self.clientSecret, "INFISICAL_PROJECT_ID": "kbs-attack",
        ]
    }

    func stop() {
        guard process.isRunning else { return }
        process.terminate()
        process.waitUntilExit()
    }

    deinit { stop() }
}
