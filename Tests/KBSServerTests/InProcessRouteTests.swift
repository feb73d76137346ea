import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import KBSBroker
import KBSClaims
import KBSEvidence
import KBSPolicyTesting
import Testing

@testable import KBSServer

/// The routes served in-process through Hummingbird's test client: no process, no socket (but for the one test where
/// the bound port is the point), the same router and responder `kbs serve` runs.
@Suite struct InProcessRouteTests {
    static let adminToken = "in-process-admin-token-0123456789"

    /// A server on a fresh data directory with `bundle`, its application under test through `setup`.
    static func serve(
        _ bundle: String = "Policies/default", _ setup: TestingSetup = .router, _ body: @Sendable (any TestClientProtocol) async throws -> Void
    ) async throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("kbs-routes-\(UUID().uuidString)").path
        defer { try? FileManager.default.removeItem(atPath: directory) }
        var configuration = ServerConfiguration(policies: RepositoryPaths.path(bundle), dataDirectory: directory, port: 0)
        configuration.claimSchemas = BrokerSchemas.registry
        configuration.adminToken = adminToken
        configuration.reloadIntervalMilliseconds = 0
        configuration.masterPassphrase = "in-process test passphrase"
        let server = try await Server(configuration: configuration)
        try await server.buildApplication().test(setup, body)
        await server.closeLog()
    }

    static let admin: HTTPFields = [.authorization: "Bearer \(adminToken)", .contentType: "application/json"]

    /// The response's JSON error code, if it has one.
    static func code(_ response: TestResponse) -> String? {
        guard let root = try? JSONNode.parse(Array(response.body.readableBytesView)) else { return nil }
        return root["error"]?["code"]?.stringValue
    }

    static func body(_ text: String) -> ByteBuffer { ByteBuffer(string: text) }

    @Test func healthReadinessAndUnknownRoutesAnswerJSON() async throws {
        try await Self.serve { client in
            try await client.execute(uri: "/healthz", method: .get) { response in
                #expect(response.status == .ok)
                #expect(String(buffer: response.body) == #"{"status":"ok"}"#)
            }
            try await client.execute(uri: "/readyz", method: .get) { #expect($0.status == .ok) }
            try await client.execute(uri: "/no/such/route", method: .get) { response in
                #expect(response.status == .notFound)
                #expect(Self.code(response) == "not_found")
            }
        }
    }

    @Test func everyAdminRouteIsBehindTheOneMiddleware() async throws {
        try await Self.serve { client in
            for (method, uri) in [
                (HTTPRequest.Method.get, "/kbs/v1/entities"), (.get, "/kbs/v1/resources"), (.get, "/kbs/v1/keys"), (.get, "/kbs/v1/tokens"),
                (.get, "/kbs/v1/reference-values"), (.post, "/kbs/v1/reload"), (.post, "/kbs/v0/resource/a/b/c"), (.delete, "/kbs/v0/resource/a/b/c"),
            ] {
                try await client.execute(uri: uri, method: method, headers: [.authorization: "Bearer wrong-token-of-some-length"]) { response in
                    #expect(response.status == .unauthorized, "\(method) \(uri)")
                    #expect(Self.code(response) == "unauthorized", "\(method) \(uri)")
                    #expect(response.headers[.wwwAuthenticate] != nil)
                }
            }
            try await client.execute(uri: "/kbs/v1/resources", method: .get, headers: Self.admin) { response in
                #expect(response.status == .ok)
                #expect(String(buffer: response.body) == #"{"resources":[]}"#)
            }
            // Trustee's write is the admin's; the read on the same path is the attested workload's, not behind the gate.
            try await client.execute(uri: "/kbs/v0/resource/a/b/c", method: .post, headers: Self.admin, body: Self.body("secret")) {
                #expect($0.status == .created)
            }
            try await client.execute(uri: "/kbs/v0/resource/a/b/c", method: .get) { response in
                #expect(response.status == .unauthorized)
                #expect(Self.code(response) == "no_session")
            }
            try await client.execute(uri: "/kbs/v0/resource/a/b/c", method: .delete, headers: Self.admin) { #expect($0.status == .noContent) }
        }
    }

    @Test func rcarAuthAndAttestRefusalsMapToTheirStatuses() async throws {
        try await Self.serve { client in
            try await client.execute(uri: "/kbs/v0/auth", method: .post, body: Self.body(#"{"version":"0.4.0","tee":"snp"}"#)) { response in
                #expect(response.status == .ok)
                let root = try JSONNode.parse(Array(response.body.readableBytesView))
                #expect(root["nonce"]?.stringValue?.isEmpty == false)
                #expect(response.headers[.setCookie]?.hasPrefix("kbs-session-id=") == true)
            }
            let refusals: [(String, String, HTTPResponse.Status, String)] = [
                ("/kbs/v0/auth", #"{"version":"0.3.0","tee":"snp"}"#, .badRequest, "protocol_version"),
                ("/kbs/v0/auth", #"{"version":"0.4.0","tee":"sim"}"#, .badRequest, "unsupported_tee"),
                ("/kbs/v0/auth", #"{"version":"0.4.0""#, .badRequest, "invalid_json"),
                ("/kbs/v0/auth", #"["version"]"#, .badRequest, "invalid_request"),
                ("/kbs/v0/attest", #"{"tee-pubkey":{},"tee-evidence":""}"#, .badRequest, "protocol_version"),
                (
                    "/kbs/v0/attest", #"{"runtime-data":{"nonce":"n","tee-pubkey":{}},"tee-evidence":{"primary_evidence":{}},"init-data":{}}"#,
                    .badRequest, "unsupported_init_data"
                ),
                ("/kbs/v0/attest", #"{"runtime-data":{"nonce":"n"},"tee-evidence":{"primary_evidence":{}}}"#, .badRequest, "invalid_request"),
                (
                    "/kbs/v0/attest", #"{"runtime-data":{"nonce":"n","tee-pubkey":{}},"tee-evidence":{"primary_evidence":{}}}"#, .unauthorized,
                    "no_session"
                ),
            ]
            for (uri, text, status, code) in refusals {
                try await client.execute(uri: uri, method: .post, body: Self.body(text)) { response in
                    #expect(response.status == status, "\(text)")
                    #expect(Self.code(response) == code, "\(text)")
                }
            }
        }
    }

    @Test func brokerRefusalKindsMapToOneStatusEach() {
        let expected: [BrokerError.Kind: HTTPResponse.Status] = [
            .invalidRequest: .badRequest, .unauthenticated: .unauthorized, .forbidden: .forbidden, .notFound: .notFound,
            .conflict: .conflict, .failed: .internalServerError, .unavailable: .serviceUnavailable,
        ]
        for kind in BrokerError.Kind.allCases {
            let error = BrokerErrorStatus.serverError(BrokerError(kind, "some_code", "a message"))
            #expect(error.status == expected[kind], "\(kind)")
            #expect(error.code == "some_code")
        }
    }

    @Test func adminBodiesAreTypedAndRefusedClearly() async throws {
        try await Self.serve { client in
            let cases: [(String, String, String)] = [
                ("/kbs/v1/keys", "{", "invalid_json"),
                ("/kbs/v1/keys", #"{"id":"k","colour":"red"}"#, "invalid_request"),
                ("/kbs/v1/keys", #"{"id":7}"#, "invalid_request"),
                ("/kbs/v1/keys", #"{"id":"k","labels":{"a":1}}"#, "invalid_request"),
                ("/kbs/v1/resources/a/b/c", #"{"value":"not base64!"}"#, "invalid_request"),
                ("/kbs/v1/resources/a/b/c", #"{"value":"AAAA","required_tier":"seven"}"#, "invalid_request"),
                ("/kbs/v1/reference-values", #"{"kind":"snp","name":"measurement","values":[1]}"#, "invalid_request"),
                ("/kbs/v1/tokens", #"{"agent":"a","capabilities":["release:a/b/c"],"ttl_seconds":1.5}"#, "invalid_request"),
            ]
            for (uri, text, code) in cases {
                try await client.execute(uri: uri, method: .post, headers: Self.admin, body: Self.body(text)) { response in
                    #expect(response.status == .badRequest, "\(uri) \(text)")
                    #expect(Self.code(response) == code, "\(uri) \(text)")
                }
            }
            try await client.execute(
                uri: "/kbs/v1/resources/a/b/c", method: .post, headers: Self.admin,
                body: Self.body(#"{"value":"AAAA","required_tier":"2","labels":{"team":"x"}}"#)
            ) { response in
                #expect(response.status == .created)
                #expect(String(buffer: response.body) == #"{"path":"a/b/c","required_tier":2,"labels":{"team":"x"}}"#)
            }
            try await client.execute(
                uri: "/kbs/v1/keys", method: .post, headers: Self.admin,
                body: Self.body(#"{"id":"app-kek","required_tier":1,"labels":{"owner":"ops"}}"#)
            ) { response in
                #expect(response.status == .created, "\(String(buffer: response.body))")
                let root = try JSONNode.parse(Array(response.body.readableBytesView))
                #expect(root["kind"]?.stringValue == "kek" && root["required_tier"]?.integer == 1)
                #expect(root["labels"]?["owner"]?.stringValue == "ops")
            }
        }
    }

    @Test func authZENDecidesInProcess() async throws {
        try await Self.serve("Policies/authzen-todo") { client in
            let request =
                #"{"subject":{"type":"user","id":"CiRmZDE2MTRkMy1jMzlhLTQ3ODEtYjdiZC04Yjk2ZjVhNTEwMGQSBWxvY2Fs"},"#
                + #""action":{"name":"can_create_todo"},"resource":{"type":"todo","id":"1"}}"#
            try await client.execute(uri: "/access/v1/evaluation", method: .post, body: Self.body(request)) { response in
                #expect(response.status == .ok)
                #expect(String(buffer: response.body) == #"{"decision":true}"#)
            }
        }
    }

    @Test func theDiscoveryDocumentNamesTheBoundPortOnALiveSocket() async throws {
        try await Self.serve("Policies/authzen-todo", .live) { client in
            let port = try #require(client.port)
            try await client.execute(uri: "/.well-known/authzen-configuration", method: .get) { response in
                #expect(response.status == .ok)
                #expect(String(buffer: response.body).contains("127.0.0.1:\(port)"), "\(String(buffer: response.body))")
            }
        }
    }
}

/// Issue 15, #3: the routes anyone may call are limited per client address, with 429 and `Retry-After`.
@Suite struct RateLimitTests {
    @Test func authPastTheBurstIsRefusedWithRetryAfter() async throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("kbs-rate-\(UUID().uuidString)").path
        defer { try? FileManager.default.removeItem(atPath: directory) }
        var configuration = ServerConfiguration(policies: RepositoryPaths.path("Policies/default"), dataDirectory: directory, port: 0)
        configuration.claimSchemas = BrokerSchemas.registry
        configuration.adminToken = InProcessRouteTests.adminToken
        configuration.reloadIntervalMilliseconds = 0
        configuration.masterPassphrase = "rate limit test passphrase"
        configuration.rateLimitPerSecond = 0.001  // a token each 1,000 s: the burst runs out however slow the machine is
        configuration.rateLimitBurst = 3
        let server = try await Server(configuration: configuration)
        try await server.buildApplication().test(.router) { client in
            let body = InProcessRouteTests.body(#"{"version":"0.4.0","tee":"snp"}"#)
            for _ in 0..<3 {
                try await client.execute(uri: "/kbs/v0/auth", method: .post, body: body) { #expect($0.status == .ok) }
            }
            try await client.execute(uri: "/kbs/v0/auth", method: .post, body: body) { response in
                #expect(response.status == .tooManyRequests)
                #expect(InProcessRouteTests.code(response) == "rate_limited")
                #expect(Int(response.headers[.retryAfter] ?? "") ?? 0 >= 1)
            }
            // Only the open RCAR routes are limited: health and the admin API still answer.
            try await client.execute(uri: "/healthz", method: .get) { #expect($0.status == .ok) }
            try await client.execute(uri: "/metrics", method: .get) { response in
                #expect(String(buffer: response.body).contains("kbs_rate_limited_total 1"))
            }
        }
        await server.closeLog()
    }
}

/// The form decoder of the SAML HTTP-POST binding: percent and plus decoding, first value wins, and any bytes at all
/// decode or are dropped without a crash.
struct FormFieldsTests {
    @Test func decodesWhatIdPsPost() {
        let form = FormFields(Array("SAMLResponse=PHNh%2Bb%3D%3D&RelayState=_a+b&RelayState=second&bad=%zz&empty=".utf8))
        #expect(form["SAMLResponse"] == "PHNh+b==")
        #expect(form["RelayState"] == "_a b")
        #expect(form["bad"] == nil && form["empty"] == "")
    }

    @Test func randomBytesNeverCrash() {
        var generator = SystemRandomNumberGenerator()
        for _ in 0..<5000 {
            let bytes = (0..<Int.random(in: 0...64, using: &generator)).map { _ in
                [UInt8(ascii: "%"), UInt8(ascii: "="), UInt8(ascii: "&"), UInt8(ascii: "+"), UInt8.random(in: 0...255, using: &generator)]
                    .randomElement(
                        using: &generator)!
            }
            _ = FormFields(bytes)["a"]
        }
    }
}
