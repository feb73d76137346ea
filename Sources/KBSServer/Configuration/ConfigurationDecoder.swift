/// Turns a parsed configuration file into a ``ServerConfiguration``, collecting every mistake (unknown keys, wrong
/// types, bad values) rather than stopping at the first, so `kbs config check` can list them all.
struct ConfigurationDecoder {
    let file: String
    /// The file's folder, which relative paths in it start from; empty for the working directory.
    let folder: String
    let isReadableFile: (String) -> Bool
    private(set) var diagnostics: [ConfigurationFile.Diagnostic] = []

    init(file: String, isReadableFile: @escaping (String) -> Bool) {
        self.file = file
        self.folder = file.lastIndex(of: "/").map { String(file[...$0]) } ?? ""
        self.isReadableFile = isReadableFile
    }

    mutating func decode(_ root: TOML.Table, over base: ServerConfiguration) -> ServerConfiguration {
        var configuration = base
        let place = "at the top level"
        allowOnly(["server", "store", "kms", "keys", "tls", "collateral", "identity", "vault"], in: root, place)
        if let server = table(root, "server", place) { decodeServer(server, into: &configuration) }
        if let store = table(root, "store", place) {
            allowOnly(["url"], in: store, "[store]")
            if let url = string(store, "url", "[store]") {
                switch ServerSettings.storeURL(url, resolve: resolve) {
                case .valid(let url): configuration.storeURL = url
                case .invalid(let problem): fail("`url` in [store]: \(problem)", line: line(of: "url", in: store))
                }
            }
        }
        if let kms = table(root, "kms", place) {
            allowOnly(["endpoint"], in: kms, "[kms]")
            if let endpoint = string(kms, "endpoint", "[kms]"), !endpoint.isEmpty {
                check(ServerSettings.isSecureURL(endpoint), "`endpoint` in [kms] must be an https:// URL", kms, "endpoint")
                configuration.kmsEndpoint = endpoint
            }
        }
        if let keys = table(root, "keys", place) {
            allowOnly(["sweep_interval_seconds"], in: keys, "[keys]")
            if let seconds = integer(keys, "sweep_interval_seconds", "[keys]") {
                let valid = ServerSettings.keySweepIntervals.contains(Int(seconds))
                check(
                    valid, "`sweep_interval_seconds` in [keys] \(ServerSettings.keySweepIntervalProblem(String(seconds)))", keys,
                    "sweep_interval_seconds")
                if valid { configuration.keySweepIntervalSeconds = Int(seconds) }
            }
        }
        if let tls = table(root, "tls", place) { decodeTLS(tls, into: &configuration) }
        if let collateral = table(root, "collateral", place) { decodeCollateral(collateral, into: &configuration) }
        if let identity = table(root, "identity", place) { configuration.identity = decodeIdentity(identity, over: base.identity) }
        if let vault = table(root, "vault", place) { decodeVault(vault, into: &configuration) }
        return configuration
    }

    // MARK: - Sections

    private mutating func decodeServer(_ server: TOML.Table, into configuration: inout ServerConfiguration) {
        let section = "[server]"
        allowOnly(
            ["host", "port", "data_dir", "policies", "tee_mode", "enable_tee", "default_privacy_tier", "allow_plain_http"], in: server, section)
        if let host = nonEmptyString(server, "host", section) { configuration.host = host }
        if let port = integer(server, "port", section) {
            check(ServerSettings.ports.contains(Int(port)), "`port` in [server] \(ServerSettings.portProblem(String(port)))", server, "port")
            configuration.port = Int(port)
        }
        if let folder = path(server, "data_dir", section) { configuration.dataDirectory = folder }
        if let folders = stringOrStrings(server, "policies", section), let first = folders.first {
            configuration.policies = resolve(first)
            configuration.additionalPolicies = folders.dropFirst().map(resolve)
        }
        if let mode = string(server, "tee_mode", section) {
            if let parsed = ServerSettings.teeMode(mode) {
                configuration.teeMode = parsed
            } else {
                fail("`tee_mode` in [server] \(ServerSettings.teeModeProblem(mode))", line: line(of: "tee_mode", in: server))
            }
        }
        if let enable = boolean(server, "enable_tee", section) { configuration.enableTEE = enable }
        if let allow = boolean(server, "allow_plain_http", section) { configuration.allowPlainHTTP = allow }
        if let tier = integer(server, "default_privacy_tier", section) {
            let valid = ServerSettings.tiers.contains(Int(tier))
            check(valid, "`default_privacy_tier` in [server] \(ServerSettings.tierProblem(String(tier)))", server, "default_privacy_tier")
            if valid { configuration.defaultPrivacyTier = Int(tier) }
        }
    }

    private mutating func decodeTLS(_ tls: TOML.Table, into configuration: inout ServerConfiguration) {
        allowOnly(["certificate", "private_key"], in: tls, "[tls]")
        let certificate = readableFile(tls, "certificate", "[tls]", emptyMeansUnset: true)
        let key = readableFile(tls, "private_key", "[tls]", emptyMeansUnset: true)
        check((certificate == nil) == (key == nil), "[tls] needs both `certificate` and `private_key`, or neither", tls, "private_key")
        configuration.tlsCertificate = certificate
        configuration.tlsPrivateKey = key
    }

    private mutating func decodeCollateral(_ collateral: TOML.Table, into configuration: inout ServerConfiguration) {
        let section = "[collateral]"
        allowOnly(
            ["fetch", "amd_kds_url", "intel_pcs_url", "intel_root_crl_url", "timeout_seconds", "refresh_margin_seconds", "ca_file"],
            in: collateral, section)
        if let fetch = boolean(collateral, "fetch", section) { configuration.collateral.fetch = fetch }
        let urls: [(String, WritableKeyPath<VendorCollateralFetcher.Endpoints, String>)] = [
            ("amd_kds_url", \.amdKDS), ("intel_pcs_url", \.intelPCS), ("intel_root_crl_url", \.intelRootCRL),
        ]
        for (key, field) in urls {
            guard let url = nonEmptyString(collateral, key, section) else { continue }
            if let problem = VendorCollateralFetcher.problem(with: url) {
                fail("`\(key)` in [collateral] \(problem)", line: line(of: key, in: collateral))
            } else {
                configuration.collateral.endpoints[keyPath: field] = url
            }
        }
        if let seconds = integer(collateral, "timeout_seconds", section) {
            let valid = ServerSettings.collateralTimeouts.contains(Int(seconds))
            check(
                valid, "`timeout_seconds` in [collateral] \(ServerSettings.collateralTimeoutProblem(String(seconds)))", collateral, "timeout_seconds")
            if valid { configuration.collateral.timeoutSeconds = Int(seconds) }
        }
        if let seconds = integer(collateral, "refresh_margin_seconds", section) {
            let valid = ServerSettings.refreshMargins.contains(Int(seconds))
            check(
                valid, "`refresh_margin_seconds` in [collateral] \(ServerSettings.refreshMarginProblem(String(seconds)))", collateral,
                "refresh_margin_seconds")
            if valid { configuration.collateral.refreshMarginSeconds = Int(seconds) }
        }
        if let file = readableFile(collateral, "ca_file", section, emptyMeansUnset: true) { configuration.collateral.certificateAuthorityFile = file }
    }

    // MARK: - Reading values

    /// Reports every key of `table` not in `keys`, with the nearest known key as a hint.
    mutating func allowOnly(_ keys: [String], in table: TOML.Table, _ place: String) {
        for entry in table.entries where !keys.contains(entry.key) {
            let hint = ServerSettings.closest(to: entry.key, in: keys).map { "; did you mean `\($0)`?" } ?? ""
            fail("unknown key `\(entry.key)` \(place.hasPrefix("[") ? "in " : "")\(place)\(hint)", line: entry.line)
        }
    }

    /// The value of `key` through `extract`, which fails for the wrong type (reported as expecting `type`).
    mutating func value<T>(_ table: TOML.Table, _ key: String, _ place: String, _ type: String, _ extract: (TOML.Value) -> T?) -> T? {
        guard let value = table[key] else { return nil }
        guard let result = extract(value) else {
            fail("`\(key)` \(place.hasPrefix("[") ? "in \(place) " : "")must be \(type), not \(value.typeName)", line: value.line)
            return nil
        }
        return result
    }

    mutating func string(_ table: TOML.Table, _ key: String, _ place: String) -> String? {
        value(table, key, place, "a string") { if case .string(let text) = $0.kind { text } else { nil } }
    }

    mutating func integer(_ table: TOML.Table, _ key: String, _ place: String) -> Int64? {
        value(table, key, place, "an integer") { if case .integer(let number) = $0.kind { number } else { nil } }
    }

    mutating func boolean(_ table: TOML.Table, _ key: String, _ place: String) -> Bool? {
        value(table, key, place, "true or false") { if case .boolean(let flag) = $0.kind { flag } else { nil } }
    }

    mutating func table(_ table: TOML.Table, _ key: String, _ place: String) -> TOML.Table? {
        value(table, key, place, "a table") { if case .table(let inner) = $0.kind { inner } else { nil } }
    }

    /// `[[key]]` tables (or an array of inline tables).
    mutating func tables(_ table: TOML.Table, _ key: String, _ place: String) -> [TOML.Table] {
        let tables = value(table, key, place, "an array of tables ([[\(Self.qualified(key, place))]])") { value -> [TOML.Table]? in
            guard case .array(let items) = value.kind else { return nil }
            let tables = items.compactMap { item -> TOML.Table? in if case .table(let inner) = item.kind { inner } else { nil } }
            return tables.count == items.count ? tables : nil
        }
        return tables ?? []
    }

    /// A list of strings, which must not be empty.
    mutating func strings(_ table: TOML.Table, _ key: String, _ place: String) -> [String]? {
        guard let items = value(table, key, place, "a list of strings", { if case .array(let items) = $0.kind { items } else { nil } }) else {
            return nil
        }
        var list: [String] = []
        for item in items {
            guard case .string(let text) = item.kind else {
                fail("`\(key)` in \(place) must hold only strings, not \(item.typeName)", line: item.line)
                return nil
            }
            list.append(text)
        }
        check(!list.isEmpty && !list.contains(""), "`\(key)` in \(place) must list at least one value, none empty", table, key)
        return list.isEmpty ? nil : list
    }

    /// One string or a list of them (`policies`).
    private mutating func stringOrStrings(_ table: TOML.Table, _ key: String, _ place: String) -> [String]? {
        if case .string = table[key]?.kind { return nonEmptyString(table, key, place).map { [$0] } }
        guard case .array = table[key]?.kind else { return value(table, key, place, "a string or a list of strings") { _ in nil } }
        return strings(table, key, place)
    }

    mutating func nonEmptyString(_ table: TOML.Table, _ key: String, _ place: String) -> String? {
        guard let text = string(table, key, place) else { return nil }
        check(!text.isEmpty, "`\(key)` in \(place) must not be empty", table, key)
        return text.isEmpty ? nil : text
    }

    /// A path, resolved against the configuration file's folder.
    mutating func path(_ table: TOML.Table, _ key: String, _ place: String) -> String? {
        nonEmptyString(table, key, place).map(resolve)
    }

    /// A path to a file that must exist and be readable.
    mutating func readableFile(_ table: TOML.Table, _ key: String, _ place: String, emptyMeansUnset: Bool = false) -> String? {
        if emptyMeansUnset, case .string("") = table[key]?.kind { return nil }
        guard let path = path(table, key, place) else { return nil }
        check(isReadableFile(path), "`\(key)` in \(place): \(path) is not a readable file", table, key)
        return path
    }

    /// A string the table must have; its absence is reported at the table's header.
    mutating func required(_ table: TOML.Table, _ key: String, _ place: String) -> String? {
        guard table[key] != nil else {
            fail("\(place) needs `\(key)`", line: table.line)
            return nil
        }
        return nonEmptyString(table, key, place)
    }

    // MARK: - Reporting

    func resolve(_ path: String) -> String {
        path.hasPrefix("/") || folder.isEmpty ? path : folder + path
    }

    func line(of key: String, in table: TOML.Table) -> Int {
        table[key]?.line ?? table.line
    }

    mutating func check(_ condition: Bool, _ message: @autoclosure () -> String, _ table: TOML.Table, _ key: String) {
        if !condition { fail(message(), line: line(of: key, in: table)) }
    }

    mutating func fail(_ message: String, line: Int) {
        diagnostics.append(ConfigurationFile.Diagnostic(file: file, line: line, message: message))
    }

    /// `identity.oidc` for the key `oidc` of `[identity]`.
    private static func qualified(_ key: String, _ place: String) -> String {
        place.hasPrefix("[") ? place.filter { $0 != "[" && $0 != "]" } + "." + key : key
    }
}
