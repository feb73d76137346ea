import Foundation
import KBSPolicyTesting
import KBSServer
import Testing

/// `kbs serve` with `[tls]`: HTTPS with HTTP/2 and HTTP/1.1, a certificate made at test time by `cryptography` and
/// verified by clients no one here wrote (curl, Python's ssl), `Secure` cookies, reloading on change, and clear
/// refusals at start (issue 15 finding 9, issue 17 "TLS").
@Suite(.serialized) struct TLSServerTests {
    static let client = RepositoryPaths.path("Tools/clients/identity-client.py")
    static let audience = "https://kbs.hanzo.example"

    /// A test CA and a leaf for 127.0.0.1 in `folder`: the paths `tls-cert` printed.
    static func certificate(_ folder: String, name: String) throws -> (ca: String, cert: String, key: String) {
        let run = try ChildProcess.run(TestVenv.python, [client, "tls-cert", "--out", folder, "--name", name])
        #expect(run.status == 0, "\(run.err)")
        let made = try ServerProcess.object(run.out)
        return (made["ca"] as? String ?? "", made["cert"] as? String ?? "", made["key"] as? String ?? "")
    }

    /// Starts a TLS server whose configuration serves `folder/served.pem` and `folder/served.key`.
    static func serve(_ folder: String, extra: String = "") throws -> ServerProcess {
        let config = folder + "/kbs.toml"
        try """
        [tls]
        certificate = "served.pem"
        private_key = "served.key"

        [identity.did]
        methods = ["key"]
        audience = "\(audience)"
        \(extra)
        """.write(toFile: config, atomically: true, encoding: .utf8)
        return try ServerProcess(policies: RepositoryPaths.path("Policies/default"), arguments: ["--config", config])
    }

    /// A TLS server serving a fresh certificate named `first`: its folder, the certificate's paths, the server.
    static func servingFirst() throws -> (folder: String, made: (ca: String, cert: String, key: String), server: ServerProcess) {
        let folder = ServerProcess.temporaryDirectory("kbs-tls")
        let made = try certificate(folder, name: "first")
        try install(folder, "first")
        return (folder, made, try serve(folder))
    }

    /// Copies `name`'s pair to the served files, each by an atomic rename (as certificate renewal tools do).
    static func install(_ folder: String, _ name: String) throws {
        for (from, to) in [("\(name).key", "served.key"), ("\(name).pem", "served.pem")] {
            let staging = folder + "/.\(to).new"
            try? FileManager.default.removeItem(atPath: staging)
            try FileManager.default.copyItem(atPath: folder + "/" + from, toPath: staging)
            _ = rename(staging, folder + "/" + to)
        }
    }

    /// One request through curl, which verifies the server against `ca`: status, headers (lower-cased names), body and
    /// the HTTP version used.
    static func curl(
        _ method: String, _ url: String, ca: String?, body: String? = nil, headers: [String: String] = [:], http: String = "--http2"
    ) throws -> (status: Int, headers: [String: String], body: String, version: String, exit: Int32) {
        let head = FileManager.default.temporaryDirectory.appendingPathComponent("curl-\(UUID()).head").path
        defer { try? FileManager.default.removeItem(atPath: head) }
        var arguments = ["-sS", http, "-X", method, "-D", head, "-w", "\n%{http_code} %{http_version}", url]
        if let ca { arguments += ["--cacert", ca] }
        if let body { arguments += ["-H", "Content-Type: application/json", "--data-binary", body] }
        for (name, value) in headers { arguments += ["-H", "\(name): \(value)"] }
        let run = try ChildProcess.run("/usr/bin/curl", arguments)
        guard run.status == 0 else { return (0, [:], run.err, "", run.status) }
        let lines = run.out.split(separator: "\n", omittingEmptySubsequences: false)
        let trailer = (lines.last ?? "").split(separator: " ")
        var fields: [String: String] = [:]
        for line in ((try? String(contentsOfFile: head, encoding: .utf8)) ?? "").split(separator: "\r\n") {
            guard let colon = line.firstIndex(of: ":") else { continue }
            fields[line[..<colon].lowercased()] = line[line.index(after: colon)...].trimmingCharacters(in: .whitespaces)
        }
        return (
            Int(trailer.first ?? "") ?? 0, fields, lines.dropLast().joined(separator: "\n"), trailer.count > 1 ? String(trailer[1]) : "", 0
        )
    }

    static func mint(_ arguments: [String]) throws -> [String: Any] {
        let run = try ChildProcess.run(TestVenv.python, [client] + arguments)
        #expect(run.status == 0, "identity-client \(arguments.first ?? ""): \(run.err)")
        return try ServerProcess.object(run.out)
    }

    @Test func releaseOverHTTPSVerifiedByTheClient() async throws {
        let (folder, made, server) = try Self.servingFirst()
        defer { server.stop() }
        let base = "https://127.0.0.1:\(server.port)"
        let admin = ["Authorization": "Bearer \(ServerProcess.adminToken)"]

        // HTTP/2 by ALPN, and HTTP/1.1 for clients that ask for it; both verified against the test CA only.
        let health = try Self.curl("GET", base + "/healthz", ca: made.ca)
        #expect(health.status == 200 && health.version == "2", "\(health)")
        let old = try Self.curl("GET", base + "/healthz", ca: made.ca, http: "--http1.1")
        #expect(old.status == 200 && old.version == "1.1", "\(old)")
        // A client that does not trust the test CA refuses the server: the certificate really is checked.
        let untrusted = try Self.curl("GET", base + "/healthz", ca: nil)
        #expect(untrusted.exit == 60, "curl without the CA: \(untrusted)")
        let peer = try Self.mint(["tls-peer", "--port", "\(server.port)", "--ca", made.ca])
        #expect(peer["common_name"] as? String == "first" && peer["alpn"] as? String == "h2", "\(peer)")

        // An identity-only release over HTTPS: a tier-1 key to an API key's holder, opened by joserfc.
        let secret = "tls-released-\(UUID().uuidString)"
        let resource = try IdentityEndToEndTests.json(["value": Data(secret.utf8).base64EncodedString(), "required_tier": 1])
        let put = try Self.curl("POST", base + "/kbs/v1/resources/demo/keys/tls", ca: made.ca, body: resource, headers: admin)
        #expect(put.status == 201, "\(put)")
        let created = try Self.curl("POST", base + "/kbs/v1/api-keys", ca: made.ca, body: #"{"name":"tls"}"#, headers: admin)
        let apiKey = try ServerProcess.object(created.body)["secret"] as? String ?? ""
        let keyFile = folder + "/recipient.json"
        let recipient = try Self.mint(["recipient", "--out", keyFile])["recipient"] ?? [:]
        let body = try IdentityEndToEndTests.json(["recipient": recipient])
        let released = try Self.curl(
            "POST", base + "/kbs/v1/release/demo/keys/tls", ca: made.ca, body: body, headers: ["Authorization": "Bearer \(apiKey)"])
        #expect(released.status == 200, "\(released)")
        let opened = try Self.mint(["decrypt", "--key", keyFile, "--jwe", released.body])
        let plaintext = (opened["plaintext"] as? String).flatMap { Data(base64Encoded: $0) }.map { String(decoding: $0, as: UTF8.self) }
        #expect(plaintext == secret)

        // RFC 9421 signatures cover the https target URI the client used.
        let hmac = try IdentityEndToEndTests.json(["name": "tls-hmac"])
        let hmacKey = try ServerProcess.object(try Self.curl("POST", base + "/kbs/v1/api-keys", ca: made.ca, body: hmac, headers: admin).body)
        let signed = try Self.mint([
            "httpsig", "--key-id", hmacKey["id"] as? String ?? "", "--secret", hmacKey["secret"] as? String ?? "", "--method", "POST",
            "--url", base + "/kbs/v1/release/demo/keys/tls", "--body", body,
        ])
        let signedHeaders = (signed["headers"] as? [String: String]) ?? [:]
        let bySignature = try Self.curl("POST", base + "/kbs/v1/release/demo/keys/tls", ca: made.ca, body: body, headers: signedHeaders)
        #expect(bySignature.status == 200, "\(bySignature)")
    }

    @Test func cookiesAreSecureUnderTLS() async throws {
        let (folder, made, server) = try Self.servingFirst()
        defer { server.stop() }
        let base = "https://127.0.0.1:\(server.port)"

        // The RCAR session cookie.
        let auth = try Self.curl("POST", base + "/kbs/v0/auth", ca: made.ca, body: #"{"version":"0.4.0","tee":"snp","extra-params":""}"#)
        #expect(auth.status == 200, "\(auth)")
        let session = auth.headers["set-cookie"] ?? ""
        #expect(session.hasPrefix("kbs-session-id=") && session.contains("; Secure") && session.contains("HttpOnly"), "\(session)")

        // The login cookie, after a did:key login minted by `cryptography`, and the cookie that ends it.
        let challenge = try ServerProcess.object(try Self.curl("GET", base + "/kbs/v1/login/challenge", ca: made.ca).body)
        let proof = try Self.mint(["did-proof", "--aud", Self.audience, "--nonce", challenge["nonce"] as? String ?? ""])
        let login = try Self.curl(
            "POST", base + "/kbs/v1/login/did", ca: made.ca, body: try IdentityEndToEndTests.json(["proof": proof["proof"] ?? ""]))
        #expect(login.status == 200, "\(login)")
        let cookie = login.headers["set-cookie"] ?? ""
        #expect(cookie.hasPrefix("kbs-login=") && cookie.contains("; Secure") && cookie.contains("HttpOnly"), "\(cookie)")
        let value = String(cookie.prefix { $0 != ";" })
        let logout = try Self.curl("DELETE", base + "/kbs/v1/login", ca: made.ca, headers: ["Cookie": value])
        #expect(logout.status == 204 && (logout.headers["set-cookie"] ?? "").contains("; Secure"), "\(logout)")
    }

    @Test func aRenewedCertificateIsServedAndABadOneKeepsTheLastGood() async throws {
        let folder = ServerProcess.temporaryDirectory("kbs-tls")
        let made = try Self.certificate(folder, name: "first")
        _ = try Self.certificate(folder, name: "second")
        try Self.install(folder, "first")
        let server = try Self.serve(folder)
        defer { server.stop() }
        func servedName() throws -> String? {
            try Self.mint(["tls-peer", "--port", "\(server.port)", "--ca", made.ca])["common_name"] as? String
        }
        #expect(try servedName() == "first")

        try Self.install(folder, "second")
        #expect(try await ServerProcess.eventually { try servedName() == "second" }, "the renewed certificate was not served")

        // A half-written file: the last good pair keeps serving and /metrics says so.
        try "-----BEGIN CERTIFICATE-----\nnot base64\n".write(toFile: folder + "/served.pem", atomically: true, encoding: .utf8)
        let failing = try await ServerProcess.eventually {
            try Self.curl("GET", "https://127.0.0.1:\(server.port)/metrics", ca: made.ca).body.contains("kbs_tls_reload_failing 1")
        }
        #expect(failing, "the bad certificate was not reported")
        #expect(try servedName() == "second")
        #expect(server.stderr.contains("TLS certificate reload failed"))

        try Self.install(folder, "first")
        #expect(try await ServerProcess.eventually { try servedName() == "first" })
    }

    @Test func badCertificateFilesAreClearErrorsAtStart() throws {
        let folder = ServerProcess.temporaryDirectory("kbs-tls")
        _ = try Self.certificate(folder, name: "first")
        _ = try Self.certificate(folder, name: "second")
        let data = folder + "/data"
        func serve(_ certificate: String, _ key: String) throws -> (status: Int32, err: String) {
            let run = try ConfigurationFileTests.kbs(
                ["serve", "--policies", RepositoryPaths.path("Policies/default"), "--data-dir", data, "--port", "0"],
                environment: ["KBS_TLS_CERTIFICATE": certificate, "KBS_TLS_PRIVATE_KEY": key])
            return (run.status, run.err)
        }
        try "not a certificate\n".write(toFile: folder + "/garbage.pem", atomically: true, encoding: .utf8)
        let garbage = try serve(folder + "/garbage.pem", folder + "/first.key")
        #expect(garbage.status == 1 && garbage.err.contains("error: tls: \(folder)/garbage.pem holds no"), "\(garbage.err)")
        let mismatched = try serve(folder + "/first.pem", folder + "/second.key")
        #expect(mismatched.status == 1 && mismatched.err.contains("does not belong to the certificate"), "\(mismatched.err)")
        let keyAsCertificate = try serve(folder + "/first.key", folder + "/first.key")
        #expect(keyAsCertificate.status == 1 && keyAsCertificate.err.contains("error: tls:"), "\(keyAsCertificate.err)")
        let missing = try serve(folder + "/absent.pem", folder + "/first.key")
        #expect(missing.status == 1 && missing.err.contains("KBS_TLS_CERTIFICATE: error: names no readable file"), "\(missing.err)")
    }

    @Test func plainHTTPIsRefusedBeyondLoopback() throws {
        let data = ServerProcess.temporaryDirectory("kbs-tls")
        let refused = try ConfigurationFileTests.kbs([
            "serve", "--policies", RepositoryPaths.path("Policies/default"), "--data-dir", data, "--host", "0.0.0.0", "--port", "0",
        ])
        #expect(refused.status == 1 && refused.err.contains("error: plain_http: refusing plain HTTP on 0.0.0.0"), "\(refused.err)")
        #expect(!FileManager.default.fileExists(atPath: data + "/kbs.sqlite"), "refused before anything was created")
    }

    @Test func plainHTTPAndTLSSettingsFromTheEnvironment() throws {
        let base = ServerConfiguration(policies: "p", dataDirectory: "d")
        guard case .loaded(let allowed) = ConfigurationFile.applyingEnvironment(["KBS_ALLOW_PLAIN_HTTP": "1"], to: base) else {
            Issue.record("KBS_ALLOW_PLAIN_HTTP=1 was refused")
            return
        }
        #expect(allowed.allowPlainHTTP && !allowed.servesTLS && !base.allowPlainHTTP)
        guard case .rejected(let wrong) = ConfigurationFile.applyingEnvironment(["KBS_ALLOW_PLAIN_HTTP": "yes please"], to: base) else {
            Issue.record("a bad KBS_ALLOW_PLAIN_HTTP was accepted")
            return
        }
        #expect(wrong.map(\.description) == ["KBS_ALLOW_PLAIN_HTTP: error: must be true, false, 1 or 0, not `yes please`"])
        let file = FileManager.default.temporaryDirectory.appendingPathComponent("tls-\(UUID()).pem").path
        try "x".write(toFile: file, atomically: true, encoding: .utf8)
        guard case .rejected(let half) = ConfigurationFile.applyingEnvironment(["KBS_TLS_CERTIFICATE": file], to: base) else {
            Issue.record("a certificate without a key was accepted")
            return
        }
        #expect(half.map(\.description) == ["KBS_TLS_CERTIFICATE: error: TLS needs both a certificate and a private key, or neither"])
        guard
            case .loaded(let both) = ConfigurationFile.applyingEnvironment(
                ["KBS_TLS_CERTIFICATE": file, "KBS_TLS_PRIVATE_KEY": file], to: base)
        else {
            Issue.record("a certificate and key were refused")
            return
        }
        #expect(both.servesTLS)
    }
}
