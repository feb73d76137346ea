import Foundation
import KBSBroker
import KBSPolicyTesting
import KBSStore
import Testing

extension IdentityEndToEndTests {
    /// A single-use value sent again: what it is, the refusal it must get, and how to send it to a fixture.
    struct Replay {
        var what: String
        var code: String
        var send: (Fixture) async throws -> Outcome
    }

    @Test("single-use values refused when replayed, also after kill -9 and a restart; the session survives, logout ends it")
    func replaysAcrossRestart() async throws {
        let data = ServerProcess.temporaryDirectory("kbs-data")
        var fixture = try await Fixture(dataDirectory: data)
        try await fixture.putKeys()
        let (id, secret) = try await fixture.apiKey("replay")
        for subject in ["hmac:\(id)", "apikey:\(id)", "oidc:\(Self.issuer)#alice"] { try await fixture.grant(subject) }
        let nonces = try await fixture.challenges(3)
        let location = try await fixture.samlRedirects(1)[0]
        let minted = try Self.mintAll([
            Fixture.siweArguments(nonces[0]),
            Fixture.eip712Arguments(nonces[1]),
            Fixture.didArguments(nonces[2]),
            fixture.samlArguments(location, nameID: "carol"),
            // IdP-initiated, to the provider that takes those: only the assertion's id stops its replay.
            [
                "saml-response", "--idp", fixture.directory + "/idp", "--idp-entity-id", Self.idpEntity, "--sp-entity-id", Self.sp,
                "--acs-url", Self.openACS, "--name-id", "erin",
            ],
            fixture.signatureArguments(id, secret, path: "demo/keys/t1"),
            // A fresh proof over the challenge the SIWE login spends: a challenge used twice.
            Fixture.didArguments(nonces[0]),
            fixture.tokenArguments(["--sub", "alice"]),
            // A second answer to the AuthnRequest the first one spends: a SAML request id used twice.
            fixture.samlArguments(location, nameID: "carol"),
        ])
        let siwe = try Fixture.ethereumBody(minted[0])
        let typed = try Fixture.ethereumBody(minted[1])
        let did = try Fixture.didBody(minted[2])
        let saml = Fixture.samlForm(minted[3])
        let unsolicited = Fixture.samlForm(minted[4])
        let signed = minted[5]["headers"] as? [String: String] ?? [:]
        let reused = try Fixture.didBody(minted[6])
        let jwt = minted[7]["token"] as? String ?? ""
        let signedBody = fixture.releaseBody

        var cookies: [String] = []
        for (route, body, form) in [
            ("siwe", siwe, false), ("eip712", typed, false), ("did", did, false), ("saml/corp", saml, true), ("saml/open", unsolicited, true),
        ] {
            let login = try await fixture.login("/kbs/v1/login/\(route)", body, form: form)
            #expect(login.status == 200 && login.cookie != nil, "\(route): \(login)")
            cookies.append(login.cookie ?? "")
        }
        let wallet = "eth:\(minted[0]["address"] as? String ?? "")"
        try await fixture.grant(wallet)
        #expect(try await fixture.release("demo/keys/t1", headers: signed).plaintext == fixture.secret1)
        #expect(try await fixture.release("demo/keys/t1", bearer: jwt).plaintext == fixture.secret1)
        #expect(try await fixture.release("demo/keys/t1", bearer: secret).plaintext == fixture.secret1)
        #expect(try await fixture.release("demo/keys/t1", headers: ["Cookie": "kbs-login=\(cookies[0])"]).plaintext == fixture.secret1)

        func login(_ route: String, _ body: String, form: Bool = false) -> (Fixture) async throws -> Outcome {
            { fixture in
                let login = try await fixture.login("/kbs/v1/login/\(route)", body, form: form)
                return Outcome(status: login.status, code: login.code)
            }
        }
        let replays = [
            Replay(what: "SIWE message", code: "identity_replay", send: login("siwe", siwe)),
            Replay(what: "EIP-712 login", code: "identity_replay", send: login("eip712", typed)),
            Replay(what: "DID proof", code: "identity_replay", send: login("did", did)),
            Replay(what: "SAML response", code: "identity_replay", send: login("saml/corp", saml, form: true)),
            Replay(what: "IdP-initiated SAML response", code: "identity_replay", send: login("saml/open", unsolicited, form: true)),
            Replay(what: "challenge used twice", code: "identity_replay", send: login("did", reused)),
            Replay(what: "HMAC signature", code: "identity_replay") { try await $0.release("demo/keys/t1", headers: signed, body: signedBody) },
        ]
        for replay in replays {
            let outcome = try await replay.send(fixture)
            #expect(outcome.status == 401 && outcome.code == replay.code, "\(replay.what) replayed: \(outcome)")
        }

        // kill -9, then the same data directory on the same port (the HMAC signature covers @authority).
        let port = fixture.server.port
        let secret1 = fixture.secret1
        fixture.server.kill9()
        fixture = try await Fixture(dataDirectory: data, directory: fixture.directory, arguments: ["--port", String(port)])
        defer { fixture.server.stop() }
        #expect(fixture.server.port == port)
        for replay in replays {
            let outcome = try await replay.send(fixture)
            #expect(outcome.status == 401 && outcome.code == replay.code, "\(replay.what) replayed after kill -9: \(outcome)")
        }
        // The IdP's second answer to the request the first login spent before the kill.
        let second = try await fixture.login("/kbs/v1/login/saml/corp", Fixture.samlForm(minted[8]), form: true)
        Self.expectRefusals([("identity_in_response_to", second)])
        let session = ["Cookie": "kbs-login=\(cookies[0])"]
        let survived = try await fixture.release("demo/keys/t1", headers: session)
        #expect(survived.plaintext == secret1, "the login session survives kill -9: \(survived)")
        let fresh = try Self.mint(fixture.signatureArguments(id, secret, path: "demo/keys/t1"))["headers"] as? [String: String] ?? [:]
        #expect(try await fixture.release("demo/keys/t1", headers: fresh).plaintext == secret1, "the sealed HMAC key after restart")

        // Logout ends the session at once; the others live on.
        #expect(try await fixture.server.request("DELETE", "/kbs/v1/login", headers: session).status == 204)
        Self.expectRefusals([("identity_revoked", try await fixture.release("demo/keys/t1", headers: session))])
        #expect(try await fixture.release("demo/keys/t1", headers: ["Cookie": "kbs-login=\(cookies[3])"]).code == "policy_deny", "carol")

        // Nothing secret in the clear in any file under the data directory: the SQLite store and its WAL (the audit
        // chain, the decision records, sessions, single-use values, API keys), the decision log, both servers' stderr.
        let signatureValue = signed["Signature"].flatMap { $0.split(separator: ":").dropFirst().first.map(String.init) } ?? ""
        let secrets: [(String, String)] =
            [
                ("the OIDC JWT", jwt), ("the JWT's signature", String(jwt.split(separator: ".").last ?? "")), ("the API key secret", secret),
                ("the HMAC signature", signatureValue), ("the DID proof", try Self.object(did)["proof"] as? String ?? ""),
                ("the SAML response", minted[3]["SAMLResponse"] as? String ?? ""),
            ] + cookies.map { ("a login cookie", $0) }
        #expect(!signatureValue.isEmpty && cookies.count == 5)
        try Self.expectNoSecrets(secrets, under: data)
        #expect(try await fixture.server.request("DELETE", "/kbs/v1/login", headers: session).status == 401, "a session ends once")

        // The audit chain holds every login and every refused one, and the subject of every release.
        let store = try Store(path: data + "/kbs.sqlite", readOnly: true)
        let records = try store.auditRecords(limit: 10_000)
        let logins = records.filter { $0.kind.rawValue == "authentication" && $0.action == "login" }
        #expect(Set(logins.filter { $0.outcome.rawValue == "success" }.map(\.resource)).isSuperset(of: ["siwe", "eip712", "did", "saml"]))
        #expect(logins.contains { $0.outcome.rawValue == "failure" && $0.detailsJSON.contains("identity_replay") }, "refused logins are audited")
        #expect(records.contains { $0.action == "logout" })
        let releases = records.filter { $0.action == "release" && $0.outcome.rawValue == "permit" }
        #expect(!releases.isEmpty && releases.allSatisfy { $0.detailsJSON.contains("\"subject\":") }, "every release names its subject")
        #expect(try store.verifyAudit().records == records.count)
    }

    /// Every file under `folder`, recursively: none holds any of `secrets` in the clear.
    static func expectNoSecrets(_ secrets: [(String, String)], under folder: String, sourceLocation: SourceLocation = #_sourceLocation) throws {
        let files = FileManager.default.enumerator(atPath: folder)?.compactMap { $0 as? String } ?? []
        var read = 0
        for file in files {
            var isDirectory: ObjCBool = false
            guard FileManager.default.fileExists(atPath: folder + "/" + file, isDirectory: &isDirectory), !isDirectory.boolValue else { continue }
            let bytes = FileManager.default.contents(atPath: folder + "/" + file) ?? Data()
            read += 1
            for (what, secret) in secrets where !secret.isEmpty {
                #expect(bytes.range(of: Data(secret.utf8)) == nil, "\(what) is in \(file) in the clear", sourceLocation: sourceLocation)
            }
        }
        #expect(read >= 3, "the data directory holds the store, its log and the server's stderr", sourceLocation: sourceLocation)
    }

    static func object(_ text: String) throws -> [String: Any] { try ServerProcess.object(text) }

    @Test("bad input at every new endpoint (random bytes, truncated tokens, signatures and SAML responses) answers 4xx JSON")
    func badInput() async throws {
        let fixture = try await Fixture(arguments: ["--rate-limit", "0"])
        defer { fixture.server.stop() }
        try await fixture.putKeys()
        let routes = [
            "/kbs/v1/login/siwe", "/kbs/v1/login/eip712", "/kbs/v1/login/did", "/kbs/v1/login/saml/corp", "/kbs/v1/login/saml/none",
            "/kbs/v1/release/demo/keys/t1", "/kbs/v1/api-keys",
        ]
        func expectRefused(_ response: (status: Int, body: String, headers: [String: String]), _ what: String) {
            #expect((400..<500).contains(response.status) && response.status != 429, "\(what): \(response.status)")
            #expect((try? ServerProcess.errorCode(response.body)) != nil, "\(what): not a JSON error: \(response.body.prefix(200))")
        }
        let bodies = [
            "", "{", "[]", #"{"message":1}"#, #"{"proof":"a.b"}"#, String(repeating: "x", count: 4096), "\u{0}\u{1}\u{ff}",
            #"{"typedData":{"types":{}},"signature":"0x12"}"#, #"{"recipient":"nope"}"#,
        ]
        var generator = SystemRandomNumberGenerator()
        let random = (0..<50).map { _ in
            Data((0..<Int.random(in: 1...2048, using: &generator)).map { _ in UInt8.random(in: 0...255, using: &generator) })
        }
        for route in routes {
            for body in bodies {
                let response = try await fixture.server.request("POST", route, body: body, headers: ["Authorization": "Bearer kbs_k_zz"])
                expectRefused(response, "\(route) \(body.prefix(20))")
            }
            for (index, body) in random.enumerated() {
                let response = try await fixture.server.request("POST", route, bytes: body)
                expectRefused(response, "\(route) random buffer \(index) (\(body.prefix(16).map { String(format: "%02x", $0) }.joined())…)")
            }
        }
        let oversized = try await fixture.server.request("POST", "/kbs/v1/login/siwe", body: String(repeating: "a", count: 2 << 20))
        #expect(oversized.status == 413)

        // Valid credentials cut short: JWTs, API keys and capability tokens in `Authorization`, `Signature` and
        // `Signature-Input` headers, a SAML response's base64, login signatures and proofs.
        let (id, secret) = try await fixture.apiKey("truncated")
        let nonces = try await fixture.challenges(3)
        let location = try await fixture.samlRedirects(1)[0]
        let minted = try Self.mintAll([
            fixture.tokenArguments(["--sub", "alice"]), fixture.signatureArguments(id, secret, path: "demo/keys/t1"),
            fixture.samlArguments(location, nameID: "carol"), Fixture.siweArguments(nonces[0]), Fixture.eip712Arguments(nonces[1]),
            Fixture.didArguments(nonces[2]),
        ])
        func cuts(_ text: String) -> [String] {
            let count = text.count
            return Set([1, 2, count / 4, count / 2, count - 40, count - 2, count - 1].filter { $0 > 0 && $0 < count }).sorted().map {
                String(text.prefix($0))
            }
        }
        let jwt = minted[0]["token"] as? String ?? ""
        let dots = jwt.indices.filter { jwt[$0] == "." }.flatMap { [String(jwt[..<$0]), String(jwt[...$0])] }
        for token in cuts(jwt) + dots + cuts(secret) {
            expectRefused(
                try await fixture.server.request(
                    "POST", "/kbs/v1/release/demo/keys/t1", body: fixture.releaseBody, headers: ["Authorization": "Bearer \(token)"]),
                "truncated bearer")
        }
        for header in ["Authorization: Bearer", "Authorization: Basic abc", "Authorization: Bearer kbsc1.", "Authorization: Bearer kbsc1.AAAA"] {
            let parts = header.split(separator: ":", maxSplits: 1).map { $0.trimmingCharacters(in: .whitespaces) }
            expectRefused(
                try await fixture.server.request("POST", "/kbs/v1/release/demo/keys/t1", body: fixture.releaseBody, headers: [parts[0]: parts[1]]),
                header)
        }
        let signed = minted[1]["headers"] as? [String: String] ?? [:]
        for name in ["Signature", "Signature-Input", "Content-Digest"] {
            for cut in cuts(signed[name] ?? "") {
                var headers = signed
                headers[name] = cut
                let response = try await fixture.server.request("POST", "/kbs/v1/release/demo/keys/t1", body: fixture.releaseBody, headers: headers)
                expectRefused(response, "truncated \(name) `\(cut)`")
            }
        }
        let samlResponse = minted[2]["SAMLResponse"] as? String ?? ""
        for cut in cuts(samlResponse) {
            let form = "SAMLResponse=\(Self.formEncode(cut))&RelayState=\(Self.formEncode(minted[2]["RelayState"] as? String ?? ""))"
            let response = try await fixture.server.request(
                "POST", "/kbs/v1/login/saml/corp", body: form, headers: ["Content-Type": "application/x-www-form-urlencoded"])
            expectRefused(response, "a SAML response cut to \(cut.count) bytes")
        }
        for (route, minted, member) in [("siwe", minted[3], "signature"), ("eip712", minted[4], "signature"), ("did", minted[5], "proof")] {
            let whole = minted[member] as? String ?? ""
            for cut in cuts(whole) {
                var cutShort = minted
                cutShort[member] = cut
                let body = route == "did" ? try Fixture.didBody(cutShort) : try Fixture.ethereumBody(cutShort)
                expectRefused(
                    try await fixture.server.request("POST", "/kbs/v1/login/\(route)", body: body), "\(route) \(member) cut to \(cut.count)")
            }
        }
        #expect(try await fixture.server.request("GET", "/healthz").status == 200)
        // The cut credentials spent nothing: the intact ones still log in (their challenges, the SAML request id).
        for (route, body, form) in [
            ("siwe", try Fixture.ethereumBody(minted[3]), false), ("eip712", try Fixture.ethereumBody(minted[4]), false),
            ("did", try Fixture.didBody(minted[5]), false), ("saml/corp", Fixture.samlForm(minted[2]), true),
        ] {
            let login = try await fixture.login("/kbs/v1/login/\(route)", body, form: form)
            #expect(login.status == 200, "the intact \(route) login after the cut ones: \(login)")
        }
    }
}
