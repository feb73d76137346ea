import KBSBroker

/// The `[vault]` section: the roles `auth/jwt/login` issues Vault tokens for.
extension ConfigurationDecoder {
    mutating func decodeVault(_ vault: TOML.Table, into configuration: inout ServerConfiguration) {
        allowOnly(["jwt_role"], in: vault, "[vault]")
        guard vault["jwt_role"] != nil else { return }
        let roles = tables(vault, "jwt_role", "[vault]").compactMap { decodeJWTRole($0) }
        requireUnique(roles, "[[vault.jwt_role]]", \.name, "named")
        configuration.vaultJWTRoles = roles.map(\.value)
    }

    private mutating func decodeJWTRole(_ table: TOML.Table) -> Located<VaultJWTRole>? {
        let place = "[[vault.jwt_role]]"
        allowOnly(["name", "policies", "ttl", "max_ttl", "bound_subjects"], in: table, place)
        let name = requiredName(table, place)
        let policies = strings(table, "policies", place) ?? ["default"]
        check(!policies.isEmpty, "`policies` in \(place) names at least one policy (`default` names every path)", table, "policies")
        let ttl = duration(table, "ttl", place) ?? 3600
        let maximum = duration(table, "max_ttl", place) ?? 86_400
        check(ttl > 0 && ttl <= maximum, "`ttl` in \(place) must be positive and at most `max_ttl`", table, "ttl")
        let subjects = strings(table, "bound_subjects", place) ?? []
        guard let name else { return nil }
        return Located(
            value: VaultJWTRole(name: name, policies: policies, ttl: ttl, maximumTTL: maximum, boundSubjects: subjects), line: table.line)
    }

    /// A duration: seconds, or Vault's `1h`, `30m`, `45s`.
    private mutating func duration(_ table: TOML.Table, _ key: String, _ place: String) -> Int64? {
        guard let value = table[key] else { return nil }
        if case .string(let text) = value.kind {
            guard let seconds = DurationText.seconds(text) else {
                fail("`\(key)` in \(place) must be a duration such as 1h, 30m or 45s, not `\(text)`", line: line(of: key, in: table))
                return nil
            }
            return seconds
        }
        return integer(table, key, place)
    }
}
