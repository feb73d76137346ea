import Foundation
import KBSClaims
import KBSEvidence
import Testing

/// The attacker's side of the KBS protocol against a running `kbs serve`: RCAR `auth`, `attest` with any evidence the
/// test makes (honest simulator evidence, or a forgery), resource requests by session cookie or attestation token,
/// from 127.0.0.1 or from another loopback address.
struct AttackClient {
    let server: ServerProcess
    /// The source address, nil for 127.0.0.1 through URLSession.
    var source: String? = nil

    /// A valid P-256 point (the curve's generator) as the session's `tee-pubkey`. A release is a JWE to it that the
    /// attacker need not open: the status and error code say what the server did.
    static let teePublicKey: [String: String] = [
        "kty": "EC", "crv": "P-256", "alg": "ECDH-ES+A256KW", "x": "axfR8uEsQkf4vOblY6RA8ncDfYEt6zOg9KE5RdiYwpY",
        "y": "T-NC4v4af5uO5-tKfA-eFivOM1drMV7Oy7ZAaDe_UfU",
    ]

    /// An RCAR session: its cookie and the nonce evidence must bind.
    struct Session {
        var cookie: String
        var nonce: String
    }

    /// What the server answered.
    struct Answer: CustomStringConvertible {
        var status: Int
        var body: String
        var headers: [String: String]

        var code: String? { try? ServerProcess.errorCode(body) }
        /// The attestation token of a successful attest.
        var token: String? { (try? ServerProcess.object(body))?["token"] as? String }
        var description: String { "\(status) \(body.prefix(300))" }
    }

    func send(_ method: String, _ path: String, body: String? = nil, headers: [String: String] = [:]) async throws -> Answer {
        if let source {
            let response = try SourceAddressHTTP.request(port: server.port, from: source, method, path, body: body, headers: headers)
            return Answer(status: response.status, body: response.body, headers: response.headers)
        }
        let response = try await server.request(method, path, body: body, headers: headers)
        return Answer(status: response.status, body: response.body, headers: response.headers)
    }

    /// RCAR `auth` for evidence of `tee`.
    func auth(tee: String = "snp") async throws -> Session {
        let answer = try await send("POST", "/kbs/v0/auth", body: #"{"version":"0.4.0","tee":"\#(tee)","extra-params":{}}"#)
        try #require(answer.status == 200, "auth: \(answer)")
        let nonce = try #require(try ServerProcess.object(answer.body)["nonce"] as? String)
        let cookie = try #require(answer.headers["set-cookie"]?.split(separator: ";").first.map(String.init), "auth set no cookie")
        return Session(cookie: cookie, nonce: nonce)
    }

    /// RCAR `attest` on `session` with `primary` evidence (its JSON text) and `additional` (the additional-evidence
    /// string), claiming `nonce` (the session's unless given); `authorization` is a bearer credential to carry.
    func attest(
        _ session: Session, primary: String, additional: String = "", nonce: String? = nil, authorization: String? = nil
    ) async throws -> Answer {
        let runtime = try Self.json(["nonce": nonce ?? session.nonce, "tee-pubkey": Self.teePublicKey])
        let quoted = String(decoding: try JSONEncoder().encode(additional), as: UTF8.self)
        let body = #"{"runtime-data":\#(runtime),"tee-evidence":{"primary_evidence":\#(primary),"additional_evidence":\#(quoted)}}"#
        var headers = ["Cookie": session.cookie]
        if let authorization { headers["Authorization"] = "Bearer \(authorization)" }
        return try await send("POST", "/kbs/v0/attest", body: body, headers: headers)
    }

    /// `GET /kbs/v0/resource/<path>` on an attested session's cookie, or with an attestation token as bearer.
    func resource(_ path: String, cookie: String? = nil, bearer: String? = nil) async throws -> Answer {
        var headers: [String: String] = [:]
        if let cookie { headers["Cookie"] = cookie }
        if let bearer { headers["Authorization"] = "Bearer \(bearer)" }
        return try await send("GET", "/kbs/v0/resource/\(path)", headers: headers)
    }

    /// One whole flow: `auth` (unless `session` is given), then `attest` with honest simulator evidence of `kind` (SNP
    /// unless told) and, when given, `devices` as additional evidence (made for the session by the closure).
    func attestSimulated(
        on given: Session? = nil, kind: EvidenceKind = .snp, measurement: [UInt8]? = nil, authorization: String? = nil,
        devices: ((Session) throws -> String)? = nil
    ) async throws -> (session: Session, answer: Answer) {
        let session: Session
        if let given { session = given } else { session = try await auth(tee: kind.rawValue) }
        let additional = try devices?(session) ?? ""
        let data = try Self.reportData(nonce: session.nonce, additional: additional, kind: kind)
        let evidence = try TEESimulator.simulate(kind: kind, reportData: data, measurement: measurement, now: Date(), ca: try simulatorCA())
        let answer = try await attest(
            session, primary: String(decoding: evidence.rcarEvidence, as: UTF8.self), additional: additional, authorization: authorization)
        return (session, answer)
    }

    /// The report data the server expects of primary evidence of `kind`: the SHA-384 of the JCS of the runtime data
    /// (with `additional-evidence`), fitted as the kind fits it; `additional` nil for an additional device's.
    static func reportData(nonce: String, additional: String?, kind: EvidenceKind) throws -> [UInt8] {
        var runtime: [String: Any] = ["nonce": nonce, "tee-pubkey": teePublicKey]
        if let additional { runtime["additional-evidence"] = additional }
        return try ReportDataBinding.expected(runtimeData: Array(try JSONSerialization.data(withJSONObject: runtime)), kind: kind)
    }

    /// The server's simulator CA (simulator mode keeps it in `DATA_DIR/simulator-ca`).
    func simulatorCA() throws -> SimulatorCA {
        try SimulatorCA.openOrCreate(directory: server.dataDirectory + "/simulator-ca")
    }

    /// `object` as compact JSON text.
    static func json(_ object: Any) throws -> String {
        String(decoding: try JSONSerialization.data(withJSONObject: object, options: [.sortedKeys]), as: UTF8.self)
    }

    /// The claims (payload) of a JWT.
    static func claims(_ jwt: String) throws -> [String: Any] {
        let parts = jwt.split(separator: ".")
        try #require(parts.count == 3, "not a JWT")
        let payload = try #require(BrokerEndToEndTests.base64URL(String(parts[1])))
        return try #require(try JSONSerialization.jsonObject(with: payload) as? [String: Any])
    }

    /// What an attestation token says of the appraisal: the tier, the EAR status and the trustworthiness vector.
    static func appraisal(_ jwt: String) throws -> (tier: Int?, status: String?, vector: [String: Int]) {
        let claims = try claims(jwt)
        let submod = (claims["submods"] as? [String: Any])?["cpu0"] as? [String: Any]
        return (
            claims["kbs.tier"] as? Int, submod?["ear.status"] as? String,
            submod?["ear.trustworthiness-vector"] as? [String: Int] ?? [:]
        )
    }
}

extension ServerProcess {
    /// Puts `path` through the admin API with `required_tier` and `labels`.
    func putResource(_ path: String, tier: Int, labels: [String: String] = [:]) async throws {
        let body = try AttackClient.json([
            "value": Data("secret of \(path)".utf8).base64EncodedString(), "required_tier": tier, "labels": labels,
        ])
        let answer = try await request("POST", "/kbs/v1/resources/\(path)", body: body, admin: true)
        #expect(answer.status == 201, "\(path): \(answer.body)")
    }

    /// Allows `measurement` (hex) for `kind` through the reference values.
    func allowMeasurement(_ measurement: String, kind: String = "snp") async throws {
        let body = #"{"kind":"\#(kind)","name":"measurement","values":["\#(measurement)"]}"#
        let answer = try await request("POST", "/kbs/v1/reference-values", body: body, admin: true)
        #expect(answer.status == 201, "\(answer.body)")
    }
}
