import KBSIdentity

/// The `[identity…]` sections: whom the server trusts to vouch for credentials.
extension ConfigurationDecoder {
    static let tokenTypes = ["access", "id"]
    static let didMethods = ["key", "jwk", "pkh", "web"]

    mutating func decodeIdentity(_ identity: TOML.Table, over base: IdentityConfiguration) -> IdentityConfiguration {
        var configuration = base
        allowOnly(["oidc", "saml", "siwe", "did", "session"], in: identity, "[identity]")
        if identity["oidc"] != nil {
            let issuers = tables(identity, "oidc", "[identity]").compactMap { decodeOIDC($0) }
            requireUnique(issuers, "[[identity.oidc]]", \.name, "named")
            requireUnique(issuers, "[[identity.oidc]]", \.issuer, "with issuer")
            configuration.oidc = issuers.map(\.value)
        }
        if identity["saml"] != nil {
            let providers = tables(identity, "saml", "[identity]").compactMap { decodeSAML($0) }
            requireUnique(providers, "[[identity.saml]]", \.name, "named")
            configuration.saml = providers.map(\.value)
        }
        if let siwe = table(identity, "siwe", "[identity]") { configuration.siwe = decodeSIWE(siwe) }
        if let did = table(identity, "did", "[identity]") { configuration.did = decodeDID(did) }
        if let session = table(identity, "session", "[identity]") { decodeSession(session, into: &configuration) }
        return configuration
    }

    /// A decoded entry and the line of its header, for "the first is on line N".
    struct Located<Value> {
        var value: Value
        var line: Int
    }

    private mutating func decodeOIDC(_ table: TOML.Table) -> Located<IdentityConfiguration.OIDCIssuer>? {
        let place = "[[identity.oidc]]"
        allowOnly(["name", "issuer", "audiences", "jwks_file", "discovery", "algorithms", "token_types"], in: table, place)
        let name = requiredName(table, place)
        let issuer = required(table, "issuer", place)
        if let issuer {
            let message = "`issuer` in \(place) must be an https:// URL (http:// only to 127.0.0.1 or localhost), not `\(issuer)`"
            check(ServerSettings.isSecureURL(issuer), message, table, "issuer")
        }
        let audiences = table["audiences"] == nil ? missing("audiences", place, table) : strings(table, "audiences", place)
        let jwksFile = readableFile(table, "jwks_file", place)
        let discovery = boolean(table, "discovery", place) ?? false
        if table["jwks_file"] == nil, !discovery {
            fail("\(place) needs `jwks_file` or `discovery = true`", line: table.line)
        } else if table["jwks_file"] != nil, discovery {
            fail("\(place) takes `jwks_file` or `discovery = true`, not both", line: line(of: "discovery", in: table))
        }
        let algorithms = strings(table, "algorithms", place)
        let supported = JWTVerifier.defaultAlgorithms.sorted()
        // No "did you mean": HS256 is one edit from ES256 but no typo of it.
        for algorithm in algorithms ?? [] where !supported.contains(algorithm) {
            fail(
                "unsupported algorithm `\(algorithm)` in \(place) (supported: \(supported.joined(separator: ", ")))",
                line: line(of: "algorithms", in: table))
        }
        let tokenTypes = strings(table, "token_types", place)
        oneOf(tokenTypes, Self.tokenTypes, "token_types", place, table)
        guard let name, let issuer, let audiences else { return nil }
        var entry = IdentityConfiguration.OIDCIssuer(name: name, issuer: issuer, audiences: audiences, jwksFile: jwksFile, discovery: discovery)
        if let algorithms { entry.algorithms = algorithms }
        if let tokenTypes { entry.tokenTypes = tokenTypes }
        return Located(value: entry, line: table.line)
    }

    private mutating func decodeSAML(_ table: TOML.Table) -> Located<IdentityConfiguration.SAMLProvider>? {
        let place = "[[identity.saml]]"
        allowOnly(["name", "idp_entity_id", "idp_certificate", "idp_sso_url", "sp_entity_id", "acs_url", "allow_idp_initiated"], in: table, place)
        let name = requiredName(table, place)
        let idpEntityID = required(table, "idp_entity_id", place)
        let certificate = table["idp_certificate"] == nil ? missing("idp_certificate", place, table) : readableFile(table, "idp_certificate", place)
        let ssoURL = requiredURL(table, "idp_sso_url", place)
        let spEntityID = required(table, "sp_entity_id", place)
        let acsURL = requiredURL(table, "acs_url", place)
        let allowIdPInitiated = boolean(table, "allow_idp_initiated", place) ?? false
        guard let name, let idpEntityID, let certificate, let ssoURL, let spEntityID, let acsURL else { return nil }
        let provider = IdentityConfiguration.SAMLProvider(
            name: name, idpEntityID: idpEntityID, idpCertificate: certificate, idpSSOURL: ssoURL, spEntityID: spEntityID, acsURL: acsURL,
            allowIdPInitiated: allowIdPInitiated)
        return Located(value: provider, line: table.line)
    }

    private mutating func decodeSIWE(_ table: TOML.Table) -> IdentityConfiguration.SIWE? {
        let place = "[identity.siwe]"
        allowOnly(["domain", "uri", "chain_ids"], in: table, place)
        let domain = required(table, "domain", place)
        let uri = required(table, "uri", place)
        let chains = chainIDs(table, "chain_ids", place)
        guard let domain, let uri else { return nil }
        return IdentityConfiguration.SIWE(domain: domain, uri: uri, chainIDs: chains ?? [1])
    }

    /// `chain_ids`: positive integers, at least one.
    private mutating func chainIDs(_ table: TOML.Table, _ key: String, _ place: String) -> [Int64]? {
        guard let value = table[key] else { return nil }
        guard case .array(let items) = value.kind else {
            fail("`\(key)` in \(place) must be a list of integers, not \(value.typeName)", line: value.line)
            return nil
        }
        let chains = items.compactMap { item -> Int64? in if case .integer(let number) = item.kind, number > 0 { number } else { nil } }
        guard !items.isEmpty, chains.count == items.count else {
            fail("`\(key)` in \(place) must list at least one chain id, each a positive integer", line: value.line)
            return nil
        }
        return chains
    }

    private mutating func decodeDID(_ table: TOML.Table) -> IdentityConfiguration.DID? {
        let place = "[identity.did]"
        allowOnly(["methods", "audience"], in: table, place)
        let methods = strings(table, "methods", place)
        oneOf(methods, Self.didMethods, "methods", place, table)
        guard let audience = required(table, "audience", place) else { return nil }
        var did = IdentityConfiguration.DID(audience: audience)
        if let methods { did.methods = methods }
        return did
    }

    private mutating func decodeSession(_ table: TOML.Table, into configuration: inout IdentityConfiguration) {
        let place = "[identity.session]"
        allowOnly(["lifetime", "idle"], in: table, place)
        if let lifetime = duration(table, "lifetime", place) { configuration.sessionLifetimeSeconds = lifetime }
        if let idle = duration(table, "idle", place) { configuration.sessionIdleSeconds = idle }
        let ordered = configuration.sessionIdleSeconds <= configuration.sessionLifetimeSeconds
        check(ordered, "`idle` in \(place) must not be longer than `lifetime`", table, "idle")
    }

    /// Seconds, written as an integer or as a string with a unit: `90s`, `30m`, `8h`, `7d`.
    private mutating func duration(_ table: TOML.Table, _ key: String, _ place: String) -> Int64? {
        let seconds = value(table, key, place, "a duration (seconds, or a string such as \"30m\" or \"8h\")") { value -> Int64? in
            switch value.kind {
            case .integer(let seconds): return seconds
            case .string(let text): return DurationText.seconds(text)
            default: return nil
            }
        }
        guard let seconds else { return nil }
        check(seconds > 0, "`\(key)` in \(place) must be longer than zero", table, key)
        return seconds > 0 ? seconds : nil
    }

    // MARK: - Shared checks

    /// A `name`, which appears in URLs (`/kbs/v1/login/saml/{name}`), logs and metrics.
    mutating func requiredName(_ table: TOML.Table, _ place: String) -> String? {
        guard let name = required(table, "name", place) else { return nil }
        let valid = name.allSatisfy { $0.isASCII && ($0.isLetter || $0.isNumber || "-_.".contains($0)) }
        check(valid, "`name` in \(place) may hold only letters, digits, `-`, `_` and `.`, not `\(name)`", table, "name")
        return valid ? name : nil
    }

    private mutating func requiredURL(_ table: TOML.Table, _ key: String, _ place: String) -> String? {
        guard let url = required(table, key, place) else { return nil }
        let secure = ServerSettings.isSecureURL(url)
        check(secure, "`\(key)` in \(place) must be an https:// URL (http:// only to 127.0.0.1 or localhost), not `\(url)`", table, key)
        return secure ? url : nil
    }

    private mutating func missing<T>(_ key: String, _ place: String, _ table: TOML.Table) -> T? {
        fail("\(place) needs `\(key)`", line: table.line)
        return nil
    }

    /// Reports each of `values` not among `allowed`.
    private mutating func oneOf(_ values: [String]?, _ allowed: [String], _ key: String, _ place: String, _ table: TOML.Table) {
        for value in values ?? [] where !allowed.contains(value) {
            let hint = ServerSettings.closest(to: value, in: allowed).map { "; did you mean `\($0)`?" } ?? ""
            fail("`\(value)` in `\(key)` of \(place) is not one of \(allowed.joined(separator: ", "))\(hint)", line: line(of: key, in: table))
        }
    }

    /// Reports entries that repeat another's `key` (a name, an issuer).
    mutating func requireUnique<Value>(_ entries: [Located<Value>], _ place: String, _ key: KeyPath<Value, String>, _ what: String) {
        var first: [String: Int] = [:]
        for entry in entries {
            let value = entry.value[keyPath: key]
            if let line = first[value] {
                fail("a second \(place) \(what) `\(value)` (the first is on line \(line))", line: entry.line)
            } else {
                first[value] = entry.line
            }
        }
    }
}
