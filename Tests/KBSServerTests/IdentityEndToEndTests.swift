import Foundation
import KBSPolicyTesting
import Testing

/// Identity on the release path over real HTTP: `kbs serve --config` with OIDC issuers, SAML providers, SIWE and DID
/// logins configured, and credentials minted at test time by libraries no one here wrote (joserfc, pysaml2,
/// eth-account and siwe, cryptography, http-message-signatures) through `Tools/clients/identity-client.py`.
///
/// Each method: a `role = reader` key released to a subject holding the role (the plaintext compared) and refused
/// (403) to one without; its bad credentials refused (401) each with its own code. Replays across `kill -9`, bad input
/// and the secrets grep are in `IdentityEndToEndTests+Restart.swift`.
@Suite(.enabled(if: TestVenv.available, "needs .venv-test (Tools/bootstrap makes it)"))
struct IdentityEndToEndTests {
    /// Runs `body` against a fresh server holding the tier-1 and tier-2 `role = reader` keys, `subjects` granted the
    /// role; the server is stopped after.
    static func withFixture(granting subjects: [String] = [], _ body: (Fixture) async throws -> Void) async throws {
        let fixture = try await Fixture()
        defer { fixture.server.stop() }
        try await fixture.putKeys()
        for subject in subjects { try await fixture.grant(subject) }
        try await body(fixture)
    }

    /// Expects each outcome to be a 401 with its code.
    static func expectRefusals(_ outcomes: [(String, Outcome)], sourceLocation: SourceLocation = #_sourceLocation) {
        for (code, outcome) in outcomes {
            #expect(outcome.status == 401 && outcome.code == code, "expected 401 \(code): \(outcome)", sourceLocation: sourceLocation)
        }
    }

    static func expectRefusals(_ logins: [(String, Login)], sourceLocation: SourceLocation = #_sourceLocation) {
        expectRefusals(logins.map { ($0.0, Outcome(status: $0.1.status, code: $0.1.code)) }, sourceLocation: sourceLocation)
    }

    @Test("OIDC ID and access tokens: the role holder gets the tier-1 key, not the tier-2 one; others 403; bad tokens 401 by reason")
    func oidc() async throws {
        try await Self.withFixture(granting: ["oidc:\(Self.issuer)#alice"]) { fixture in
            let tokens = try Self.mintAll([
                fixture.tokenArguments(["--sub", "alice"]),
                fixture.tokenArguments(["--sub", "alice", "--typ", "at+jwt"]),
                fixture.tokenArguments(["--sub", "bob"]),
                fixture.tokenArguments(["--sub", "bob", "--typ", "at+jwt"]),
                fixture.tokenArguments(["--sub", "alice", "--exp-in", "-300"]),
                fixture.tokenArguments(["--sub", "alice", "--wrong-key"]),
                fixture.tokenArguments(["--sub", "alice", "--typ", "at+jwt", "--wrong-key"]),
                fixture.tokenArguments(["--sub", "alice", "--claim", #"aud="other""#]),
                fixture.tokenArguments(["--sub", "alice", "--typ", "at+jwt", "--claim", #"aud="other""#]),
                fixture.tokenArguments(["--sub", "alice"], issuer: "https://evil.example"),
                fixture.tokenArguments(["--sub", "alice", "--nbf-offset", "600"]),
            ]).map { $0["token"] as? String ?? "" }
            for alice in tokens[0...1] {
                let released = try await fixture.release("demo/keys/t1", bearer: alice)
                #expect(released.status == 200 && released.plaintext == fixture.secret1, "\(released)")
                #expect(try await fixture.release("demo/keys/t2", bearer: alice).code == "policy_deny", "tier 1 < 2")
            }
            for bob in tokens[2...3] {
                let refused = try await fixture.release("demo/keys/t1", bearer: bob)
                #expect(refused.status == 403 && refused.code == "policy_deny", "\(refused)")
            }
            #expect(try await fixture.release("demo/keys/t1", headers: [:]).code == "policy_deny", "anonymous is tier 0, and holds no role")
            Self.expectRefusals([
                ("identity_expired", try await fixture.release("demo/keys/t1", bearer: tokens[4])),
                ("identity_signature", try await fixture.release("demo/keys/t1", bearer: tokens[5])),
                ("identity_signature", try await fixture.release("demo/keys/t1", bearer: tokens[6])),
                ("identity_audience", try await fixture.release("demo/keys/t1", bearer: tokens[7])),
                ("identity_audience", try await fixture.release("demo/keys/t1", bearer: tokens[8])),
                ("identity_issuer", try await fixture.release("demo/keys/t1", bearer: tokens[9])),
                ("identity_not_yet_valid", try await fixture.release("demo/keys/t1", bearer: tokens[10])),
            ])
            #expect(!fixture.server.stderr.contains(tokens[0]), "no token reaches the log")
        }
    }

    @Test("SAML: a response to the server's AuthnRequest logs the role holder in; wrong audience, expired, wrong key 401")
    func saml() async throws {
        try await Self.withFixture(granting: ["saml:\(Self.idpEntity)#carol"]) { fixture in
            let locations = try await fixture.samlRedirects(5)
            let minted = try Self.mintAll([
                fixture.samlArguments(locations[0], nameID: "carol"),
                fixture.samlArguments(locations[1], nameID: "dave"),
                fixture.samlArguments(locations[2], nameID: "carol", ["--wrong-audience"]),
                fixture.samlArguments(locations[3], nameID: "carol", ["--expired"]),
                fixture.samlArguments(locations[4], nameID: "carol", ["--wrong-key"]),
            ])
            let forms = minted.map(Fixture.samlForm)
            let carol = try await fixture.login("/kbs/v1/login/saml/corp", forms[0], form: true)
            #expect(carol.status == 200 && carol.subject == "saml:\(Self.idpEntity)#carol", "\(carol)")
            let released = try await fixture.release("demo/keys/t1", headers: carol.headers)
            #expect(released.plaintext == fixture.secret1, "\(released)")
            let dave = try await fixture.login("/kbs/v1/login/saml/corp", forms[1], form: true)
            #expect(dave.status == 200, "\(dave)")
            #expect(try await fixture.release("demo/keys/t1", headers: dave.headers).code == "policy_deny")
            Self.expectRefusals([
                ("identity_audience", try await fixture.login("/kbs/v1/login/saml/corp", forms[2], form: true)),
                ("identity_expired", try await fixture.login("/kbs/v1/login/saml/corp", forms[3], form: true)),
                ("identity_untrusted_key", try await fixture.login("/kbs/v1/login/saml/corp", forms[4], form: true)),
            ])
            // A response that answers no request of this server, to an IdP that takes only answers.
            let unsolicited = try Self.mint([
                "saml-response", "--idp", fixture.directory + "/idp", "--idp-entity-id", Self.idpEntity, "--sp-entity-id", Self.sp,
                "--acs-url", Self.acs, "--name-id", "carol",
            ])
            Self.expectRefusals([
                ("identity_in_response_to", try await fixture.login("/kbs/v1/login/saml/corp", Fixture.samlForm(unsolicited), form: true))
            ])
        }
    }

    /// One challenge-login method's matrix. `arguments(nonces)` lists what to mint, one fresh challenge each: the role
    /// holder's credential, another subject's, then one per code in `refusals`. The holder (granted `reader` first) logs
    /// in as `subject(minted)` and gets the key, the other logs in and is refused 403, and each bad credential gets 401
    /// with its code.
    static func loginMatrix(
        _ route: String, refusals: [String], subject member: String, prefix: String = "", arguments: ([String]) -> [[String]]
    ) async throws {
        func subject(_ minted: [String: Any]) -> String { prefix + (minted[member] as? String ?? "") }
        try await Self.withFixture { fixture in
            let minted = try Self.mintAll(arguments(try await fixture.challenges(refusals.count + 2)))
            let bodies = try minted.map { route == "did" ? try Fixture.didBody($0) : try Fixture.ethereumBody($0) }
            try await fixture.grant(subject(minted[0]))
            let holder = try await fixture.login("/kbs/v1/login/\(route)", bodies[0])
            #expect(holder.status == 200 && holder.subject == subject(minted[0]), "\(route): \(holder)")
            #expect(try await fixture.release("demo/keys/t1", headers: holder.headers).plaintext == fixture.secret1, "\(route)")
            let other = try await fixture.login("/kbs/v1/login/\(route)", bodies[1])
            #expect(other.status == 200 && other.subject == subject(minted[1]) && other.subject != holder.subject, "\(route): \(other)")
            #expect(try await fixture.release("demo/keys/t1", headers: other.headers).code == "policy_deny", "\(route)")
            var outcomes: [(String, Login)] = []
            for (code, body) in zip(refusals, bodies.dropFirst(2)) {
                outcomes.append((code, try await fixture.login("/kbs/v1/login/\(route)", body)))
            }
            Self.expectRefusals(outcomes)
        }
    }

    @Test("SIWE: the signer holding the role gets the key, another account 403; wrong domain, expired, wrong chain, wrong key 401")
    func siwe() async throws {
        let refusals = ["identity_domain", "identity_expired", "identity_chain", "identity_address"]
        try await Self.loginMatrix("siwe", refusals: refusals, subject: "address", prefix: "eth:") { nonces in
            [
                Fixture.siweArguments(nonces[0]), Fixture.siweArguments(nonces[1]), Fixture.siweArguments(nonces[2], ["--wrong-domain"]),
                Fixture.siweArguments(nonces[3], ["--expired"]),
                ["siwe", "--domain", Self.domain, "--uri", "https://\(Self.domain)/login", "--chain-id", "5", "--nonce", nonces[4]],
                Fixture.siweArguments(nonces[5], ["--wrong-key"]),
            ]
        }
    }

    @Test("EIP-712: typed data carrying the challenge logs the signer in, another account 403; wrong domain name, chain, signer 401")
    func eip712() async throws {
        let refusals = ["identity_domain", "identity_chain", "identity_address"]
        try await Self.loginMatrix("eip712", refusals: refusals, subject: "address", prefix: "eth:") { nonces in
            [
                Fixture.eip712Arguments(nonces[0]), Fixture.eip712Arguments(nonces[1]),
                ["eip712", "--nonce", nonces[2], "--domain-name", "kbs.attacker.example", "--chain-id", "1"],
                ["eip712", "--nonce", nonces[3], "--domain-name", Self.domain, "--chain-id", "137"],
                // Typed data naming one account, signed by another: refused, not a login as the signer.
                Fixture.eip712Arguments(nonces[4], ["--wrong-key"]),
            ]
        }
    }

    @Test("DID (did:key): a proof by the DID holding the role gets the key; wrong audience, expired, wrong key, unissued nonce 401")
    func did() async throws {
        let keyFile = ["--key-file", ServerProcess.temporaryDirectory("kbs-did") + "/did.pem"]
        let refusals = ["identity_audience", "identity_expired", "identity_signature", "identity_replay"]
        try await Self.loginMatrix("did", refusals: refusals, subject: "did") { nonces in
            [
                Fixture.didArguments(nonces[0], keyFile), Fixture.didArguments(nonces[1]),
                ["did-proof", "--aud", "https://kbs.attacker.example", "--nonce", nonces[2]] + keyFile,
                Fixture.didArguments(nonces[3], keyFile + ["--exp-in", "-300"]), Fixture.didArguments(nonces[4], keyFile + ["--wrong-key"]),
                // A nonce this server never issued (nonces[5] goes unused).
                Fixture.didArguments("never-issued-\(UUID().uuidString)", keyFile),
            ]
        }
    }

    @Test("API keys as bearers: shown once; the key whose subject holds the role gets the key, another 403; unknown and revoked 401")
    func apiKeys() async throws {
        try await Self.withFixture { fixture in
            let (id, secret) = try await fixture.apiKey("ci")
            #expect(secret.hasPrefix("kbs_k_"))
            let shown = try await fixture.server.request("GET", "/kbs/v1/api-keys/\(id)", admin: true)
            #expect(shown.status == 200 && !shown.body.contains(secret) && shown.body.contains("apikey:\(id)"))
            #expect(try await fixture.release("demo/keys/t1", bearer: secret).code == "policy_deny", "no role yet")
            try await fixture.grant("apikey:\(id)")
            #expect(try await fixture.release("demo/keys/t1", bearer: secret).plaintext == fixture.secret1)
            #expect(try await fixture.release("demo/keys/t2", bearer: secret).code == "policy_deny", "tier 1 < 2")
            let other = try await fixture.apiKey("other")
            #expect(try await fixture.release("demo/keys/t1", bearer: other.secret).code == "policy_deny")

            // The right form with a secret that is not the key's, and a key id never issued.
            let keySecret = String(secret.dropFirst("kbs_k_\(id)_".count))
            let wrongSecret = "kbs_k_\(id)_" + (keySecret.hasPrefix("A") ? "B" : "A") + keySecret.dropFirst()
            let unknownID = "kbs_k_\(String(repeating: "0", count: id.count))_\(keySecret)"
            Self.expectRefusals([
                ("identity_malformed", try await fixture.release("demo/keys/t1", bearer: String(secret.dropLast(5)))),
                ("identity_signature", try await fixture.release("demo/keys/t1", bearer: wrongSecret)),
                ("identity_unknown_key", try await fixture.release("demo/keys/t1", bearer: unknownID)),
            ])
            #expect(try await fixture.server.request("DELETE", "/kbs/v1/api-keys/\(id)", admin: true).status == 204)
            Self.expectRefusals([("identity_revoked", try await fixture.release("demo/keys/t1", bearer: secret))])
        }
    }

    @Test("RFC 9421 HMAC with an API key: hmac:<id> holding the role gets the key, another 403; altered body, too old, unknown id 401")
    func hmac() async throws {
        try await Self.withFixture { fixture in
            let (id, secret) = try await fixture.apiKey("signer")
            let other = try await fixture.apiKey("other")
            try await fixture.grant("hmac:\(id)")
            let altered = #"{"recipient":\#(fixture.recipient) }"#
            let signed = try Self.mintAll([
                fixture.signatureArguments(id, secret, path: "demo/keys/t1"),
                fixture.signatureArguments(other.id, other.secret, path: "demo/keys/t1"),
                fixture.signatureArguments(id, secret, path: "demo/keys/t1"),
                fixture.signatureArguments(id, secret, path: "demo/keys/t1", ["--created-offset", "-400"]),
                fixture.signatureArguments("k\(UUID().uuidString.prefix(8).lowercased())", secret, path: "demo/keys/t1"),
                fixture.signatureArguments(id, secret + "x", path: "demo/keys/t1"),
                fixture.signatureArguments(id, secret, path: "demo/keys/t2"),
                fixture.signatureArguments(id, secret, path: "demo/keys/other"),
            ]).map { $0["headers"] as? [String: String] ?? [:] }
            let released = try await fixture.release("demo/keys/t1", headers: signed[0])
            #expect(released.plaintext == fixture.secret1, "\(released)")
            #expect(try await fixture.release("demo/keys/t1", headers: signed[1]).code == "policy_deny", "hmac:<other> holds no role")
            #expect(try await fixture.release("demo/keys/t2", headers: signed[6]).code == "policy_deny", "tier 1 < 2")
            Self.expectRefusals([
                ("identity_digest", try await fixture.release("demo/keys/t1", headers: signed[2], body: altered)),
                ("identity_expired", try await fixture.release("demo/keys/t1", headers: signed[3])),
                ("identity_unknown_key", try await fixture.release("demo/keys/t1", headers: signed[4])),
                ("identity_signature", try await fixture.release("demo/keys/t1", headers: signed[5])),
                ("identity_signature", try await fixture.release("demo/keys/t1", headers: signed[7])),
                ("identity_replay", try await fixture.release("demo/keys/t1", headers: signed[0])),
            ])
        }
    }

    @Test("capability tokens: agent:<name> holding the role gets the key, another agent 403; tampered, revoked, expired 401")
    func capabilityTokens() async throws {
        try await Self.withFixture { fixture in
            func issue(_ agent: String, _ capabilities: [String], ttl: Int = 300) async throws -> (token: String, id: String) {
                let body = try Self.json(["agent": agent, "capabilities": capabilities, "ttl_seconds": ttl])
                let response = try await fixture.server.request("POST", "/kbs/v1/tokens", body: body, admin: true)
                #expect(response.status == 201, "\(response.body)")
                let issued = try ServerProcess.object(response.body)
                return (issued["token"] as? String ?? "", issued["id"] as? String ?? "")
            }
            try await fixture.grant("agent:builder")
            let builder = try await issue("builder", ["release:demo/keys/*"])
            #expect(builder.token.hasPrefix("kbsc1."))
            #expect(try await fixture.release("demo/keys/t1", bearer: builder.token).plaintext == fixture.secret1)
            #expect(try await fixture.release("demo/keys/t2", bearer: builder.token).code == "policy_deny", "tier 1 < 2")
            let intruder = try await issue("intruder", ["release:demo/keys/*"])
            #expect(try await fixture.release("demo/keys/t1", bearer: intruder.token).code == "policy_deny", "agent:intruder holds no role")
            let narrow = try await issue("builder", ["release:demo/other"])
            let outside = try await fixture.release("demo/keys/t1", bearer: narrow.token)
            #expect(outside.status == 403 && outside.code == "capability_denied", "\(outside)")

            let tampered = String(builder.token.dropLast(2)) + (builder.token.hasSuffix("AA") ? "BB" : "AA")
            let brief = try await issue("builder", ["release:demo/keys/*"], ttl: 1)
            Self.expectRefusals([("invalid_token", try await fixture.release("demo/keys/t1", bearer: tampered))])
            #expect(try await fixture.server.request("DELETE", "/kbs/v1/tokens/\(builder.id)", admin: true).status == 204)
            Self.expectRefusals([("token_revoked", try await fixture.release("demo/keys/t1", bearer: builder.token))])
            try await Task.sleep(for: .milliseconds(2100))
            Self.expectRefusals([("token_expired", try await fixture.release("demo/keys/t1", bearer: brief.token))])
        }
    }

    @Test("labels: identity_methods = oidc,siwe admits OIDC and SIWE subjects with the role, not an API key's; issuer admits its own")
    func labels() async throws {
        let fixture = try await Fixture()
        defer { fixture.server.stop() }
        try await fixture.put("demo/keys/methods", "by-method", tier: 1, labels: ["role": "reader", "identity_methods": "oidc,siwe"])
        try await fixture.put("demo/keys/issuer", "by-issuer", tier: 1, labels: ["role": "reader", "issuer": Self.issuer])
        let nonce = try await fixture.challenges(1)[0]
        let minted = try Self.mintAll([
            fixture.tokenArguments(["--sub", "alice"]),
            fixture.tokenArguments(["--sub", "alice"], key: "partner", issuer: Self.partner),
            Fixture.siweArguments(nonce),
        ])
        let corp = minted[0]["token"] as? String ?? ""
        let partner = minted[1]["token"] as? String ?? ""
        let wallet = try await fixture.login("/kbs/v1/login/siwe", try Fixture.ethereumBody(minted[2]))
        let key = try await fixture.apiKey("labelled")
        for subject in ["oidc:\(Self.issuer)#alice", "oidc:\(Self.partner)#alice", wallet.subject ?? "", "apikey:\(key.id)"] {
            try await fixture.grant(subject)
        }
        #expect(try await fixture.release("demo/keys/methods", bearer: corp).plaintext == "by-method")
        #expect(try await fixture.release("demo/keys/methods", bearer: partner).plaintext == "by-method", "another OIDC issuer")
        #expect(try await fixture.release("demo/keys/methods", headers: wallet.headers).plaintext == "by-method")
        let apiKey = try await fixture.release("demo/keys/methods", bearer: key.secret)
        #expect(apiKey.status == 403 && apiKey.code == "policy_deny", "an API key is not a listed method: \(apiKey)")

        #expect(try await fixture.release("demo/keys/issuer", bearer: corp).plaintext == "by-issuer")
        for (what, outcome) in [
            ("the partner issuer", try await fixture.release("demo/keys/issuer", bearer: partner)),
            ("a wallet (issuer eip155:1)", try await fixture.release("demo/keys/issuer", headers: wallet.headers)),
            ("an API key", try await fixture.release("demo/keys/issuer", bearer: key.secret)),
        ] {
            #expect(outcome.status == 403 && outcome.code == "policy_deny", "\(what): \(outcome)")
        }
    }

    @Test("identity + SNP simulator evidence at /kbs/v0/attest releases the tier-2 role-labelled key")
    func attestedIdentity() async throws {
        try await Self.withFixture { fixture in
            let measurement = String(repeating: "5a", count: 48)
            let added = try await fixture.server.request(
                "POST", "/kbs/v1/reference-values", body: #"{"kind":"snp","name":"measurement","values":["\#(measurement)"]}"#, admin: true)
            #expect(added.status == 201)
            try await fixture.grant("oidc:\(Self.issuer)#alice")
            func run(_ token: String) throws -> [String: Any] {
                let arguments = [
                    RepositoryPaths.path("Tools/clients/rcar-client.py"), "--url", "http://127.0.0.1:\(fixture.server.port)",
                    "--kbs", try #require(ServerProcess.binary), "--ca", fixture.server.dataDirectory + "/simulator-ca",
                    "--measurement", measurement, "--path", "demo/keys/t2", "--authorization", token,
                ]
                return try ServerProcess.object(try ChildProcess.run(TestVenv.python, arguments).out)
            }
            let report = try run(try fixture.token(["--sub", "alice"]))
            #expect(report["attest"] as? Int == 200, "\(report["attest_body"] ?? "")")
            let result = (report["resources"] as? [String: Any])?["demo/keys/t2"] as? [String: Any] ?? [:]
            let plaintext = (result["plaintext"] as? String).flatMap { Data(base64Encoded: $0) }
            #expect(plaintext == Data(fixture.secret2.utf8), "\(result)")
            let bob = try run(try fixture.token(["--sub", "bob"]))
            #expect(((bob["resources"] as? [String: Any])?["demo/keys/t2"] as? [String: Any])?["status"] as? Int == 403)
        }
    }
}
