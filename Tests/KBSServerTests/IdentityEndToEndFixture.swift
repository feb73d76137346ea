import Foundation
import KBSPolicyTesting
import Testing

extension IdentityEndToEndTests {
    static let client = RepositoryPaths.path("Tools/clients/identity-client.py")
    /// The server's name, in SIWE messages, EIP-712 domains, DID audiences and SAML URLs.
    static let domain = "kbs.hanzo.example"
    static let audience = "https://" + domain
    static let issuer = "https://idp.hanzo.example"
    static let partner = "https://partner.hanzo.example"
    static let idpEntity = issuer + "/saml"
    static let sp = audience + "/saml"
    /// Provider `corp` answers the server's AuthnRequests; `open` also takes IdP-initiated responses.
    static let acs = audience + "/kbs/v1/login/saml/corp"
    static let openACS = audience + "/kbs/v1/login/saml/open"

    /// Runs the minting client once; its JSON answer.
    static func mint(_ arguments: [String]) throws -> [String: Any] {
        try ServerProcess.object(try runClient(arguments, input: ""))
    }

    /// Runs many subcommands in one client process (`batch`: the libraries load once); their answers in order.
    static func mintAll(_ lists: [[String]]) throws -> [[String: Any]] {
        let lines = try lists.map { String(decoding: try JSONSerialization.data(withJSONObject: $0), as: UTF8.self) }
        let answer = try ServerProcess.object(try runClient(["batch"], input: lines.joined(separator: "\n") + "\n"))
        let results = answer["results"] as? [[String: Any]] ?? []
        #expect(results.count == lists.count, "identity-client batch answered \(results.count) of \(lists.count)")
        return results
    }

    private static func runClient(_ arguments: [String], input: String) throws -> String {
        let run = try ChildProcess.run(TestVenv.python, [client] + arguments, input: input)
        #expect(run.status == 0, "identity-client \(arguments.first ?? "") failed: \(run.err)")
        return run.out
    }

    /// A JSON object as text.
    static func json(_ object: [String: Any]) throws -> String {
        String(decoding: try JSONSerialization.data(withJSONObject: object, options: [.sortedKeys]), as: UTF8.self)
    }

    static func formEncode(_ text: String) -> String {
        text.addingPercentEncoding(withAllowedCharacters: CharacterSet.alphanumerics.union(CharacterSet(charactersIn: "-._~"))) ?? ""
    }

    /// What a request came back with: the status, the error code, and the plaintext when a key was released.
    struct Outcome: CustomStringConvertible {
        var status: Int
        var code: String?
        var plaintext: String?
        var body = ""

        var description: String { "\(status) \(code ?? "") \(plaintext == nil ? body.prefix(200) : "released")" }
    }

    /// A login's answer: the status, the error code, the subject and the `kbs-login` cookie.
    struct Login: CustomStringConvertible {
        var status: Int
        var code: String?
        var subject: String?
        var cookie: String?

        var description: String { "\(status) \(code ?? "") \(subject ?? "")" }
        var headers: [String: String] { ["Cookie": "kbs-login=\(cookie ?? "")"] }
    }

    /// A server configured for every method (two OIDC issuers, two SAML providers of one IdP, the second taking
    /// IdP-initiated responses, SIWE and EIP-712, DID), a recipient key, and keys labelled `role = reader`.
    struct Fixture {
        let server: ServerProcess
        let directory: String
        let config: String
        let recipient: String
        let recipientKey: String
        let secret1 = "tier1-secret-\(UUID().uuidString)"
        let secret2 = "tier2-secret-\(UUID().uuidString)"

        init(dataDirectory: String? = nil, directory: String? = nil, arguments: [String] = []) async throws {
            let directory = directory ?? ServerProcess.temporaryDirectory("kbs-identity")
            self.directory = directory
            try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
            // The issuers' and the IdP's keys once per folder; a recipient key per server.
            var lists = [["recipient", "--out", directory + "/recipient-\(UUID()).json"]]
            if !FileManager.default.fileExists(atPath: directory + "/oidc/jwks.json") {
                lists += [
                    ["oidc-issuer", "--out", directory + "/oidc"],
                    ["oidc-issuer", "--out", directory + "/partner", "--alg", "ES256"],
                    ["saml-idp", "--out", directory + "/idp", "--entity-id", IdentityEndToEndTests.idpEntity],
                ]
            }
            let made = try IdentityEndToEndTests.mintAll(lists)[0]
            config = directory + "/kbs.toml"
            try Self.configuration.write(toFile: config, atomically: true, encoding: .utf8)
            server = try ServerProcess(
                policies: RepositoryPaths.path("Policies/default"), dataDirectory: dataDirectory,
                arguments: ["--config", config, "--tee-mode", "simulator"] + arguments)
            recipientKey = made["key"] as? String ?? ""
            let jwk = try JSONSerialization.data(withJSONObject: made["recipient"] ?? [:])
            recipient = String(decoding: jwk, as: UTF8.self)
        }

        static let configuration = """
            [[identity.oidc]]
            name = "corp"
            issuer = "\(IdentityEndToEndTests.issuer)"
            audiences = ["kbs"]
            jwks_file = "oidc/jwks.json"
            algorithms = ["RS256", "ES256"]
            token_types = ["access", "id"]

            [[identity.oidc]]
            name = "partner"
            issuer = "\(IdentityEndToEndTests.partner)"
            jwks_file = "partner/jwks.json"
            algorithms = ["ES256"]
            audiences = ["kbs"]

            [[identity.saml]]
            name = "corp"
            idp_entity_id = "\(IdentityEndToEndTests.idpEntity)"
            idp_certificate = "idp/idp.crt"
            idp_sso_url = "https://idp.hanzo.example/saml/sso"
            sp_entity_id = "\(IdentityEndToEndTests.sp)"
            acs_url = "\(IdentityEndToEndTests.acs)"

            [[identity.saml]]
            name = "open"
            idp_entity_id = "\(IdentityEndToEndTests.idpEntity)"
            idp_certificate = "idp/idp.crt"
            idp_sso_url = "https://idp.hanzo.example/saml/sso"
            sp_entity_id = "\(IdentityEndToEndTests.sp)"
            acs_url = "\(IdentityEndToEndTests.openACS)"
            allow_idp_initiated = true

            [identity.siwe]
            domain = "\(IdentityEndToEndTests.domain)"
            uri = "https://\(IdentityEndToEndTests.domain)/login"
            chain_ids = [1]

            [identity.did]
            methods = ["key", "jwk", "pkh"]
            audience = "\(IdentityEndToEndTests.audience)"
            """

        /// The tier-1 and tier-2 keys, both labelled `role = reader`.
        func putKeys() async throws {
            try await put("demo/keys/t1", secret1, tier: 1, labels: ["role": "reader"])
            try await put("demo/keys/t2", secret2, tier: 2, labels: ["role": "reader"])
        }

        func put(_ path: String, _ value: String, tier: Int, labels: [String: String]) async throws {
            let body = try IdentityEndToEndTests.json(["value": Data(value.utf8).base64EncodedString(), "required_tier": tier, "labels": labels])
            let response = try await server.request("POST", "/kbs/v1/resources/\(path)", body: body, admin: true)
            #expect(response.status == 201, "\(response.body)")
        }

        /// Grants `reader` to `subject` (a `Subject` entity; any type with that id counts).
        func grant(_ subject: String) async throws {
            let body = try IdentityEndToEndTests.json(["type": "Subject", "id": subject, "attributes": [:], "roles": [["role": "reader"]]])
            let response = try await server.request("POST", "/kbs/v1/entities", body: body, admin: true)
            #expect(response.status == 200 || response.status == 201, "\(response.body)")
        }

        /// The identity-only release body.
        var releaseBody: String { #"{"recipient":\#(recipient)}"# }

        /// Identity-only release with `headers` (and `body`, by default the release body).
        func release(_ path: String, headers: [String: String], body: String? = nil) async throws -> Outcome {
            let response = try await server.request("POST", "/kbs/v1/release/\(path)", body: body ?? releaseBody, headers: headers)
            guard response.status == 200 else {
                return Outcome(status: response.status, code: try ServerProcess.errorCode(response.body), body: response.body)
            }
            let opened = try IdentityEndToEndTests.mint(["decrypt", "--key", recipientKey, "--jwe", response.body])
            let plaintext = (opened["plaintext"] as? String).flatMap { Data(base64Encoded: $0) }.map { String(decoding: $0, as: UTF8.self) }
            return Outcome(status: 200, plaintext: plaintext)
        }

        /// Release with `Authorization: Bearer credential`.
        func release(_ path: String, bearer credential: String) async throws -> Outcome {
            try await release(path, headers: ["Authorization": "Bearer \(credential)"])
        }

        /// A login: `POST route` with `body` (JSON unless `form`).
        func login(_ route: String, _ body: String, form: Bool = false) async throws -> Login {
            let headers = form ? ["Content-Type": "application/x-www-form-urlencoded"] : [:]
            let response = try await server.request("POST", route, body: body, headers: headers)
            guard response.status == 200 else { return Login(status: response.status, code: try ServerProcess.errorCode(response.body)) }
            return Login(
                status: 200, subject: try ServerProcess.object(response.body)["subject"] as? String, cookie: Self.cookie(response.headers))
        }

        /// The arguments of an `oidc-token` for this fixture's issuer and audience.
        func tokenArguments(_ extra: [String], key: String = "oidc", issuer: String = IdentityEndToEndTests.issuer) -> [String] {
            ["oidc-token", "--key", directory + "/\(key)/private.json", "--iss", issuer, "--aud", "kbs"] + extra
        }

        /// One OIDC token from this fixture's issuer.
        func token(_ extra: [String]) throws -> String {
            try IdentityEndToEndTests.mint(tokenArguments(extra))["token"] as? String ?? ""
        }

        /// The `kbs-login` cookie a login response set.
        static func cookie(_ headers: [String: String]) -> String? {
            guard let field = headers["set-cookie"], let start = field.range(of: "kbs-login=") else { return nil }
            return String(field[start.upperBound...].prefix { $0 != ";" })
        }

        /// `count` fresh challenge nonces.
        func challenges(_ count: Int) async throws -> [String] {
            var nonces: [String] = []
            for _ in 0..<count {
                let response = try await server.request("GET", "/kbs/v1/login/challenge")
                #expect(response.status == 200)
                nonces.append(try ServerProcess.object(response.body)["nonce"] as? String ?? "")
            }
            return nonces
        }

        /// The arguments of a SIWE message for this server's domain, URI and chain.
        static func siweArguments(_ nonce: String, _ extra: [String] = []) -> [String] {
            [
                "siwe", "--domain", IdentityEndToEndTests.domain, "--uri", "https://\(IdentityEndToEndTests.domain)/login", "--chain-id", "1",
                "--nonce", nonce,
            ]
                + extra
        }

        /// The arguments of EIP-712 typed data for this server's domain name and chain.
        static func eip712Arguments(_ nonce: String, _ extra: [String] = []) -> [String] {
            ["eip712", "--nonce", nonce, "--domain-name", IdentityEndToEndTests.domain, "--chain-id", "1"] + extra
        }

        /// The arguments of a DID proof for this server's audience.
        static func didArguments(_ nonce: String, _ extra: [String] = []) -> [String] {
            ["did-proof", "--aud", IdentityEndToEndTests.audience, "--nonce", nonce] + extra
        }

        /// The `{"message", "signature"}` or `{"typedData", "signature"}` body of a minted Ethereum login.
        static func ethereumBody(_ minted: [String: Any]) throws -> String {
            let content = minted["message"].map { ("message", $0) } ?? ("typedData", minted["typedData"] ?? [:])
            return try IdentityEndToEndTests.json([content.0: content.1, "signature": minted["signature"] ?? ""])
        }

        /// The `{"proof"}` body of a minted DID proof.
        static func didBody(_ minted: [String: Any]) throws -> String {
            try IdentityEndToEndTests.json(["proof": minted["proof"] ?? ""])
        }

        /// `count` SAML login redirects from provider `corp`: the URL the browser is sent to, carrying the AuthnRequest.
        func samlRedirects(_ count: Int) async throws -> [String] {
            var locations: [String] = []
            for _ in 0..<count {
                let redirect = try await server.request("GET", "/kbs/v1/login/saml/corp")
                #expect(redirect.status == 302, "\(redirect.body)")
                locations.append(redirect.headers["location"] ?? "")
            }
            return locations
        }

        /// The arguments of pysaml2's response to the AuthnRequest in `location`.
        func samlArguments(_ location: String, nameID: String, _ extra: [String] = []) -> [String] {
            [
                "saml-response", "--idp", directory + "/idp", "--idp-entity-id", IdentityEndToEndTests.idpEntity, "--authn-request", location,
                "--name-id", nameID,
            ] + extra
        }

        /// The HTTP-POST form of a minted SAML response.
        static func samlForm(_ minted: [String: Any]) -> String {
            let response = IdentityEndToEndTests.formEncode(minted["SAMLResponse"] as? String ?? "")
            guard let relay = minted["RelayState"] as? String else { return "SAMLResponse=\(response)" }
            return "SAMLResponse=\(response)&RelayState=\(IdentityEndToEndTests.formEncode(relay))"
        }

        /// A new API key: its id and bearer secret.
        func apiKey(_ name: String) async throws -> (id: String, secret: String) {
            let created = try await server.request("POST", "/kbs/v1/api-keys", body: try IdentityEndToEndTests.json(["name": name]), admin: true)
            #expect(created.status == 201, "\(created.body)")
            let key = try ServerProcess.object(created.body)
            return (key["id"] as? String ?? "", key["secret"] as? String ?? "")
        }

        /// The release URL a signature covers.
        func url(_ path: String) -> String { "http://127.0.0.1:\(server.port)/kbs/v1/release/\(path)" }

        /// The arguments of an RFC 9421 signature over an identity-only release of `path` with `body`.
        func signatureArguments(_ id: String, _ secret: String, path: String, body: String? = nil, _ extra: [String] = []) -> [String] {
            ["httpsig", "--key-id", id, "--secret", secret, "--method", "POST", "--url", url(path), "--body", body ?? releaseBody] + extra
        }
    }
}
