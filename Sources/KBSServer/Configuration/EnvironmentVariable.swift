/// Every environment variable `kbs serve` reads, in one list. The server's readers take their names from here (the
/// master-key ones from `MasterKeySelection` and `InfisicalConfiguration`, which a test holds to this list), and
/// `kbs config variables` prints it, so that `Tools/check-deploy` holds the manifests in `Deploy/` to what the server
/// reads rather than to a copy that could drift.
package enum EnvironmentVariable: String, CaseIterable, Sendable {
    // The configuration file's overrides (`ConfigurationFile.applyingEnvironment`).
    case host = "KBS_HOST"
    case port = "KBS_PORT"
    case dataDirectory = "KBS_DATA_DIR"
    case policies = "KBS_POLICIES"
    case teeMode = "TEE_MODE"
    case enableTEE = "ENABLE_TEE"
    case allowPlainHTTP = "KBS_ALLOW_PLAIN_HTTP"
    case privacyTier = "PRIVACY_TIER"
    case storeURL = "KBS_STORE_URL"
    case kmsEndpoint = "KMS_ENDPOINT"
    case tlsCertificate = "KBS_TLS_CERTIFICATE"
    case tlsPrivateKey = "KBS_TLS_PRIVATE_KEY"
    case collateralFetch = "KBS_COLLATERAL_FETCH"
    case collateralAMDKDSURL = "KBS_COLLATERAL_AMD_KDS_URL"
    case collateralIntelPCSURL = "KBS_COLLATERAL_INTEL_PCS_URL"
    case collateralIntelRootCRLURL = "KBS_COLLATERAL_INTEL_ROOT_CRL_URL"
    case collateralTimeoutSeconds = "KBS_COLLATERAL_TIMEOUT_SECONDS"
    case collateralRefreshMarginSeconds = "KBS_COLLATERAL_REFRESH_MARGIN_SECONDS"
    case collateralCAFile = "KBS_COLLATERAL_CA_FILE"
    case keySweepIntervalSeconds = "KBS_KEY_SWEEP_INTERVAL_SECONDS"
    // Read by `kbs serve` itself.
    case adminToken = "KBS_ADMIN_TOKEN"
    case masterPassphrase = "KBS_MASTER_PASSPHRASE"
    case metricsToken = "KBS_METRICS_TOKEN"
    case logLevel = "LOG_LEVEL"
    // The master key's provider and its credentials.
    case masterKey = "KBS_MASTER_KEY"
    case pkcs11Module = "KBS_PKCS11_MODULE"
    case pkcs11Token = "KBS_PKCS11_TOKEN"
    case pkcs11Key = "KBS_PKCS11_KEY"
    case pkcs11PIN = "KBS_PKCS11_PIN"
    case infisicalKey = "KBS_INFISICAL_KEY"
    case infisicalAPIURL = "INFISICAL_API_URL"
    case infisicalClientID = "INFISICAL_UNIVERSAL_AUTH_CLIENT_ID"
    case infisicalClientSecret = "INFISICAL_UNIVERSAL_AUTH_CLIENT_SECRET"
    case infisicalProjectID = "INFISICAL_PROJECT_ID"
    case infisicalEnvironment = "INFISICAL_ENVIRONMENT"
    case infisicalSecretPath = "INFISICAL_SECRET_PATH"

    /// What a variable's value is, which tells a deployment where it may come from.
    package enum Value: String, Sendable {
        /// A plain setting, fine in a ConfigMap or an image.
        case setting
        /// A file or folder the server opens: it must exist where the server runs (an image path or a mount).
        case path
        /// Folders separated by commas (`KBS_POLICIES`).
        case paths
        /// A credential (a token, passphrase, PIN, a URL that may hold a password): from a Secret, never a ConfigMap,
        /// an image or a committed file.
        case secret
    }

    /// What this variable's value is.
    package var value: Value {
        switch self {
        case .dataDirectory, .tlsCertificate, .tlsPrivateKey, .collateralCAFile, .pkcs11Module: .path
        case .policies: .paths
        case .storeURL, .adminToken, .masterPassphrase, .metricsToken, .pkcs11PIN, .infisicalClientSecret: .secret
        default: .setting
        }
    }

    /// The variable's value in `environment`; an empty one counts as unset, as everywhere the server reads them.
    package func value(in environment: [String: String]) -> String? {
        environment[rawValue].flatMap { $0.isEmpty ? nil : $0 }
    }
}
