import KBSClaims
package import KBSKeys

/// Which master-key provider a data directory uses, chosen by the environment:
///
/// - `KBS_MASTER_KEY=local` (the default): `DATA_DIR/master.sealed` under the passphrase.
/// - `KBS_MASTER_KEY=pkcs11`: an AES key in a PKCS#11 token (`KBS_PKCS11_MODULE`, default SoftHSM2;
///   `KBS_PKCS11_TOKEN`; `KBS_PKCS11_KEY`, default `kbs-master`; `KBS_PKCS11_PIN`).
/// - `KBS_MASTER_KEY=infisical`: a key in Infisical's KMS (`INFISICAL_API_URL`, `INFISICAL_UNIVERSAL_AUTH_CLIENT_ID`,
///   `INFISICAL_UNIVERSAL_AUTH_CLIENT_SECRET`, `INFISICAL_PROJECT_ID`; `KBS_INFISICAL_KEY`, default `kbs-master`).
///
/// With `create`, a missing key (sealed file, token object, KMS key) is made; otherwise it is `sealed`/`notFound`.
package enum MasterKeySelection {
    package static let variable = "KBS_MASTER_KEY"

    /// The provider the environment names for `directory`; `passphrase` is asked only for the local provider.
    package static func provider(
        directory: String, environment: [String: String], create: Bool, scrypt: ScryptParameters = .standard,
        passphrase: () throws -> [UInt8]
    ) async throws -> any MasterKeyProvider {
        func required(_ name: String) throws(KeyError) -> String {
            guard let value = environment[name], !value.isEmpty else {
                throw KeyError(.invalidArgument, "\(variable)=\(environment[variable] ?? "") needs \(name)")
            }
            return value
        }
        switch environment[variable] ?? "local" {
        case "local", "":
            return try BrokerKeys.localProvider(directory: directory, passphrase: try passphrase(), create: create, scrypt: scrypt)
        case "pkcs11":
            let configuration = PKCS11MasterKeyProvider.Configuration(
                modulePath: environment["KBS_PKCS11_MODULE"].flatMap { $0.isEmpty ? nil : $0 }
                    ?? PKCS11MasterKeyProvider.Configuration.softHSM2ModulePath,
                tokenLabel: try required("KBS_PKCS11_TOKEN"),
                keyLabel: environment["KBS_PKCS11_KEY"].flatMap { $0.isEmpty ? nil : $0 } ?? "kbs-master")
            let pin = Array(try required("KBS_PKCS11_PIN").utf8)
            // A plain `do`/`catch` with a rethrow: `catch … where` on this typed throw crashed the 6.3 compiler.
            do {
                return try PKCS11MasterKeyProvider.open(configuration, pin: pin)
            } catch {
                if !(error.reason == .notFound && create) { throw error }
            }
            return try PKCS11MasterKeyProvider.create(configuration, pin: pin)
        case "infisical":
            let client = InfisicalClient(configuration: try InfisicalConfiguration(environment: environment))
            let name = environment["KBS_INFISICAL_KEY"].flatMap { $0.isEmpty ? nil : $0 } ?? "kbs-master"
            return try await InfisicalMasterKeyProvider.connect(client: client, keyName: name, create: create)
        case let other:
            throw KeyError(.invalidArgument, "\(variable) is `\(other)`; expected local, pkcs11 or infisical")
        }
    }
}
