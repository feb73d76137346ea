import Foundation
import HTTPTypes

/// The `kbs serve --config` file (DESIGN, "Configuration"): TOML with `[server]`, `[store]`, `[kms]`, `[keys]`, `[tls]` and
/// `[identity…]` sections, read over a ``ServerConfiguration``, and the environment variables that override it.
///
/// Precedence, highest first: command-line flags, the environment (``applyingEnvironment(_:to:)``), the file
/// (``load(path:over:)``), the defaults. Relative paths in the file are relative to the file's folder; those in the
/// environment to the working directory.
package enum ConfigurationFile {
    /// One mistake: the file (or environment variable), the 1-based line when there is one, and what is wrong.
    package struct Diagnostic: Sendable, Equatable, CustomStringConvertible {
        /// The configuration file as given, or the environment variable's name.
        package var file: String
        package var line: Int?
        package var message: String

        /// Creates a diagnostic.
        package init(file: String, line: Int?, message: String) {
            self.file = file
            self.line = line
            self.message = message
        }

        /// `FILE:LINE: error: message`, as compilers and `kbs policy check` print.
        package var description: String {
            line.map { "\(file):\($0): error: \(message)" } ?? "\(file): error: \(message)"
        }
    }

    /// A configuration read in full, or every mistake found in it: a bad file is an expected outcome, not a throw.
    package enum Outcome: Sendable {
        case loaded(ServerConfiguration)
        case rejected([Diagnostic])

        /// The configuration, or a ``ServerError`` (`configuration`) whose message lists every diagnostic, one a line.
        package func get() throws(ServerError) -> ServerConfiguration {
            switch self {
            case .loaded(let configuration): return configuration
            case .rejected(let diagnostics):
                throw ServerError(.internalServerError, "configuration", diagnostics.map(\.description).joined(separator: "\n"))
            }
        }
    }

    /// Reads the file at `path` over `base`: what the file sets replaces what `base` has.
    package static func load(path: String, over base: ServerConfiguration) -> Outcome {
        guard let data = FileManager.default.contents(atPath: path) else {
            let reason = FileManager.default.fileExists(atPath: path) ? "cannot read the file" : "no such file"
            return .rejected([Diagnostic(file: path, line: nil, message: reason)])
        }
        return decode(Array(data), path: path, over: base)
    }

    /// Reads configuration text as if it were the file at `path` (which names it in diagnostics and anchors its
    /// relative paths); `isReadableFile` checks the files it names (JWKS, certificates).
    package static func decode(
        _ bytes: [UInt8], path: String, over base: ServerConfiguration,
        isReadableFile: @escaping (String) -> Bool = ConfigurationFile.isReadableFile
    ) -> Outcome {
        let root: TOML.Table
        do {
            root = try TOML.parse(bytes)
        } catch {
            return .rejected([Diagnostic(file: path, line: error.line, message: error.message)])
        }
        var decoder = ConfigurationDecoder(file: path, isReadableFile: isReadableFile)
        let configuration = decoder.decode(root, over: base)
        // Sections are checked one after another; the reader wants the file's order.
        let diagnostics = decoder.diagnostics.enumerated().sorted { ($0.element.line ?? 0, $0.offset) < ($1.element.line ?? 0, $1.offset) }.map(
            \.element)
        return diagnostics.isEmpty ? .loaded(configuration) : .rejected(diagnostics)
    }

    /// `configuration` with the environment's overrides: `KBS_HOST`, `KBS_PORT`, `KBS_DATA_DIR`, `KBS_POLICIES`
    /// (folders separated by commas), `TEE_MODE`, `ENABLE_TEE` (`true`, `false`, `1`, `0`), `PRIVACY_TIER`,
    /// `KBS_STORE_URL`, `KMS_ENDPOINT`, `KBS_TLS_CERTIFICATE` and `KBS_TLS_PRIVATE_KEY` (PEM files; both or neither),
    /// `KBS_ALLOW_PLAIN_HTTP`, `KBS_KEY_SWEEP_INTERVAL_SECONDS`, and `KBS_COLLATERAL_<KEY>` for each key of `[collateral]` (`KBS_COLLATERAL_FETCH`,
    /// `KBS_COLLATERAL_AMD_KDS_URL`, …). An empty variable counts as unset.
    package static func applyingEnvironment(_ environment: [String: String], to configuration: ServerConfiguration) -> Outcome {
        var configuration = configuration
        var diagnostics: [Diagnostic] = []
        func value(_ variable: EnvironmentVariable, _ apply: (String) -> String?) {
            guard let text = variable.value(in: environment) else { return }
            if let problem = apply(text) { diagnostics.append(Diagnostic(file: variable.rawValue, line: nil, message: problem)) }
        }
        value(.host) { text in
            configuration.host = text
            return nil
        }
        value(.port) { text in
            guard let port = Int(text), ServerSettings.ports.contains(port) else { return ServerSettings.portProblem("`\(text)`") }
            configuration.port = port
            return nil
        }
        value(.dataDirectory) { text in
            configuration.dataDirectory = text
            return nil
        }
        value(.policies) { text in
            let folders = text.split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty }
            guard let first = folders.first else { return "names no policy folder" }
            configuration.policies = first
            configuration.additionalPolicies = Array(folders.dropFirst())
            return nil
        }
        value(.teeMode) { text in
            guard let mode = ServerSettings.teeMode(text) else { return ServerSettings.teeModeProblem(text) }
            configuration.teeMode = mode
            return nil
        }
        func flag(_ variable: EnvironmentVariable, _ apply: (Bool) -> Void) {
            value(variable) { text in
                guard let flag = ServerSettings.flag(text) else { return "must be true, false, 1 or 0, not `\(text)`" }
                apply(flag)
                return nil
            }
        }
        flag(.enableTEE) { configuration.enableTEE = $0 }
        flag(.allowPlainHTTP) { configuration.allowPlainHTTP = $0 }
        value(.privacyTier) { text in
            guard let tier = Int(text), ServerSettings.tiers.contains(tier) else { return ServerSettings.tierProblem("`\(text)`") }
            configuration.defaultPrivacyTier = tier
            return nil
        }
        value(.storeURL) { text in
            switch ServerSettings.storeURL(text, resolve: { $0 }) {
            case .valid(let url): configuration.storeURL = url
            case .invalid(let problem): return problem
            }
            return nil
        }
        value(.kmsEndpoint) { text in
            configuration.kmsEndpoint = text
            return nil
        }
        value(.tlsCertificate) { text in
            guard isReadableFile(text) else { return "names no readable file: \(text)" }
            configuration.tlsCertificate = text
            return nil
        }
        value(.tlsPrivateKey) { text in
            guard isReadableFile(text) else { return "names no readable file: \(text)" }
            configuration.tlsPrivateKey = text
            return nil
        }
        value(.keySweepIntervalSeconds) { text in
            guard let seconds = Int(text), ServerSettings.keySweepIntervals.contains(seconds) else {
                return ServerSettings.keySweepIntervalProblem("`\(text)`")
            }
            configuration.keySweepIntervalSeconds = seconds
            return nil
        }
        if (configuration.tlsCertificate == nil) != (configuration.tlsPrivateKey == nil) {
            diagnostics.append(
                Diagnostic(
                    file: EnvironmentVariable.tlsCertificate.rawValue, line: nil,
                    message: "TLS needs both a certificate and a private key, or neither"))
        }
        diagnostics += applyingCollateralEnvironment(environment, to: &configuration.collateral)
        return diagnostics.isEmpty ? .loaded(configuration) : .rejected(diagnostics)
    }

    /// `collateral` with the `KBS_COLLATERAL_*` variables applied (also read by `kbs evidence verify --fetch-collateral`);
    /// the mistakes found, none when all is well.
    package static func applyingCollateralEnvironment(
        _ environment: [String: String], to collateral: inout CollateralConfiguration
    ) -> [Diagnostic] {
        var diagnostics: [Diagnostic] = []
        func value(_ variable: EnvironmentVariable, _ apply: (String) -> String?) {
            guard let text = variable.value(in: environment) else { return }
            if let problem = apply(text) { diagnostics.append(Diagnostic(file: variable.rawValue, line: nil, message: problem)) }
        }
        value(.collateralFetch) { text in
            guard let flag = ServerSettings.flag(text) else { return "must be true, false, 1 or 0, not `\(text)`" }
            collateral.fetch = flag
            return nil
        }
        let urls: [(EnvironmentVariable, WritableKeyPath<VendorCollateralFetcher.Endpoints, String>)] = [
            (.collateralAMDKDSURL, \.amdKDS), (.collateralIntelPCSURL, \.intelPCS),
            (.collateralIntelRootCRLURL, \.intelRootCRL),
        ]
        for (name, field) in urls {
            value(name) { text in
                if let problem = VendorCollateralFetcher.problem(with: text) { return problem }
                collateral.endpoints[keyPath: field] = text
                return nil
            }
        }
        value(.collateralTimeoutSeconds) { text in
            guard let seconds = Int(text), ServerSettings.collateralTimeouts.contains(seconds) else {
                return ServerSettings.collateralTimeoutProblem("`\(text)`")
            }
            collateral.timeoutSeconds = seconds
            return nil
        }
        value(.collateralRefreshMarginSeconds) { text in
            guard let seconds = Int(text), ServerSettings.refreshMargins.contains(seconds) else {
                return ServerSettings.refreshMarginProblem("`\(text)`")
            }
            collateral.refreshMarginSeconds = seconds
            return nil
        }
        value(.collateralCAFile) { text in
            guard isReadableFile(text) else { return "\(text) is not a readable file" }
            collateral.certificateAuthorityFile = text
            return nil
        }
        return diagnostics
    }

    /// Whether `path` is a regular file this process may read.
    package static func isReadableFile(_ path: String) -> Bool {
        var isDirectory: ObjCBool = false
        return FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory) && !isDirectory.boolValue
            && FileManager.default.isReadableFile(atPath: path)
    }
}
