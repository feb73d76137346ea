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
    static let pkcs11Module = "KBS_PKCS11_MODULE"
    static let pkcs11Token = "KBS_PKCS11_TOKEN"
    static let pkcs11Key = "KBS_PKCS11_KEY"
    static let pkcs11PIN = "KBS_PKCS11_PIN"
    static let infisicalKey = "KBS_INFISICAL_KEY"
    /// Every variable `provider` reads, with Infisical's (`InfisicalConfiguration.Variable`): `kbs serve` lists them
    /// among its own, and a test holds that list to this one.
    package static let variables = [variable, pkcs11Module, pkcs11Token, pkcs11Key, pkcs11PIN, infisicalKey] + InfisicalConfiguration.Variable.all

    /// The provider the environment names for `directory`; `passphrase` is asked only for the local provider.
    package static func provider(
        directory: String, environment: [String: String], create: Bool, scrypt: ScryptParameters = .standard,
        passphrase: () throws -> [UInt8]
    ) async throws -> any MasterKeyProvider {
        try await provider(environment: environment, create: create) {
            try BrokerKeys.localProvider(directory: directory, passphrase: try passphrase(), create: create, scrypt: scrypt)
        }
    }

    /// The provider the environment names, where `local` opens the sealed-passphrase one (from a file, or from a
    /// store several replicas share).
    package static func provider(
        environment: [String: String], create: Bool, local: () async throws -> any MasterKeyProvider
    ) async throws -> any MasterKeyProvider {
        func required(_ name: String) throws(KeyError) -> String {
            guard let value = environment[name], !value.isEmpty else {
                throw KeyError(.invalidArgument, "\(variable)=\(environment[variable] ?? "") needs \(name)")
            }
            return value
        }
        switch environment[variable] ?? "local" {
        case "local", "":
            return try await local()
        case "pkcs11":
            let configuration = PKCS11MasterKeyProvider.Configuration(
                modulePath: environment[pkcs11Module].flatMap { $0.isEmpty ? nil : $0 }
                    ?? PKCS11MasterKeyProvider.Configuration.softHSM2ModulePath,
                tokenLabel: try required(pkcs11Token),
                keyLabel: environment[pkcs11Key].flatMap { $0.isEmpty ? nil : $0 } ?? "kbs-master")
            let pin = Array(try required(pkcs11PIN).utf8)
            // A plain `do`/`catch` with a rethrow: `catch … where` on this typed throw crashed the 6.3 compiler.
            do {
                return try PKCS11MasterKeyProvider.open(configuration, pin: pin)
            } catch {
                if !(error.reason == .notFound && create) { throw error }
            }
            return try PKCS11MasterKeyProvider.create(configuration, pin: pin)
        case "infisical":
            let client = InfisicalClient(configuration: try InfisicalConfiguration(environment: environment))
            let name = environment[infisicalKey].flatMap { $0.isEmpty ? nil : $0 } ?? "kbs-master"
            return try await InfisicalMasterKeyProvider.connect(client: client, keyName: name, create: create)
        case let other:
            throw KeyError(.invalidArgument, "\(variable) is `\(other)`; expected local, pkcs11 or infisical")
        }
    }
}
