import Foundation
import KBSPolicyTesting
import Testing

/// Identity on the release path over real HTTP: `kbs serve --config` with an OIDC issuer, a SAML IdP, SIWE and DID
/// logins configured, and credentials minted at test time by libraries no one here wrote (joserfc, pysaml2,
/// eth-account and siwe, cryptography, http-message-signatures) through `Tools/clients/identity-client.py`.
@Suite(.serialized, .enabled(if: TestVenv.available, "needs .venv-test (Tools/bootstrap makes it)"))
struct IdentityEndToEndTests {
    static let client = RepositoryPaths.path("Tools/clients/identity-client.py")
    static let issuer = "https://idp.hanzo.example"
    static let idpEntity = "https://idp.hanzo.example/saml"
    static let sp = "https://kbs.hanzo.example/saml"
    static let acs = "https://kbs.hanzo.example/kbs/v1/login/saml/corp"
    static let domain = "kbs.hanzo.example"

    /// Runs the minting client; its JSON answer.
    static func mint(_ arguments: [String]) throws -> [String: Any] {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: TestVenv.python)
        process.arguments = [client] + arguments
        let output = Pipe()
        let errors = Pipe()
        process.standardOutput = output
        process.standardError = errors
        try process.run()
        let data = output.fileHandleForReading.readDataToEndOfFile()
        let problems = String(decoding: errors.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        process.waitUntilExit()
        #expect(process.terminationStatus == 0, "identity-client \(arguments.first ?? "") failed: \(problems)")
        return try ServerProcess.object(String(decoding: data, as: UTF8.self))
    }

    /// A server configured for every method, a tier-1 and a tier-2 key labelled `role = reader`, and a recipient key.
    struct Fixture {
        let server: ServerProcess
        let directory: String
        let config: String
        let recipient: String
        let recipientKey: String
        let secret1 = "tier1-secret-\(UUID().uuidString)"
        let secret2 = "tier2-secret-\(UUID().uuidString)"

        init(dataDirectory: String? = nil, directory: String? = nil) async throws {
            let directory = directory ?? ServerProcess.temporaryDirectory("kbs-identity")
            self.directory = directory
            try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
            if !FileManager.default.fileExists(atPath: directory + "/oidc/jwks.json") {
                _ = try IdentityEndToEndTests.mint(["oidc-issuer", "--out", directory + "/oidc"])
                _ = try IdentityEndToEndTests.mint(["saml-idp", "--out", directory + "/idp", "--entity-id", IdentityEndToEndTests.idpEntity])
            }
            config = directory + "/kbs.toml"
            let text = """
                [[identity.oidc]]
                name = "corp"
                issuer = "\(IdentityEndToEndTests.issuer)"
                audiences = ["kbs"]
                jwks_file = "oidc/jwks.json"
                algorithms = ["RS256", "ES256"]
                token_types = ["access", "id"]

                [[identity.saml]]
                name = "corp"
                idp_entity_id = "\(IdentityEndToEndTests.idpEntity)"
                idp_certificate = "idp/idp.crt"
                idp_sso_url = "https://idp.hanzo.example/saml/sso"
                sp_entity_id = "\(IdentityEndToEndTests.sp)"
                acs_url = "\(IdentityEndToEndTests.acs)"

                [identity.siwe]
                domain = "\(IdentityEndToEndTests.domain)"
                uri = "https://\(IdentityEndToEndTests.domain)/login"
                chain_ids = [1]

                [identity.did]
                methods = ["key", "jwk", "pkh"]
                audience = "https://\(IdentityEndToEndTests.domain)"
                """
            try text.write(toFile: config, atomically: true, encoding: .utf8)
            server = try ServerProcess(
                policies: RepositoryPaths.path("Policies/default"), dataDirectory: dataDirectory,
                arguments: ["--config", config, "--tee-mode", "simulator"])
            let made = try IdentityEndToEndTests.mint(["recipient", "--out", directory + "/recipient-\(UUID()).json"])
            recipientKey = made["key"] as? String ?? ""
            let jwk = try JSONSerialization.data(withJSONObject: made["recipient"] ?? [:])
            recipient = String(decoding: jwk, as: UTF8.self)
        }

        func putKeys() async throws {
            for (path, value, tier) in [("demo/keys/t1", secret1, 1), ("demo/keys/t2", secret2, 2)] {
                let body = #"{"value":"\#(Data(value.utf8).base64EncodedString())","required_tier":\#(tier),"labels":{"role":"reader"}}"#
                let response = try await server.request("POST", "/kbs/v1/resources/\(path)", body: body, admin: true)
                #expect(response.status == 201, "\(response.body)")
            }
        }

        /// Grants `reader` to `subject` (a `Subject` entity; any type with that id counts).
        func grant(_ subject: String) async throws {
            let id = subject.replacingOccurrences(of: "\"", with: "\\\"")
            let response = try await server.request(
                "POST", "/kbs/v1/entities", body: #"{"type":"Subject","id":"\#(id)","attributes":{},"roles":[{"role":"reader"}]}"#,
                admin: true)
            #expect(response.status == 200 || response.status == 201, "\(response.body)")
        }

        /// Identity-only release with `headers`; the status, the error code, and the plaintext when released.
        func release(_ path: String, headers: [String: String]) async throws -> (status: Int, code: String?, plaintext: String?) {
            let response = try await server.request(
                "POST", "/kbs/v1/release/\(path)", body: #"{"recipient":\#(recipient)}"#, headers: headers)
            guard response.status == 200 else { return (response.status, try ServerProcess.errorCode(response.body), nil) }
            let opened = try IdentityEndToEndTests.mint(["decrypt", "--key", recipientKey, "--jwe", response.body])
            let plaintext = (opened["plaintext"] as? String).flatMap { Data(base64Encoded: $0) }.map { String(decoding: $0, as: UTF8.self) }
            return (200, nil, plaintext)
        }

        func token(_ extra: [String]) throws -> String {
            try IdentityEndToEndTests.mint(
                ["oidc-token", "--key", directory + "/oidc/private.json", "--iss", IdentityEndToEndTests.issuer, "--aud", "kbs"] + extra)[
                    "token"] as? String ?? ""
        }

        /// The `kbs-login` cookie a login response set.
        static func cookie(_ headers: [String: String]) -> String? {
            guard let field = headers["set-cookie"], let start = field.range(of: "kbs-login=") else { return nil }
            return String(field[start.upperBound...].prefix { $0 != ";" })
        }

        func challenge() async throws -> String {
            let response = try await server.request("GET", "/kbs/v1/login/challenge")
            #expect(response.status == 200)
            return try ServerProcess.object(response.body)["nonce"] as? String ?? ""
        }
    }

    @Test("OIDC: a role holder gets the tier-1 key, not the tier-2 one; others get 403; bad tokens get 401 with distinct codes")
    func oidc() async throws {
        let fixture = try await Fixture()
        defer { fixture.server.stop() }
        try await fixture.putKeys()
        try await fixture.grant("oidc:\(Self.issuer)#alice")
        let alice = try fixture.token(["--sub", "alice"])
        let released = try await fixture.release("demo/keys/t1", headers: ["Authorization": "Bearer \(alice)"])
        #expect(released.status == 200 && released.plaintext == fixture.secret1, "\(released)")
        let access = try fixture.token(["--sub", "alice", "--typ", "at+jwt"])
        #expect(try await fixture.release("demo/keys/t1", headers: ["Authorization": "Bearer \(access)"]).status == 200)
        #expect(try await fixture.release("demo/keys/t2", headers: ["Authorization": "Bearer \(alice)"]).status == 403, "tier 1 < 2")
        let bob = try fixture.token(["--sub", "bob"])
        #expect(try await fixture.release("demo/keys/t1", headers: ["Authorization": "Bearer \(bob)"]).code == "policy_deny")
        #expect(try await fixture.release("demo/keys/t1", headers: [:]).code == "policy_deny", "anonymous is tier 0")

        let refusals: [([String], String)] = [
            (["--sub", "alice", "--exp-in", "-300"], "identity_expired"),
            (["--sub", "alice", "--wrong-key"], "identity_signature"),
            (["--sub", "alice", "--claim", #"aud="other""#], "identity_audience"),
        ]
        for (arguments, code) in refusals {
            let result = try await fixture.release("demo/keys/t1", headers: ["Authorization": "Bearer \(try fixture.token(arguments))"])
            #expect(result.status == 401 && result.code == code, "\(arguments): \(result)")
        }
        let foreign = try Self.mint(
            ["oidc-token", "--key", fixture.directory + "/oidc/private.json", "--iss", "https://evil.example", "--aud", "kbs", "--sub", "alice"])
        let wrongIssuer = try await fixture.release("demo/keys/t1", headers: ["Authorization": "Bearer \(foreign["token"] as? String ?? "")"])
        #expect(wrongIssuer.status == 401 && wrongIssuer.code == "identity_issuer")
        #expect(!fixture.server.stderr.contains(alice), "no token reaches the log")
    }

    @Test("API keys: shown once, a bearer and an RFC 9421 HMAC key for their subject; a replayed signature and a revoked key get 401")
    func apiKeys() async throws {
        let fixture = try await Fixture()
        defer { fixture.server.stop() }
        try await fixture.putKeys()
        let created = try await fixture.server.request("POST", "/kbs/v1/api-keys", body: #"{"name":"ci"}"#, admin: true)
        #expect(created.status == 201, "\(created.body)")
        let key = try ServerProcess.object(created.body)
        let id = key["id"] as? String ?? ""
        let secret = key["secret"] as? String ?? ""
        #expect(secret.hasPrefix("kbs_k_"))
        let shown = try await fixture.server.request("GET", "/kbs/v1/api-keys/\(id)", admin: true)
        #expect(shown.status == 200 && !shown.body.contains(secret) && shown.body.contains("apikey:\(id)"))
        #expect(try await fixture.release("demo/keys/t1", headers: ["Authorization": "Bearer \(secret)"]).code == "policy_deny")
        try await fixture.grant("apikey:\(id)")
        #expect(try await fixture.release("demo/keys/t1", headers: ["Authorization": "Bearer \(secret)"]).plaintext == fixture.secret1)

        // RFC 9421: the same key id and secret sign the request; the subject is hmac:<id>.
        try await fixture.grant("hmac:\(id)")
        let url = "http://127.0.0.1:\(fixture.server.port)/kbs/v1/release/demo/keys/t1"
        let body = #"{"recipient":\#(fixture.recipient)}"#
        let signed = try Self.mint(["httpsig", "--key-id", id, "--secret", secret, "--method", "POST", "--url", url, "--body", body])
        let headers = signed["headers"] as? [String: String] ?? [:]
        #expect(try await fixture.release("demo/keys/t1", headers: headers).plaintext == fixture.secret1)
        let replayed = try await fixture.release("demo/keys/t1", headers: headers)
        #expect(replayed.status == 401 && replayed.code == "identity_replay", "\(replayed)")
        let forged = try Self.mint(["httpsig", "--key-id", id, "--secret", secret + "x", "--method", "POST", "--url", url, "--body", body])
        #expect(try await fixture.release("demo/keys/t1", headers: forged["headers"] as? [String: String] ?? [:]).code == "identity_signature")

        #expect(try await fixture.server.request("DELETE", "/kbs/v1/api-keys/\(id)", admin: true).status == 204)
        let revoked = try await fixture.release("demo/keys/t1", headers: ["Authorization": "Bearer \(secret)"])
        #expect(revoked.status == 401 && revoked.code == "identity_revoked")
        let files = try FileManager.default.contentsOfDirectory(atPath: fixture.server.dataDirectory)
        for file in files {
            let data = FileManager.default.contents(atPath: fixture.server.dataDirectory + "/" + file) ?? Data()
            #expect(data.range(of: Data(secret.utf8)) == nil, "the API key secret is in \(file) in the clear")
        }
    }

    @Test("logins: SIWE, EIP-712, DID and SAML start a session whose cookie releases to the role holder; replays refused, also after kill -9")
    func logins() async throws {
        let data = ServerProcess.temporaryDirectory("kbs-data")
        var fixture = try await Fixture(dataDirectory: data)
        try await fixture.putKeys()

        // SIWE
        var nonce = try await fixture.challenge()
        let siwe = try Self.mint(["siwe", "--domain", Self.domain, "--uri", "https://\(Self.domain)/login", "--chain-id", "1", "--nonce", nonce])
        let siweBody = try String(
            decoding: JSONSerialization.data(withJSONObject: ["message": siwe["message"]!, "signature": siwe["signature"]!]), as: UTF8.self)
        let login = try await fixture.server.request("POST", "/kbs/v1/login/siwe", body: siweBody)
        #expect(login.status == 200, "\(login.body)")
        let subject = try ServerProcess.object(login.body)["subject"] as? String ?? ""
        #expect(subject == "eth:\(siwe["address"] as? String ?? "")")
        let cookie = try #require(Fixture.cookie(login.headers))
        #expect(try await fixture.release("demo/keys/t1", headers: ["Cookie": "kbs-login=\(cookie)"]).code == "policy_deny")
        try await fixture.grant(subject)
        #expect(try await fixture.release("demo/keys/t1", headers: ["Cookie": "kbs-login=\(cookie)"]).plaintext == fixture.secret1)
        #expect(try await fixture.server.request("POST", "/kbs/v1/login/siwe", body: siweBody).status == 401, "a replayed SIWE login")
        let wrongDomain = try Self.mint(
            [
                "siwe", "--domain", Self.domain, "--uri", "https://\(Self.domain)/login", "--chain-id", "1", "--nonce", try await fixture.challenge(),
                "--wrong-domain",
            ])
        let refused = try await fixture.server.request(
            "POST", "/kbs/v1/login/siwe",
            body: try String(
                decoding: JSONSerialization.data(withJSONObject: ["message": wrongDomain["message"]!, "signature": wrongDomain["signature"]!]),
                as: UTF8.self))
        let refusedCode = try ServerProcess.errorCode(refused.body)
        #expect(refused.status == 401 && refusedCode == "identity_domain")

        // EIP-712, same account key: the same subject.
        nonce = try await fixture.challenge()
        let typed = try Self.mint([
            "eip712", "--nonce", nonce, "--chain-id", "1", "--domain-name", Self.domain, "--key-hex", siwe["private_key"] as? String ?? "",
        ])
        let typedBody = try String(
            decoding: JSONSerialization.data(withJSONObject: ["typedData": typed["typedData"]!, "signature": typed["signature"]!]), as: UTF8.self)
        let typedLogin = try await fixture.server.request("POST", "/kbs/v1/login/eip712", body: typedBody)
        #expect(typedLogin.status == 200, "\(typedLogin.body)")
        #expect(try ServerProcess.object(typedLogin.body)["subject"] as? String == subject)
        #expect(try await fixture.server.request("POST", "/kbs/v1/login/eip712", body: typedBody).status == 401, "a replayed EIP-712 login")

        // DID (did:key, Ed25519)
        nonce = try await fixture.challenge()
        let proof = try Self.mint(["did-proof", "--aud", "https://\(Self.domain)", "--nonce", nonce])
        let didBody = #"{"proof":"\#(proof["proof"] as? String ?? "")"}"#
        let didLogin = try await fixture.server.request("POST", "/kbs/v1/login/did", body: didBody)
        #expect(didLogin.status == 200, "\(didLogin.body)")
        let didCookie = try #require(Fixture.cookie(didLogin.headers))
        #expect(try await fixture.release("demo/keys/t1", headers: ["Cookie": "kbs-login=\(didCookie)"]).code == "policy_deny")
        try await fixture.grant(proof["did"] as? String ?? "")
        #expect(try await fixture.release("demo/keys/t1", headers: ["Cookie": "kbs-login=\(didCookie)"]).status == 200)

        // SAML: the AuthnRequest from the redirect, answered by pysaml2 as the IdP, posted as a form.
        let redirect = try await fixture.server.request("GET", "/kbs/v1/login/saml/corp")
        #expect(redirect.status == 302, "\(redirect.body)")
        let location = redirect.headers["location"] ?? ""
        let response = try Self.mint(
            [
                "saml-response", "--idp", fixture.directory + "/idp", "--idp-entity-id", Self.idpEntity, "--authn-request", location, "--name-id",
                "carol",
            ])
        let samlResponse = response["SAMLResponse"] as? String ?? ""
        let relay = response["RelayState"] as? String ?? ""
        let form = "SAMLResponse=\(Self.formEncode(samlResponse))&RelayState=\(Self.formEncode(relay))"
        let samlLogin = try await fixture.server.request(
            "POST", "/kbs/v1/login/saml/corp", body: form, headers: ["Content-Type": "application/x-www-form-urlencoded"])
        #expect(samlLogin.status == 200, "\(samlLogin.body)")
        #expect(try ServerProcess.object(samlLogin.body)["subject"] as? String == "saml:\(Self.idpEntity)#carol")

        // kill -9 and restart on the same store: the session lives, the spent values stay spent.
        fixture.server.kill9()
        fixture = try await Fixture(dataDirectory: data, directory: fixture.directory)
        defer { fixture.server.stop() }
        let after = try await fixture.release("demo/keys/t1", headers: ["Cookie": "kbs-login=\(cookie)"])
        #expect(after.status == 200, "the login session survives kill -9: \(after)")
        #expect(try await fixture.server.request("POST", "/kbs/v1/login/siwe", body: siweBody).status == 401, "replayed after a restart")
        let replayedSAML = try await fixture.server.request(
            "POST", "/kbs/v1/login/saml/corp", body: form, headers: ["Content-Type": "application/x-www-form-urlencoded"])
        #expect(replayedSAML.status == 401, "a replayed SAML response after a restart")
        #expect(try await fixture.server.request("POST", "/kbs/v1/login/did", body: didBody).status == 401, "a replayed DID proof")

        // Logout ends the session at once.
        #expect(try await fixture.server.request("DELETE", "/kbs/v1/login", headers: ["Cookie": "kbs-login=\(cookie)"]).status == 204)
        let ended = try await fixture.release("demo/keys/t1", headers: ["Cookie": "kbs-login=\(cookie)"])
        #expect(ended.status == 401 && ended.code == "identity_revoked")
        // Nothing secret in the clear: not the login cookie, the DID proof or the SAML response, in any file of the data
        // directory (the SQLite store and its WAL, the audit, the decision log, the server's log).
        let secrets = [cookie, didCookie, proof["proof"] as? String ?? "", samlResponse]
        for file in try FileManager.default.contentsOfDirectory(atPath: data) {
            let bytes = FileManager.default.contents(atPath: data + "/" + file) ?? Data()
            for secret in secrets where !secret.isEmpty {
                #expect(bytes.range(of: Data(secret.utf8)) == nil, "a credential is in \(file) in the clear")
            }
        }
    }

    @Test("identity + SNP simulator evidence at /kbs/v0/attest releases the tier-2 role-labelled key")
    func attestedIdentity() async throws {
        let fixture = try await Fixture()
        defer { fixture.server.stop() }
        try await fixture.putKeys()
        let measurement = String(repeating: "5a", count: 48)
        let added = try await fixture.server.request(
            "POST", "/kbs/v1/reference-values", body: #"{"kind":"snp","name":"measurement","values":["\#(measurement)"]}"#, admin: true)
        #expect(added.status == 201)
        try await fixture.grant("oidc:\(Self.issuer)#alice")
        func run(_ token: String) throws -> [String: Any] {
            let process = Process()
            process.executableURL = URL(fileURLWithPath: TestVenv.python)
            process.arguments = [
                RepositoryPaths.path("Tools/clients/rcar-client.py"), "--url", "http://127.0.0.1:\(fixture.server.port)",
                "--kbs", try #require(ServerProcess.binary), "--ca", fixture.server.dataDirectory + "/simulator-ca",
                "--measurement", measurement, "--path", "demo/keys/t2", "--authorization", token,
            ]
            let output = Pipe()
            process.standardOutput = output
            process.standardError = FileHandle.nullDevice
            try process.run()
            let data = output.fileHandleForReading.readDataToEndOfFile()
            process.waitUntilExit()
            return try ServerProcess.object(String(decoding: data, as: UTF8.self))
        }
        let report = try run(try fixture.token(["--sub", "alice"]))
        #expect(report["attest"] as? Int == 200, "\(report["attest_body"] ?? "")")
        let result = (report["resources"] as? [String: Any])?["demo/keys/t2"] as? [String: Any] ?? [:]
        let plaintext = (result["plaintext"] as? String).flatMap { Data(base64Encoded: $0) }
        #expect(plaintext == Data(fixture.secret2.utf8), "\(result)")
        let bob = try run(try fixture.token(["--sub", "bob"]))
        #expect(((bob["resources"] as? [String: Any])?["demo/keys/t2"] as? [String: Any])?["status"] as? Int == 403)
    }

    @Test("bad input at every new endpoint answers 4xx JSON and the server stays healthy")
    func badInput() async throws {
        let fixture = try await Fixture()
        defer { fixture.server.stop() }
        let bodies = [
            "", "{", "[]", #"{"message":1}"#, #"{"proof":"a.b"}"#, String(repeating: "x", count: 4096), "\u{0}\u{1}\u{ff}",
            #"{"typedData":{"types":{}},"signature":"0x12"}"#, #"{"recipient":"nope"}"#,
        ]
        let routes = [
            "/kbs/v1/login/siwe", "/kbs/v1/login/eip712", "/kbs/v1/login/did", "/kbs/v1/login/saml/corp", "/kbs/v1/login/saml/none",
            "/kbs/v1/release/demo/keys/t1", "/kbs/v1/api-keys",
        ]
        for route in routes {
            for body in bodies {
                let response = try await fixture.server.request("POST", route, body: body, headers: ["Authorization": "Bearer kbs_k_zz"])
                #expect((400..<500).contains(response.status), "\(route) \(body.prefix(20)): \(response.status)")
                #expect((try? ServerProcess.errorCode(response.body)) != nil, "\(route): \(response.body)")
            }
        }
        let oversized = try await fixture.server.request("POST", "/kbs/v1/login/siwe", body: String(repeating: "a", count: 2 << 20))
        #expect(oversized.status == 413)
        #expect(try await fixture.server.request("GET", "/healthz").status == 200)
    }

    static func formEncode(_ text: String) -> String {
        text.addingPercentEncoding(withAllowedCharacters: CharacterSet.alphanumerics.union(CharacterSet(charactersIn: "-._~"))) ?? ""
    }
}
