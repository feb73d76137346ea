package import Foundation
import KBSClaims

#if canImport(FoundationNetworking)
    package import FoundationNetworking
#endif

/// A client for the parts of Infisical's HTTP API the KBS uses: universal-auth login, KMS keys (create, look up,
/// encrypt, decrypt) and secrets (raw v3: get, create, update) in one project, environment and folder.
///
/// The access token is cached and renewed shortly before it expires; if Infisical refuses it anyway (401, or 403
/// `TokenError`, which is how Infisical answers an expired token), the client logs in again once and retries, and
/// a second refusal is `unauthenticated`. Other failures: 404 is `notFound`, a disabled KMS key is `disabled`, a body
/// that does not parse is `malformed`, a KMS decrypt refused with 400 is `integrity` (the ciphertext was altered or
/// belongs to another key), and any other status is `storage` with the status and Infisical's message. No message
/// carries the token, the client secret, a plaintext or a secret value.
///
/// - Warning: buffers this client owns that held plaintext or secret values (request bodies, base64, decoded bytes)
///   are wiped after use, but Foundation's own copies (URLSession's, and the `String`s JSONDecoder makes of
///   response members) are beyond its reach.
package final class InfisicalClient: Sendable {
    /// The instance, identity, project, environment and folder.
    package let configuration: InfisicalConfiguration
    let http: InfisicalHTTP
    let tokens: InfisicalTokenCache

    /// Creates a client; nothing is sent until the first call. `now` is the clock for token expiry (tests inject one).
    package init(
        configuration: InfisicalConfiguration,
        session: URLSession? = nil,
        now: @escaping @Sendable () -> Date = { Date() }
    ) {
        let http = InfisicalHTTP(baseURL: configuration.apiURL, session: session ?? InfisicalHTTP.makeSession())
        self.configuration = configuration
        self.http = http
        self.tokens = InfisicalTokenCache(margin: configuration.refreshMargin, now: now) { () async throws(KeyError) in
            try await Self.login(http: http, configuration: configuration)
        }
    }

    // MARK: Authentication

    /// Logs in now, replacing any cached token; fails with `unauthenticated` if the credentials are refused.
    package func login() async throws(KeyError) {
        await tokens.reset()
        _ = try await tokens.token()
    }

    private static func login(
        http: InfisicalHTTP,
        configuration: InfisicalConfiguration
    ) async throws(KeyError) -> (token: String, lifetime: TimeInterval) {
        let segments = ["api", "v1", "auth", "universal-auth", "login"]
        let body = try encode(
            InfisicalLoginRequest(clientId: configuration.clientID, clientSecret: configuration.clientSecret))
        defer { scrub(body) }
        let response = try await http.send("POST", segments, body: body)
        if response.status == 401 || response.status == 403 {
            throw KeyError(
                .unauthenticated,
                "Infisical refused the universal-auth credentials of client \(configuration.clientID): "
                    + describe(response))
        }
        let login = try decode(InfisicalLoginResponse.self, response, http.route(segments))
        guard login.tokenType.caseInsensitiveCompare("Bearer") == .orderedSame, !login.accessToken.isEmpty,
            login.expiresIn > 0
        else {
            throw KeyError(.malformed, "Infisical's login answer has no usable bearer token")
        }
        return (login.accessToken, login.expiresIn)
    }

    // MARK: KMS

    /// Creates an encrypt/decrypt key named `name` in the project.
    package func createKey(
        name: String,
        description: String = "",
        algorithm: String = "aes-256-gcm"
    ) async throws(KeyError) -> InfisicalKMSKey {
        let body = try Self.encode(
            InfisicalCreateKeyRequest(
                name: name, projectId: configuration.projectID, encryptionAlgorithm: algorithm,
                description: description))
        let response = try await send("POST", ["api", "v1", "kms", "keys"], body: body)
        return try Self.decode(InfisicalKeyResponse.self, response, "/api/v1/kms/keys").key
    }

    /// The key with id `id`.
    package func key(id: String) async throws(KeyError) -> InfisicalKMSKey {
        let segments = ["api", "v1", "kms", "keys", id]
        return try Self.decode(InfisicalKeyResponse.self, try await send("GET", segments), http.route(segments)).key
    }

    /// The key named `name` in the project.
    package func key(named name: String) async throws(KeyError) -> InfisicalKMSKey {
        let segments = ["api", "v1", "kms", "keys", "key-name", name]
        let query = [URLQueryItem(name: "projectId", value: configuration.projectID)]
        let response = try await send("GET", segments, query: query)
        return try Self.decode(InfisicalKeyResponse.self, response, http.route(segments)).key
    }

    /// Has Infisical encrypt `plaintext` (at most 4096 bytes) under key `keyID`; returns its base64 ciphertext.
    package func encrypt(keyID: String, plaintext: borrowing SecretBytes) async throws(KeyError) -> String {
        guard plaintext.count <= 4096 else {
            throw KeyError(.invalidArgument, "Infisical encrypts at most 4096 bytes, not \(plaintext.count)")
        }
        // The body is built around base64 made straight from the secret's own buffer, so no unwiped copy remains.
        let encoded = plaintext.withUnsafeBytes { bytes in
            bytes.isEmpty
                ? Data()
                : Data(
                    bytesNoCopy: UnsafeMutableRawPointer(mutating: bytes.baseAddress!), count: bytes.count,
                    deallocator: .none
                ).base64EncodedData()
        }
        defer { scrub(encoded) }
        let prefix = Array(#"{"plaintext":""#.utf8)
        let suffix = Array(#""}"#.utf8)
        var body = Data(capacity: prefix.count + encoded.count + suffix.count)
        body.append(contentsOf: prefix)
        body.append(encoded)
        body.append(contentsOf: suffix)
        defer { scrub(body) }
        let segments = ["api", "v1", "kms", "keys", keyID, "encrypt"]
        let response = try await send("POST", segments, body: body)
        return try Self.decode(InfisicalCiphertext.self, response, http.route(segments)).ciphertext
    }

    /// Has Infisical decrypt `ciphertext` (base64, as `encrypt` returned it) with key `keyID`.
    package func decrypt(keyID: String, ciphertext: String) async throws(KeyError) -> SecretBytes {
        let body = try Self.encode(InfisicalCiphertext(ciphertext: ciphertext))
        let segments = ["api", "v1", "kms", "keys", keyID, "decrypt"]
        // Infisical answers 400 for a ciphertext that fails authentication under this key.
        let response = try await send("POST", segments, body: body, badRequest: .integrity)
        defer { scrub(response.body) }
        let answer = try Self.decode(InfisicalPlaintext.self, response, http.route(segments))
        guard let plaintext = Data(base64Encoded: answer.plaintext) else {
            throw KeyError(.malformed, "Infisical's decrypt answer is not base64")
        }
        return Self.secret(copying: plaintext)
    }

    // MARK: Secrets

    /// The value of secret `name` in the configured environment and folder.
    package func secret(name: String) async throws(KeyError) -> SecretBytes {
        let segments = ["api", "v3", "secrets", "raw", name]
        let query = [
            URLQueryItem(name: "workspaceId", value: configuration.projectID),
            URLQueryItem(name: "environment", value: configuration.environment),
            URLQueryItem(name: "secretPath", value: configuration.secretPath),
            URLQueryItem(name: "viewSecretValue", value: "true"),
            URLQueryItem(name: "expandSecretReferences", value: "false"),
            URLQueryItem(name: "include_imports", value: "false"),
        ]
        let response = try await send("GET", segments, query: query)
        defer { scrub(response.body) }
        let value = try Self.decode(InfisicalSecretResponse.self, response, http.route(segments)).secret.secretValue
        return Self.secret(copying: Data(value.utf8))
    }

    /// `bytes` as `SecretBytes`, wiping `bytes` (Foundation's buffers cannot hand over a noncopyable result directly).
    private static func secret(copying bytes: Data) -> SecretBytes {
        defer { scrub(bytes) }
        var secret = SecretBytes(zeros: bytes.count)
        secret.withUnsafeMutableBytes { out in bytes.withUnsafeBytes { out.copyMemory(from: $0) } }
        return secret
    }

    /// Creates secret `name` (a `shared` secret) with `value`, which must be UTF-8; fails if it exists.
    package func createSecret(name: String, value: borrowing SecretBytes) async throws(KeyError) {
        try await writeSecret("POST", name: name, value: value)
    }

    /// Replaces the value of the existing secret `name`; `notFound` if there is none.
    package func updateSecret(name: String, value: borrowing SecretBytes) async throws(KeyError) {
        try await writeSecret("PATCH", name: name, value: value)
    }

    private func writeSecret(_ method: String, name: String, value: borrowing SecretBytes) async throws(KeyError) {
        let body = try value.withUnsafeBytes { (bytes) throws(KeyError) in
            try SecretJSON.object(
                [
                    ("workspaceId", configuration.projectID), ("environment", configuration.environment),
                    ("secretPath", configuration.secretPath), ("type", "shared"),
                ],
                secretName: "secretValue", secret: bytes)
        }
        defer { scrub(body) }
        let segments = ["api", "v3", "secrets", "raw", name]
        let response = try await send(method, segments, body: body)
        defer { scrub(response.body) }
        _ = try Self.decode(InfisicalSecretResponse.self, response, http.route(segments))
    }

    // MARK: Sending

    /// Sends an authenticated request, logging in again once if Infisical refuses the token; non-2xx is thrown
    /// (`badRequest` is the reason for a 400, where the route gives it a meaning).
    func send(
        _ method: String,
        _ segments: [String],
        query: [URLQueryItem] = [],
        body: Data? = nil,
        badRequest: KeyErrorReason = .storage
    ) async throws(KeyError) -> InfisicalHTTP.Response {
        var token = try await tokens.token()
        var response = try await http.send(method, segments, query: query, body: body, token: token)
        if Self.refusesToken(response) {
            token = try await tokens.renew(rejecting: token)
            response = try await http.send(method, segments, query: query, body: body, token: token)
            if Self.refusesToken(response) {
                throw KeyError(
                    .unauthenticated,
                    "Infisical refused a freshly issued access token for \(method) \(http.route(segments)): "
                        + Self.describe(response))
            }
        }
        guard (200..<300).contains(response.status) else {
            let reason: KeyErrorReason =
                switch response.status {
                case 404: .notFound
                case 400 where Self.errorBody(response)?.message == Self.disabledKeyMessage: .disabled
                case 400: badRequest
                default: .storage
                }
            throw KeyError(reason, "Infisical \(method) \(http.route(segments)): \(Self.describe(response))")
        }
        return response
    }

    /// Infisical's message when a KMS key is disabled (a 400 like any other bad request, so only the text tells).
    static let disabledKeyMessage = "Key is disabled"

    static func errorBody(_ response: InfisicalHTTP.Response) -> InfisicalErrorBody? {
        try? JSONDecoder().decode(InfisicalErrorBody.self, from: response.body)
    }

    /// 401, or 403 with `TokenError`: Infisical's answers to a missing, unknown or expired access token.
    private static func refusesToken(_ response: InfisicalHTTP.Response) -> Bool {
        if response.status == 401 { return true }
        guard response.status == 403 else { return false }
        return errorBody(response)?.error == "TokenError"
    }

    /// The status and Infisical's error name and message, cut short; never the request.
    static func describe(_ response: InfisicalHTTP.Response) -> String {
        guard let body = errorBody(response) else {
            return "HTTP \(response.status) (no Infisical error body)"
        }
        let message = body.message.count > 300 ? body.message.prefix(300) + "…" : Substring(body.message)
        return "HTTP \(response.status) \(body.error ?? "error"): \(message)"
    }

    static func encode(_ value: some Encodable) throws(KeyError) -> Data {
        do { return try JSONEncoder().encode(value) } catch {
            throw KeyError(.invalidArgument, "cannot encode an Infisical request: \(type(of: error))")
        }
    }

    static func decode<Value: Decodable>(
        _ type: Value.Type,
        _ response: InfisicalHTTP.Response,
        _ route: String
    ) throws(KeyError) -> Value {
        do { return try JSONDecoder().decode(type, from: response.body) } catch {
            throw KeyError(.malformed, "Infisical's answer to \(route) is not the expected JSON")
        }
    }
}
