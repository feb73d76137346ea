import Foundation
import KBSBroker
import KBSPolicyTesting
import Testing

@testable import KBSServer

/// The `kbs serve --config` file: the TOML parser, the DESIGN keys, diagnostics with their lines, the environment's
/// overrides, and inputs that must never crash.
@Suite struct ConfigurationFileTests {
    /// The example in DESIGN, "Contracts of the second wave" → "Configuration", as written there.
    static let designExample = """
        [server]
        host = "127.0.0.1"          # KBS_HOST
        port = 8080                 # KBS_PORT
        data_dir = ".kbs-data"      # KBS_DATA_DIR
        policies = "Policies/default"   # one folder, or a list: ["Policies/default", "Policies/kms"]
        tee_mode = "hardware"       # TEE_MODE: hardware | simulator
        enable_tee = true           # ENABLE_TEE: false serves identity-only releases (tiers 0-1), no /kbs/v0/attest
        default_privacy_tier = 2    # PRIVACY_TIER: required tier of a resource or key created without one
        [store]
        url = "sqlite:.kbs-data/kbs.sqlite"   # KBS_STORE_URL; or postgresql://user:pw@host:port/db
        [kms]
        endpoint = ""               # KMS_ENDPOINT (Infisical); empty: the local hierarchy
        [tls]
        certificate = ""            # PEM files; empty: plain HTTP on loopback only
        private_key = ""
        [[identity.oidc]]
        name = "corp"
        issuer = "https://idp.example.com"
        audiences = ["kbs"]
        jwks_file = "corp-jwks.json"        # or discovery = true
        algorithms = ["RS256", "ES256"]
        token_types = ["access", "id"]      # RFC 9068 access tokens (typ at+jwt) and/or ID tokens
        [[identity.saml]]
        name = "okta"
        idp_entity_id = "https://idp.example.com/saml"
        idp_certificate = "okta.crt"
        idp_sso_url = "https://idp.example.com/saml/sso"   # where the AuthnRequest is sent (HTTP-Redirect)
        sp_entity_id = "https://kbs.example.com/saml"
        acs_url = "https://kbs.example.com/kbs/v1/login/saml/okta"
        [identity.siwe]
        domain = "kbs.example.com"
        uri = "https://kbs.example.com/login"
        chain_ids = [1]
        [identity.did]
        methods = ["key", "jwk", "pkh", "web"]
        audience = "https://kbs.example.com"
        """

    static var base: ServerConfiguration { ServerConfiguration(policies: "", dataDirectory: "") }

    /// Decodes `text` as `/etc/kbs/kbs.toml`, every file it names counting as readable.
    static func decode(_ text: String, readable: @escaping (String) -> Bool = { _ in true }) -> ConfigurationFile.Outcome {
        ConfigurationFile.decode(Array(text.utf8), path: "/etc/kbs/kbs.toml", over: base, isReadableFile: readable)
    }

    static func diagnostics(_ outcome: ConfigurationFile.Outcome) -> [String] {
        guard case .rejected(let diagnostics) = outcome else { return [] }
        return diagnostics.map(\.description)
    }

    @Test func theDesignExample() throws {
        let configuration = try Self.decode(Self.designExample).get()
        #expect(configuration.host == "127.0.0.1")
        #expect(configuration.port == 8080)
        #expect(configuration.dataDirectory == "/etc/kbs/.kbs-data")
        #expect(configuration.policies == "/etc/kbs/Policies/default")
        #expect(configuration.additionalPolicies.isEmpty)
        #expect(configuration.teeMode == .hardware)
        #expect(configuration.enableTEE)
        #expect(configuration.defaultPrivacyTier == 2)
        #expect(configuration.storeURL == "sqlite:/etc/kbs/.kbs-data/kbs.sqlite")
        #expect(configuration.kmsEndpoint == nil)
        #expect(configuration.tlsCertificate == nil && configuration.tlsPrivateKey == nil)
        let identity = configuration.identity
        #expect(
            identity.oidc == [
                IdentityConfiguration.OIDCIssuer(
                    name: "corp", issuer: "https://idp.example.com", audiences: ["kbs"], jwksFile: "/etc/kbs/corp-jwks.json",
                    algorithms: ["RS256", "ES256"], tokenTypes: ["access", "id"])
            ])
        #expect(
            identity.saml == [
                IdentityConfiguration.SAMLProvider(
                    name: "okta", idpEntityID: "https://idp.example.com/saml", idpCertificate: "/etc/kbs/okta.crt",
                    idpSSOURL: "https://idp.example.com/saml/sso", spEntityID: "https://kbs.example.com/saml",
                    acsURL: "https://kbs.example.com/kbs/v1/login/saml/okta")
            ])
        #expect(identity.siwe == IdentityConfiguration.SIWE(domain: "kbs.example.com", uri: "https://kbs.example.com/login", chainIDs: [1]))
        #expect(identity.did == IdentityConfiguration.DID(methods: ["key", "jwk", "pkh", "web"], audience: "https://kbs.example.com"))
    }

    @Test func theExampleFileInTheRepository() throws {
        let path = RepositoryPaths.path("docs/kbs.example.toml")
        let configuration = try ConfigurationFile.load(path: path, over: Self.base).get()
        let docs = RepositoryPaths.path("docs/")
        #expect(configuration.policies == docs + "../Policies/default")
        #expect(FileManager.default.fileExists(atPath: configuration.policies + "/tiers"))
        #expect(configuration.identity.oidc.count == 1 && configuration.identity.saml.count == 1)
        #expect(configuration.identity.siwe != nil && configuration.identity.did != nil)
        #expect(configuration.identity.sessionLifetimeSeconds == 8 * 3600 && configuration.identity.sessionIdleSeconds == 3600)
        // Every key the reader knows appears in the example, so the example documents them all.
        let root = try TOML.parse(String(contentsOfFile: path, encoding: .utf8))
        func keys(_ path: [String]) -> Set<String> {
            var value = TOML.Value(.table(root), line: 1, column: 1)
            for name in path {
                switch value.kind {
                case .table(let table): value = table[name] ?? value
                case .array(let items): value = items.first ?? value
                default: break
                }
            }
            if case .array(let items) = value.kind, let first = items.first { value = first }
            guard case .table(let table) = value.kind else { return [] }
            return Set(table.entries.map(\.key))
        }
        #expect(keys([]) == ["server", "store", "kms", "keys", "tls", "collateral", "identity", "vault"])
        #expect(keys(["keys"]) == ["sweep_interval_seconds"] && configuration.keySweepIntervalSeconds == 60)
        #expect(
            keys(["collateral"]) == [
                "fetch", "amd_kds_url", "intel_pcs_url", "intel_root_crl_url", "timeout_seconds", "refresh_margin_seconds", "ca_file",
            ])
        #expect(configuration.collateral.fetch == true && configuration.collateral.endpoints == VendorCollateralFetcher.Endpoints())
        #expect(
            keys(["server"]) == ["host", "port", "data_dir", "policies", "tee_mode", "enable_tee", "default_privacy_tier", "allow_plain_http"])
        #expect(keys(["store"]) == ["url"] && keys(["kms"]) == ["endpoint"] && keys(["tls"]) == ["certificate", "private_key"])
        #expect(keys(["identity"]) == ["oidc", "saml", "siwe", "did", "session"])
        #expect(keys(["identity", "oidc"]) == ["name", "issuer", "audiences", "jwks_file", "algorithms", "token_types"])
        #expect(
            keys(["identity", "saml"]) == [
                "name", "idp_entity_id", "idp_certificate", "idp_sso_url", "sp_entity_id", "acs_url", "allow_idp_initiated",
            ])
        #expect(keys(["identity", "session"]) == ["lifetime", "idle"])
        #expect(keys(["vault", "jwt_role"]) == ["name", "policies", "ttl", "max_ttl"])
        #expect(configuration.vaultJWTRoles == [VaultJWTRole(name: "ci", policies: ["secret/ci/**"], ttl: 1200, maximumTTL: 86_400)])
        // And the summary `kbs config check` would print holds together.
        #expect(configuration.storeURL == "sqlite:" + docs + "../.kbs-data/kbs.sqlite")
    }

    // MARK: - TOML

    @Test func everyTOMLConstruct() throws {
        let text = #"""
            # a comment
            bare_key-1 = "value"   # a trailing comment
            "quoted key" = 'literal \n stays'
            'single' = "escapes: \b\t\n\f\r\"\\ \u00E9 \U0001F600"
            "" = "the empty key"
            dotted.a.b = 1
            dotted.a.c = 2
            site."google.com" = true
            integers = [1_000, -17, +5, 0, 0xff_ff, 0o17, 0b101, 9_223_372_036_854_775_807, -9223372036854775808]
            floats = [3.14, -1e3, 6.626E-34, 1_000.5, inf, -inf, nan, +0.0]
            booleans = [true, false]
            multi = """
            first \
                  second
            third"""
            literal_multi = '''
            C:\path\'''
            quotes = """a "quoted" word"""""
            nested = [[1, 2], ["a", { x = 1 }], [],]
            long = [
              "one",  # comments between elements
              "two",

            ]
            inline = { name = "n", point.x = 1, point.y = 2, empty = {} }

            [table]
            key = "in a table"
            [table.sub]
            deep = true
            [ "quoted header" . 'part' ]
            x = 1
            [[products]]
            name = "first"
            [products.details]
            size = 3
            [[products]]
            name = "second"
            [[products.parts]]
            id = 1
            [[products.parts]]
            id = 2
            """#
        let root = try TOML.parse(text)
        #expect(root["bare_key-1"]?.kind == .string("value"))
        #expect(root["quoted key"]?.kind == .string(#"literal \n stays"#))
        #expect(root["single"]?.kind == .string("escapes: \u{8}\t\n\u{C}\r\"\\ é 😀"))
        #expect(root[""]?.kind == .string("the empty key"))
        guard case .table(let dotted) = root["dotted"]?.kind, case .table(let a) = dotted["a"]?.kind else {
            Issue.record("dotted keys make tables")
            return
        }
        #expect(a["b"]?.kind == .integer(1) && a["c"]?.kind == .integer(2))
        guard case .table(let site) = root["site"]?.kind else { throw Failure("site") }
        #expect(site["google.com"]?.kind == .boolean(true))
        #expect(Self.integers(root["integers"]) == [1000, -17, 5, 0, 0xffff, 0o17, 0b101, Int64.max, Int64.min])
        let floats = Self.floats(root["floats"])
        #expect(floats.count == 8)
        #expect(Array(floats.prefix(6)) == [3.14, -1000, 6.626e-34, 1000.5, .infinity, -.infinity])
        #expect(floats[6].isNaN && floats[7] == 0)
        #expect(root["multi"]?.kind == .string("first second\nthird"))
        #expect(root["literal_multi"]?.kind == .string(#"C:\path\"#))
        #expect(root["quotes"]?.kind == .string(#"a "quoted" word"""#))
        guard case .array(let nested) = root["nested"]?.kind else { throw Failure("nested") }
        #expect(nested.count == 3)
        guard case .array(let long) = root["long"]?.kind else { throw Failure("long") }
        #expect(long.map(\.kind) == [.string("one"), .string("two")])
        guard case .table(let inline) = root["inline"]?.kind, case .table(let point) = inline["point"]?.kind else { throw Failure("inline") }
        #expect(point["x"]?.kind == .integer(1) && point["y"]?.kind == .integer(2))
        guard case .table(let table) = root["table"]?.kind, case .table(let sub) = table["sub"]?.kind else { throw Failure("table") }
        #expect(table["key"]?.kind == .string("in a table") && sub["deep"]?.kind == .boolean(true))
        let lines = text.split(separator: "\n", omittingEmptySubsequences: false)
        func line(_ prefix: String) -> Int? { lines.firstIndex { $0.hasPrefix(prefix) }.map { $0 + 1 } }
        #expect(root.entry("table")?.line == line("[table]"))
        guard case .table(let quoted) = root["quoted header"]?.kind, case .table(let part) = quoted["part"]?.kind else { throw Failure("header") }
        #expect(part["x"]?.kind == .integer(1))
        guard case .array(let products) = root["products"]?.kind, products.count == 2,
            case .table(let first) = products[0].kind, case .table(let second) = products[1].kind,
            case .array(let parts) = second["parts"]?.kind
        else { throw Failure("products") }
        #expect(first["name"]?.kind == .string("first") && second["name"]?.kind == .string("second"))
        #expect(parts.count == 2 && products[0].line == line("[[products]]") && products[1].line == line("name = \"second\"").map { $0 - 1 })
        // Positions: the key and the value of `bare_key-1`.
        #expect(root.entry("bare_key-1").map { [$0.line, $0.column, $0.value.line, $0.value.column] } == [2, 1, 2, 14])
    }

    struct Failure: Error, CustomStringConvertible {
        var description: String
        init(_ description: String) { self.description = description }
    }

    static func integers(_ value: TOML.Value?) -> [Int64] {
        guard case .array(let items) = value?.kind else { return [] }
        return items.compactMap { if case .integer(let number) = $0.kind { number } else { nil } }
    }

    static func floats(_ value: TOML.Value?) -> [Double] {
        guard case .array(let items) = value?.kind else { return [] }
        return items.compactMap { if case .float(let number) = $0.kind { number } else { nil } }
    }

    /// Mistakes in TOML itself, each with the line (and column) it is reported at.
    @Test(arguments: [
        ("a = 1\na = 2", 2, 1, "duplicate key `a` (first defined on line 1)"),
        ("[a]\nx = 1\n[a]", 3, 1, "table [a] is defined twice (first on line 1)"),
        ("[a.b.c]\n[a]\nb.d = 1", 3, 1, "dotted key `b.d` cannot add to table `b`"),
        ("a.b.c = 1\n[a.b]", 2, 1, "table [a.b] was already defined by dotted keys on line 1"),
        ("a = {x = 1}\n[a]", 2, 1, "key `a` already has a value (line 1)"),
        ("a = {x = 1}\na.y = 2", 2, 1, "key `a` already has a value"),
        ("a = [1]\n[[a]]", 2, 1, "it cannot become an array of tables"),
        ("[[a]]\n[a]", 2, 1, "[a] is an array of tables"),
        ("x = 1\ns = \"open\ny = 2", 2, 5, "the string opened here is not closed"),
        ("s = \"\\q\"", 1, 6, "unknown escape sequence `\\q`"),
        ("s = \"\\uD800\"", 1, 6, "is not a Unicode scalar value"),
        ("s = \"\\u12\"", 1, 6, "needs 4 hexadecimal digits"),
        ("n = 012", 1, 5, "`012` is not a valid number"),
        ("n = 1__0", 1, 5, "is not a valid number"),
        ("n = 9223372036854775808", 1, 5, "does not fit in 64 bits"),
        ("n = 1.", 1, 5, "is not a valid number"),
        ("d = 1979-05-27", 1, 5, "dates and times are not supported"),
        ("t = {a = 1,}", 1, 12, "an inline table cannot end with a comma"),
        ("t = {a = 1\n}", 1, 11, "an inline table must be on one line"),
        ("a = [1 2]", 1, 8, "expected `,` or `]` in the array, found `2`"),
        ("a = [1,\n2", 2, 2, "the array opened on line 1 is not closed"),
        ("a =", 1, 4, "expected a value, found the end of the file"),
        ("a = 1 b = 2", 1, 7, "expected the end of the line, found `b`"),
        ("= 1", 1, 1, "expected a key, found `=`"),
        ("key value", 1, 5, "expected `=` after the key `key`, found `v`"),
        ("[a\nb]", 1, 3, "expected `]` to end the table header"),
        ("# bell \u{7}", 1, 8, "control character U+0007 is not allowed in a comment"),
        ("a = 1\r\nb = 2\rc = 3", 2, 6, "a carriage return must be followed by a newline"),
        ("a = 1\n\"\"\"k\"\"\" = 2", 2, 1, "a key cannot be a multi-line string"),
        ("s = \"\"\"abc\"\"\"\"\"\"", 1, 11, "too many quotes"),
        ("é = 1", 1, 1, "expected a key, found `é`"),
    ])
    func tomlMistakes(text: String, line: Int, column: Int, message: String) {
        #expect(throws: TOML.Diagnostic.self) { try TOML.parse(text) }
        do {
            _ = try TOML.parse(text)
        } catch {
            #expect(error.line == line && error.column == column, "\(error)")
            #expect(error.message.contains(message), "\(error)")
        }
    }

    @Test func invalidUTF8IsReportedWhereItIs() {
        let bytes = Array("a = 1\nb = \"".utf8) + [0xC3, 0x28] + Array("\"".utf8)
        #expect(throws: TOML.Diagnostic(line: 2, column: 6, message: "the file is not valid UTF-8")) { try TOML.parse(bytes) }
    }

    @Test func nestingIsBounded() throws {
        let depth = 10_000
        for text in [
            "a = " + String(repeating: "[", count: depth) + String(repeating: "]", count: depth),
            "a = " + String(repeating: "{b = ", count: depth) + "1" + String(repeating: "}", count: depth),
            "[" + Array(repeating: "a", count: depth).joined(separator: ".") + "]",
            Array(repeating: "a", count: depth).joined(separator: ".") + " = 1",
            String(repeating: "[[a]]\n", count: 3)
                + (1...depth).map { "[[" + Array(repeating: "a", count: $0).joined(separator: ".") + "]]" }
                .prefix(100).joined(separator: "\n"),
        ] {
            #expect(throws: TOML.Diagnostic.self) { try TOML.parse(text) }
        }
        let limit = TOML.maximumDepth
        _ = try TOML.parse("a = " + String(repeating: "[", count: limit - 1) + String(repeating: "]", count: limit - 1))
    }

    // MARK: - The configuration's own checks

    @Test func aTypoIsReportedOnItsLineWithASuggestion() {
        let text = "[server]\nhost = \"127.0.0.1\"\nprot = 8080\n"
        #expect(Self.diagnostics(Self.decode(text)) == ["/etc/kbs/kbs.toml:3: error: unknown key `prot` in [server]; did you mean `port`?"])
        #expect(
            Self.diagnostics(Self.decode("[sever]\n")) == ["/etc/kbs/kbs.toml:1: error: unknown key `sever` at the top level; did you mean `server`?"]
        )
        // A TOML mistake is reported the same way.
        #expect(
            Self.diagnostics(Self.decode("[server]\nport = 80\nport = 81\n")) == [
                "/etc/kbs/kbs.toml:3: error: duplicate key `port` (first defined on line 2)"
            ])
    }

    @Test func everyMistakeIsReportedInFileOrder() {
        let text = """
            [identity.did]
            methods = ["key", "ens"]
            [server]
            port = "8080"
            tee_mode = "hardwre"
            default_privacy_tier = 7
            policies = ["a", 3]
            enable_tee = "yes"
            [store]
            url = "postgresql://user:secret@db/kbs?sslmode=sometimes"
            [tls]
            certificate = "cert.pem"
            """
        let lines = Self.diagnostics(Self.decode(text))
        #expect(
            lines == [
                "/etc/kbs/kbs.toml:1: error: [identity.did] needs `audience`",
                "/etc/kbs/kbs.toml:2: error: `ens` in `methods` of [identity.did] is not one of key, jwk, pkh, web",
                "/etc/kbs/kbs.toml:4: error: `port` in [server] must be an integer, not a string",
                "/etc/kbs/kbs.toml:5: error: `tee_mode` in [server] must be hardware or simulator, not `hardwre`",
                "/etc/kbs/kbs.toml:6: error: `default_privacy_tier` in [server] must be a privacy tier from 0 to 4, not 7",
                "/etc/kbs/kbs.toml:7: error: `policies` in [server] must hold only strings, not an integer",
                "/etc/kbs/kbs.toml:8: error: `enable_tee` in [server] must be true or false, not a string",
                "/etc/kbs/kbs.toml:10: error: `url` in [store]: sslmode is disable, prefer, require, verify-ca or verify-full, not `sometimes`",
                "/etc/kbs/kbs.toml:11: error: [tls] needs both `certificate` and `private_key`, or neither",
            ], "\(lines.joined(separator: "\n"))")
        #expect(!lines.joined().contains("secret"))
    }

    @Test func identitySectionsAreChecked() {
        let text = """
            [[identity.oidc]]
            name = "corp"
            issuer = "http://idp.example.com"
            audiences = ["kbs"]
            algorithms = ["HS256"]
            token_types = ["acess"]
            discovery = true
            [[identity.oidc]]
            name = "corp"
            issuer = "http://127.0.0.1:9000"
            audiences = ["kbs"]
            jwks_file = "missing.json"
            [[identity.oidc]]
            issuer = "https://other.example.com"
            jwks_file = "jwks.json"
            [[identity.saml]]
            name = "okta/evil"
            idp_entity_id = "urn:idp"
            idp_certificate = "idp.pem"
            idp_sso_url = "ftp://idp.example.com/sso"
            sp_entity_id = "urn:sp"
            acs_url = "https://kbs.example.com/acs"
            [identity.siwe]
            chain_ids = [0]
            domain = "kbs.example.com"
            uri = "https://kbs.example.com"
            [identity.session]
            lifetime = "1h"
            idle = "2h"
            """
        let lines = Self.diagnostics(Self.decode(text) { !$0.hasSuffix("missing.json") })
        let expected = [
            "3: error: `issuer` in [[identity.oidc]] must be an https:// URL (http:// only to 127.0.0.1 or localhost), not `http://idp.example.com`",
            "5: error: unsupported algorithm `HS256` in [[identity.oidc]] (supported: ES256, ES384, EdDSA, PS256, PS384, PS512, RS256, RS384, RS512)",
            "6: error: `acess` in `token_types` of [[identity.oidc]] is not one of access, id; did you mean `access`?",
            "8: error: a second [[identity.oidc]] named `corp` (the first is on line 1)",
            "12: error: `jwks_file` in [[identity.oidc]]: /etc/kbs/missing.json is not a readable file",
            "13: error: [[identity.oidc]] needs `name`",
            "13: error: [[identity.oidc]] needs `audiences`",
            "17: error: `name` in [[identity.saml]] may hold only letters, digits, `-`, `_` and `.`, not `okta/evil`",
            "20: error: `idp_sso_url` in [[identity.saml]] must be an https:// URL (http:// only to 127.0.0.1 or localhost), not `ftp://idp.example.com/sso`",
            "24: error: `chain_ids` in [identity.siwe] must list at least one chain id, each a positive integer",
            "29: error: `idle` in [identity.session] must not be longer than `lifetime`",
        ].map { "/etc/kbs/kbs.toml:" + $0 }
        #expect(lines == expected, "\(lines.joined(separator: "\n"))")
    }

    @Test func filesAreCheckedRelativeToTheConfiguration() throws {
        let folder = ServerProcess.temporaryDirectory("kbs-config")
        try Data("{\"keys\":[]}".utf8).write(to: URL(fileURLWithPath: folder + "/jwks.json"))
        // An array of inline tables is the same as [[identity.oidc]] headers.
        let local = #"{ name = "local", issuer = "http://localhost:8443/realms/kbs", audiences = ["kbs"], jwks_file = "jwks.json" }"#
        let gone = #"{ name = "gone", issuer = "https://gone.example.com", audiences = ["kbs"], jwks_file = "gone.json" }"#
        try Data("[identity]\noidc = [\n  \(local),\n  \(gone),\n]\n".utf8).write(to: URL(fileURLWithPath: folder + "/kbs.toml"))
        let outcome = ConfigurationFile.load(path: folder + "/kbs.toml", over: Self.base)
        #expect(
            Self.diagnostics(outcome) == [
                "\(folder)/kbs.toml:4: error: `jwks_file` in [[identity.oidc]]: \(folder)/gone.json is not a readable file"
            ])
        try Data("[identity]\noidc = [\(local)]\n".utf8).write(to: URL(fileURLWithPath: folder + "/kbs.toml"))
        let configuration = try ConfigurationFile.load(path: folder + "/kbs.toml", over: Self.base).get()
        #expect(configuration.identity.oidc.first?.jwksFile == folder + "/jwks.json")
        #expect(
            Self.diagnostics(ConfigurationFile.load(path: folder + "/absent.toml", over: Self.base)) == ["\(folder)/absent.toml: error: no such file"]
        )
    }

    @Test func policiesMayBeAList() throws {
        let configuration = try Self.decode("[server]\npolicies = [\"Policies/default\", \"/srv/kms\"]\n").get()
        #expect(configuration.policies == "/etc/kbs/Policies/default")
        #expect(configuration.additionalPolicies == ["/srv/kms"])
        #expect(
            Self.diagnostics(Self.decode("[server]\npolicies = []\n")) == [
                "/etc/kbs/kbs.toml:2: error: `policies` in [server] must list at least one value, none empty"
            ])
    }

    // MARK: - [collateral]

    @Test func theCollateralSection() throws {
        let text = """
            [collateral]
            fetch = false
            amd_kds_url = "https://kds.mirror.example"
            intel_pcs_url = "http://127.0.0.1:8081/"
            intel_root_crl_url = "https://crl.mirror.example/IntelSGXRootCA.der"
            timeout_seconds = 3
            refresh_margin_seconds = 3600
            ca_file = "mirror-ca.pem"
            """
        let collateral = try Self.decode(text).get().collateral
        #expect(collateral.fetch == false && !collateral.fetches(in: .hardware))
        #expect(collateral.endpoints.amdKDS == "https://kds.mirror.example" && collateral.endpoints.intelPCS == "http://127.0.0.1:8081/")
        #expect(collateral.endpoints.intelRootCRL == "https://crl.mirror.example/IntelSGXRootCA.der")
        #expect(collateral.timeoutSeconds == 3 && collateral.refreshMarginSeconds == 3600)
        #expect(collateral.certificateAuthorityFile == "/etc/kbs/mirror-ca.pem")
        // Left out, fetching follows the TEE mode.
        let defaults = try Self.decode("").get().collateral
        #expect(defaults.fetch == nil && defaults.fetches(in: .hardware) && !defaults.fetches(in: .simulator))

        let bad = """
            [collateral]
            fetch = "yes"
            amd_kds_url = "http://kdsintf.amd.com"
            intel_pcs_url = "https://user:pw@pcs.example"
            timeout_seconds = 0
            refresh_margin_seconds = -1
            ca_file = "missing.pem"
            fetchh = true
            """
        #expect(
            Self.diagnostics(Self.decode(bad, readable: { _ in false })) == [
                "/etc/kbs/kbs.toml:2: error: `fetch` in [collateral] must be true or false, not a string",
                "/etc/kbs/kbs.toml:3: error: `amd_kds_url` in [collateral] must be https (http only to this machine)",
                "/etc/kbs/kbs.toml:4: error: `intel_pcs_url` in [collateral] must not carry credentials",
                "/etc/kbs/kbs.toml:5: error: `timeout_seconds` in [collateral] must be a number of seconds from 1 to 300, not 0",
                "/etc/kbs/kbs.toml:6: error: `refresh_margin_seconds` in [collateral] must be a number of seconds from 0 to 2592000 (30 days), not -1",
                "/etc/kbs/kbs.toml:7: error: `ca_file` in [collateral]: /etc/kbs/missing.pem is not a readable file",
                "/etc/kbs/kbs.toml:8: error: unknown key `fetchh` in [collateral]; did you mean `fetch`?",
            ])
    }

    // MARK: - [keys]

    @Test func theKeySweepInterval() throws {
        #expect(Self.base.keySweepIntervalSeconds == 60)
        let file = try Self.decode("[keys]\nsweep_interval_seconds = 5\n").get()
        #expect(file.keySweepIntervalSeconds == 5)
        let environment = try ConfigurationFile.applyingEnvironment(["KBS_KEY_SWEEP_INTERVAL_SECONDS": "0"], to: file).get()
        #expect(environment.keySweepIntervalSeconds == 0, "the environment wins; 0 turns the sweeper off")
        #expect(
            Self.diagnostics(Self.decode("[keys]\nsweep_interval_seconds = -1\nsweep = 1\n")) == [
                "/etc/kbs/kbs.toml:2: error: `sweep_interval_seconds` in [keys] must be a number of seconds from 0 (off) to 86400 (a day), not -1",
                "/etc/kbs/kbs.toml:3: error: unknown key `sweep` in [keys]",
            ])
        #expect(
            Self.diagnostics(ConfigurationFile.applyingEnvironment(["KBS_KEY_SWEEP_INTERVAL_SECONDS": "1m"], to: Self.base)) == [
                "KBS_KEY_SWEEP_INTERVAL_SECONDS: error: must be a number of seconds from 0 (off) to 86400 (a day), not `1m`"
            ])
    }

    @Test func theVaultJWTRoles() throws {
        let file = try Self.decode(
            "[[vault.jwt_role]]\nname = \"ci\"\npolicies = [\"secret/ci/**\"]\nttl = 600\nmax_ttl = \"2h\"\nbound_subjects = [\"oidc:https://idp#bot\"]\n"
        ).get()
        #expect(
            file.vaultJWTRoles == [
                VaultJWTRole(name: "ci", policies: ["secret/ci/**"], ttl: 600, maximumTTL: 7200, boundSubjects: ["oidc:https://idp#bot"])
            ])
        #expect(try Self.decode("[[vault.jwt_role]]\nname = \"any\"\n").get().vaultJWTRoles == [VaultJWTRole(name: "any", policies: ["default"])])
        #expect(
            Self.diagnostics(
                Self.decode(
                    "[[vault.jwt_role]]\nname = \"a b\"\nttl = \"5q\"\n[[vault.jwt_role]]\nname = \"x\"\nttl = \"2h\"\nmax_ttl = \"1h\"\npolicy = 1\n[[vault.jwt_role]]\nname = \"x\"\n"
                )) == [
                    "/etc/kbs/kbs.toml:2: error: `name` in [[vault.jwt_role]] may hold only letters, digits, `-`, `_` and `.`, not `a b`",
                    "/etc/kbs/kbs.toml:3: error: `ttl` in [[vault.jwt_role]] must be a duration such as 1h, 30m or 45s, not `5q`",
                    "/etc/kbs/kbs.toml:6: error: `ttl` in [[vault.jwt_role]] must be positive and at most `max_ttl`",
                    "/etc/kbs/kbs.toml:8: error: unknown key `policy` in [[vault.jwt_role]]",
                    "/etc/kbs/kbs.toml:9: error: a second [[vault.jwt_role]] named `x` (the first is on line 4)",
                ])
    }

    @Test func theCollateralEnvironment() throws {
        let caFile = RepositoryPaths.path("Fixtures/evidence/tdx/go-tdx-guest-trusted_root.pem")
        let environment = [
            "KBS_COLLATERAL_FETCH": "0", "KBS_COLLATERAL_AMD_KDS_URL": "https://kds.mirror.example",
            "KBS_COLLATERAL_INTEL_PCS_URL": "https://pccs.example:8081", "KBS_COLLATERAL_INTEL_ROOT_CRL_URL": "https://crl.example/root.der",
            "KBS_COLLATERAL_TIMEOUT_SECONDS": "7", "KBS_COLLATERAL_REFRESH_MARGIN_SECONDS": "0", "KBS_COLLATERAL_CA_FILE": caFile,
        ]
        let collateral = try ConfigurationFile.applyingEnvironment(environment, to: try Self.decode("[collateral]\nfetch = true\n").get()).get()
            .collateral
        #expect(collateral.fetch == false)
        #expect(collateral.endpoints.amdKDS == "https://kds.mirror.example" && collateral.endpoints.intelPCS == "https://pccs.example:8081")
        #expect(collateral.endpoints.intelRootCRL == "https://crl.example/root.der")
        #expect(collateral.timeoutSeconds == 7 && collateral.refreshMarginSeconds == 0 && collateral.certificateAuthorityFile == caFile)

        let bad = [
            "KBS_COLLATERAL_FETCH": "maybe", "KBS_COLLATERAL_INTEL_PCS_URL": "http://pcs.example", "KBS_COLLATERAL_TIMEOUT_SECONDS": "301",
            "KBS_COLLATERAL_REFRESH_MARGIN_SECONDS": "1d", "KBS_COLLATERAL_CA_FILE": "/nonexistent/ca.pem",
        ]
        #expect(
            Set(Self.diagnostics(ConfigurationFile.applyingEnvironment(bad, to: Self.base))) == [
                "KBS_COLLATERAL_FETCH: error: must be true, false, 1 or 0, not `maybe`",
                "KBS_COLLATERAL_INTEL_PCS_URL: error: must be https (http only to this machine)",
                "KBS_COLLATERAL_TIMEOUT_SECONDS: error: must be a number of seconds from 1 to 300, not `301`",
                "KBS_COLLATERAL_REFRESH_MARGIN_SECONDS: error: must be a number of seconds from 0 to 2592000 (30 days), not `1d`",
                "KBS_COLLATERAL_CA_FILE: error: /nonexistent/ca.pem is not a readable file",
            ])
    }

    // MARK: - The environment

    @Test func theEnvironmentWinsOverTheFile() throws {
        let file = try Self.decode("[server]\nport = 9000\nhost = \"0.0.0.0\"\ntee_mode = \"hardware\"\nenable_tee = true\n").get()
        let environment = [
            "KBS_PORT": "9100", "KBS_HOST": "", "TEE_MODE": "simulator", "ENABLE_TEE": "0", "PRIVACY_TIER": "1",
            "KBS_DATA_DIR": "/var/lib/kbs", "KBS_POLICIES": "Policies/default, Policies/kms", "KBS_STORE_URL": "sqlite:///var/lib/kbs/s.db",
            "KMS_ENDPOINT": "https://kms.example.com",
        ]
        let configuration = try ConfigurationFile.applyingEnvironment(environment, to: file).get()
        #expect(configuration.port == 9100)
        #expect(configuration.host == "0.0.0.0", "an empty variable counts as unset")
        #expect(configuration.teeMode == .simulator && !configuration.enableTEE && configuration.defaultPrivacyTier == 1)
        #expect(configuration.dataDirectory == "/var/lib/kbs")
        #expect(configuration.policies == "Policies/default" && configuration.additionalPolicies == ["Policies/kms"])
        #expect(configuration.storeURL == "sqlite:/var/lib/kbs/s.db")
        #expect(configuration.kmsEndpoint == "https://kms.example.com")
        for (text, expected) in [("true", true), ("1", true), ("FALSE", false), ("0", false)] {
            #expect(try ConfigurationFile.applyingEnvironment(["ENABLE_TEE": text], to: file).get().enableTEE == expected)
        }
        // Nothing set: the file as it was.
        #expect(try ConfigurationFile.applyingEnvironment([:], to: file).get().port == 9000)
    }

    @Test func badEnvironmentValuesAreNamed() {
        let environment = [
            "KBS_PORT": "80x", "TEE_MODE": "sim", "ENABLE_TEE": "yes", "PRIVACY_TIER": "5", "KBS_STORE_URL": "postgresql://u:secret@h/",
            "KBS_POLICIES": " , ",
        ]
        let lines = Set(Self.diagnostics(ConfigurationFile.applyingEnvironment(environment, to: Self.base)))
        #expect(
            lines == [
                "KBS_PORT: error: must be a port number from 0 to 65535, not `80x`",
                "TEE_MODE: error: must be hardware or simulator, not `sim`",
                "ENABLE_TEE: error: must be true, false, 1 or 0, not `yes`",
                "PRIVACY_TIER: error: must be a privacy tier from 0 to 4, not `5`",
                "KBS_STORE_URL: error: a PostgreSQL store URL names one database: postgresql://user@host/DATABASE",
                "KBS_POLICIES: error: names no policy folder",
            ])
        #expect(throws: ServerError.self) { try ConfigurationFile.applyingEnvironment(environment, to: Self.base).get() }
    }

    // MARK: - Inputs that must not crash

    @Test func randomAndMutatedInputsNeverCrash() throws {
        var random = MutatedRequestTests.Random(state: 0x6B62_735F_636F_6E66)
        let seeds = [
            Array(Self.designExample.utf8), Array(try String(contentsOfFile: RepositoryPaths.path("docs/kbs.example.toml"), encoding: .utf8).utf8),
        ]
        let alphabet = Array("[]{}=,.\"'#\\\n\r\t _-+:0123456789abcdefxobeinfaltrueu".utf8)
        var parsed = 0
        for round in 0..<4000 {
            let bytes: [UInt8]
            switch round % 4 {
            case 0: bytes = (0..<random.below(200)).map { _ in UInt8(truncatingIfNeeded: random.next()) }
            case 1: bytes = (0..<random.below(200)).map { _ in alphabet[random.below(alphabet.count)] }
            default: bytes = MutatedRequestTests.mutate(seeds[round % 2], &random)
            }
            if (try? TOML.parse(bytes)) != nil { parsed += 1 }
            _ = ConfigurationFile.decode(bytes, path: "fuzz.toml", over: Self.base) { _ in true }
        }
        // The mutations must not all be rejected outright, or they test only the first mistake.
        #expect(parsed > 100)
    }

    // MARK: - The commands

    /// Runs `kbs ARGUMENTS`: exit status, standard output, standard error.
    static func kbs(_ arguments: [String], environment: [String: String] = [:]) throws -> (status: Int32, out: String, err: String) {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: try #require(ServerProcess.binary, "the kbs binary is not built"))
        process.arguments = arguments
        process.environment = ProcessInfo.processInfo.environment.merging(environment) { $1 }
        let (out, err) = (Pipe(), Pipe())
        process.standardOutput = out
        process.standardError = err
        try process.run()
        let output = String(decoding: out.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        let errors = String(decoding: err.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        process.waitUntilExit()
        return (process.terminationStatus, output, errors)
    }

    @Test func configCheck() throws {
        let example = RepositoryPaths.path("docs/kbs.example.toml")
        let good = try Self.kbs(["config", "check", example])
        #expect(good.status == 0, "\(good.err)")
        #expect(good.out.hasPrefix(example + ": ok: listens on 127.0.0.1:8080;") && good.out.split(separator: "\n").count == 1, "\(good.out)")

        let folder = ServerProcess.temporaryDirectory("kbs-config")
        let typo = folder + "/kbs.toml"
        try Data("[server]\nhost = \"127.0.0.1\"\nprot = 8080\ntee_mode = \"hw\"\n".utf8).write(to: URL(fileURLWithPath: typo))
        let bad = try Self.kbs(["config", "check", typo])
        #expect(bad.status == 1)
        #expect(
            bad.err.split(separator: "\n") == [
                "\(typo):3: error: unknown key `prot` in [server]; did you mean `port`?",
                "\(typo):4: error: `tee_mode` in [server] must be hardware or simulator, not `hw`",
            ], "\(bad.err)")

        let overridden = try Self.kbs(["config", "check", "--environment", example], environment: ["KBS_PORT": "9999"])
        #expect(overridden.out.contains("listens on 127.0.0.1:9999;"), "\(overridden.out)")
    }

    @Test func serveWithAConfigurationFile() async throws {
        let folder = ServerProcess.temporaryDirectory("kbs-config")
        let file = folder + "/kbs.toml"
        let policies = RepositoryPaths.path("Policies/default")
        // Port 1 would fail to bind: the --port 0 that ServerProcess passes must win over the file.
        try Data("[server]\nport = 1\npolicies = \"\(policies)\"\ndata_dir = \"data\"\n".utf8).write(to: URL(fileURLWithPath: file))
        let server = try ServerProcess(policies: policies, arguments: ["--config", file])
        defer { server.stop() }
        #expect(try await server.request("GET", "/healthz").status == 200)

        // A bad file is refused with its diagnostics.
        try Data("[server]\nport = 0\npolicies = \"\(policies)\"\ndata_dir = \"data\"\nprot = 1\n".utf8).write(to: URL(fileURLWithPath: file))
        let refused = try Self.kbs(["serve", "--config", file])
        #expect(refused.status == 1)
        #expect(refused.err.contains("\(file):5: error: unknown key `prot` in [server]; did you mean `port`?"), "\(refused.err)")
    }

    @Test func serveTakesItsFoldersFromTheFile() throws {
        let folder = ServerProcess.temporaryDirectory("kbs-config")
        let file = folder + "/kbs.toml"
        let policies = RepositoryPaths.path("Policies/default")
        try Data("[server]\nport = 0\npolicies = \"\(policies)\"\ndata_dir = \"data\"\n".utf8).write(to: URL(fileURLWithPath: file))
        let process = Process()
        process.executableURL = URL(fileURLWithPath: try #require(ServerProcess.binary, "the kbs binary is not built"))
        process.arguments = ["serve", "--config", file]
        process.environment = ProcessInfo.processInfo.environment.merging(["KBS_POLICIES": "", "KBS_DATA_DIR": "", "KBS_PORT": ""]) { $1 }
        let output = Pipe()
        process.standardOutput = output
        process.standardError = FileHandle.nullDevice
        try process.run()
        defer {
            process.terminate()
            process.waitUntilExit()
        }
        let line = String(decoding: output.fileHandleForReading.availableData, as: UTF8.self)
        #expect(line.hasPrefix("kbs: listening on http://127.0.0.1:"), "\(line)")
        // The data directory is the file's `data`, relative to the file.
        #expect(FileManager.default.fileExists(atPath: folder + "/data/kbs.sqlite"))
    }

    @Test func serveRefusesAStoreItWouldNotUse() async throws {
        let data = NSTemporaryDirectory() + "kbs-store-url-\(UUID().uuidString)"
        defer { try? FileManager.default.removeItem(atPath: data) }
        let elsewhere = try Self.kbs(
            ["serve", "--policies", RepositoryPaths.path("Policies/default"), "--data-dir", data, "--port", "0"],
            environment: ["KBS_STORE_URL": "sqlite:" + data + "-other/kbs.sqlite", "KBS_ADMIN_TOKEN": ServerProcess.adminToken])
        #expect(elsewhere.status == 1 && elsewhere.err.contains("error: store: KBS_STORE_URL"), "\(elsewhere.err)")
        #expect(!elsewhere.err.contains("-other"), "the URL is not echoed (it may carry a password)")
        // Naming the data directory's own store serves.
        let server = try ServerProcess(
            policies: RepositoryPaths.path("Policies/default"), dataDirectory: data,
            environment: ["KBS_STORE_URL": "sqlite:" + data + "/./kbs.sqlite"])
        defer { server.stop() }
        #expect(try await server.request("GET", "/healthz").status == 200)
    }

    @Test func configCheckRefusesAStoreServeWouldRefuse() throws {
        let directory = NSTemporaryDirectory() + "kbs-store-check-\(UUID().uuidString)"
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let file = directory + "/kbs.toml"
        try "[server]\ndata_dir = \"data\"\n[store]\nurl = \"sqlite:elsewhere/kbs.sqlite\"\n".write(toFile: file, atomically: true, encoding: .utf8)
        let refused = try Self.kbs(["config", "check", file])
        #expect(refused.status == 1 && refused.err.contains("error: KBS_STORE_URL ([store] url) names another store"), "\(refused.err)")
        try "[server]\ndata_dir = \"data\"\n[store]\nurl = \"sqlite:data/kbs.sqlite\"\n".write(toFile: file, atomically: true, encoding: .utf8)
        #expect(try Self.kbs(["config", "check", file]).status == 0)
    }

    @Test func serveNeedsItsFolders() throws {
        let missing = try Self.kbs(["serve"], environment: ["KBS_POLICIES": "", "KBS_DATA_DIR": ""])
        #expect(missing.status == 2 && missing.err.contains("--policies is required without --config"), "\(missing.err)")
    }
}
