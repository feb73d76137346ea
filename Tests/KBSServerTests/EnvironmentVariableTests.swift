import Foundation
import KBSBroker
import Testing

@testable import KBSServer

/// `EnvironmentVariable` is what `Tools/check-deploy` holds `Deploy/` to, so it must be every variable the server
/// reads and no other.
struct EnvironmentVariableTests {
    static let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()

    /// The master-key variables are read in KBSBroker and KBSKeys, below KBSServer, from lists of their own.
    @Test func listsExactlyTheMasterKeyVariables() {
        let masterKey: [EnvironmentVariable] = [
            .masterKey, .pkcs11Module, .pkcs11Token, .pkcs11Key, .pkcs11PIN, .infisicalKey, .infisicalAPIURL, .infisicalClientID,
            .infisicalClientSecret, .infisicalProjectID, .infisicalEnvironment, .infisicalSecretPath,
        ]
        #expect(Set(masterKey.map(\.rawValue)) == Set(MasterKeySelection.variables))
    }

    @Test func namesAreUnique() {
        #expect(Set(EnvironmentVariable.allCases.map(\.rawValue)).count == EnvironmentVariable.allCases.count)
    }

    /// A new `environment["NAME"]` or `getenv("NAME")` would read a variable past the list (and past the deployment
    /// check); the readers name variables through `EnvironmentVariable` or a constant of their target instead.
    @Test func noSourceReadsAVariableByLiteralName() throws {
        let sources = Self.root.appendingPathComponent("Sources")
        let literalRead = try Regex(#"(?i)(environment|variables)\s*\[\s*""|getenv\s*\(\s*""|setenv\s*\(\s*""#)
        var offenders: [String] = []
        let files = FileManager.default.enumerator(at: sources, includingPropertiesForKeys: nil)
        while let file = files?.nextObject() as? URL {
            guard file.pathExtension == "swift" else { continue }
            let text = try String(contentsOf: file, encoding: .utf8)
            if text.contains(literalRead) { offenders.append(file.path) }
        }
        #expect(offenders.isEmpty, "read environment variables through EnvironmentVariable: \(offenders)")
    }
}
