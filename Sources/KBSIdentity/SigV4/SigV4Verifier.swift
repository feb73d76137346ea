import Crypto
package import Foundation
import KBSClaims

/// AWS Signature Version 4 (`Authorization: AWS4-HMAC-SHA256 …`) with API keys as the access keys: the key id is the
/// access key id, the whole secret string (`kbs_k_…`, the same bytes RFC 9421 signing keys with) the secret access key.
///
/// The request is rebuilt as AWS's canonical request (method, path, query, the signed headers, the body's SHA-256),
/// its hash signed in the string to sign under the credential scope `<date>/<region>/<service>/aws4_request`, and the
/// signature compared in constant time with HMAC under the derived signing key. Any region is accepted; the service
/// must be this verifier's. `X-Amz-Date` must be within 15 minutes of now, as AWS requires; as in AWS, a request may
/// be replayed within that window, so every operation's effect must be one a replay cannot abuse (the body, target and
/// session token are all signed).
package struct SigV4Verifier: Sendable {
    /// The request as received: the path and query as sent (percent-encoding kept), headers in order, the body.
    package struct Request: Sendable {
        package var method: String
        package var path: String
        package var query: String?
        /// Names in any case; `host` must be among them (HTTP/2's `:authority` passed as `host`).
        package var headers: [(name: String, value: String)]
        package var body: [UInt8]

        /// Creates a request.
        package init(method: String, path: String, query: String?, headers: [(name: String, value: String)], body: [UInt8]) {
            self.method = method
            self.path = path
            self.query = query
            self.headers = headers.map { ($0.name.lowercased(), $0.value) }
            self.body = body
        }

        /// Every value of header `name` (lower case), in order.
        func values(_ name: String) -> [String] { headers.filter { $0.name == name }.map(\.value) }
    }

    /// An access key's secret and whom it stands for.
    package struct Key: Sendable {
        package var secret: [UInt8]
        package var subject: String

        /// Creates a key.
        package init(secret: [UInt8], subject: String) {
            self.secret = secret
            self.subject = subject
        }
    }

    /// What a verified request established.
    package struct Verified: Sendable {
        /// The API key's principal (method `api_key`), as a bearer API key yields.
        package var principal: Principal
        /// The access key id.
        package var keyID: String
        /// The region the client signed for.
        package var region: String
        /// `X-Amz-Security-Token`, when the request carries one (signed): the server reads it as a session token.
        package var securityToken: String?
    }

    /// The secret of an access key id; nil when there is no such key. Throws `revoked` for a key that may no longer
    /// sign and `configuration` when the store cannot answer.
    package typealias KeyLookup = @Sendable (String) async throws(IdentityError) -> Key?

    /// The service requests must be signed for (`kms`).
    package let service: String
    private let lookup: KeyLookup
    /// How far `X-Amz-Date` may be from now, either way.
    package var maximumSkewSeconds: Int64 = 15 * 60

    /// A verifier for `service` whose keys `lookup` finds.
    package init(service: String, lookup: @escaping KeyLookup) {
        self.service = service
        self.lookup = lookup
    }

    static let algorithm = "AWS4-HMAC-SHA256"

    /// Verifies `request` at `time`. Refusals: `unsigned` (no `Authorization`), `malformed` (it does not parse, or a
    /// required header is missing or unsigned), `unsupported` (another algorithm or service), `expired` and
    /// `issued_in_future` (the date is out of the window), `unknown_key`, `revoked`, `signature` (the HMAC differs, or
    /// `x-amz-content-sha256` does not match the body).
    package func verify(_ request: Request, at time: Date) async throws(IdentityError) -> Verified {
        let authorization = request.values("authorization")
        guard authorization.count == 1 else {
            if authorization.isEmpty { throw IdentityError(.unsigned, "the request carries no Authorization header") }
            throw IdentityError(.malformed, "the request carries more than one Authorization header")
        }
        let parsed = try SigV4Authorization(authorization[0])
        guard parsed.service == service else {
            throw IdentityError(.unsupported, "the credential is scoped to service `\(parsed.service.prefix(32))`, not `\(service)`")
        }
        let dates = request.values("x-amz-date")
        guard dates.count == 1, let signedAt = Self.amzDate(dates[0]) else {
            throw IdentityError(.malformed, "the request needs one X-Amz-Date in the form 20260101T000000Z")
        }
        guard dates[0].hasPrefix(parsed.date) else {
            throw IdentityError(.malformed, "the credential's date \(parsed.date) is not the day of X-Amz-Date")
        }
        let now = Int64(time.timeIntervalSince1970.rounded(.down))
        if signedAt < now - maximumSkewSeconds {
            throw IdentityError(.expired, "signature expired: \(dates[0]) is more than 15 minutes before the server's time")
        }
        if signedAt > now + maximumSkewSeconds {
            throw IdentityError(.issuedInFuture, "signature not yet current: \(dates[0]) is more than 15 minutes after the server's time")
        }
        let present = Set(request.headers.map(\.name))
        for required in ["host", "x-amz-date", "x-amz-target", "x-amz-security-token", "x-amz-content-sha256"]
        where (required == "host" || present.contains(required)) && !parsed.signedHeaders.contains(required) {
            throw IdentityError(.malformed, "the signature must cover `\(required)`")
        }
        let payloadHash = Hex.encode(SHA256.hash(data: request.body))
        let declared = request.values("x-amz-content-sha256")
        if !declared.isEmpty, declared != [payloadHash] {
            throw IdentityError(.signature, "x-amz-content-sha256 does not match the body's SHA-256")
        }
        let canonical = try Self.canonicalRequest(request, signedHeaders: parsed.signedHeaders, payloadHash: payloadHash)
        let scope = "\(parsed.date)/\(parsed.region)/\(parsed.service)/aws4_request"
        let stringToSign = [Self.algorithm, dates[0], scope, Hex.encode(SHA256.hash(data: Array(canonical.utf8)))].joined(separator: "\n")

        guard var key = try await lookup(parsed.accessKeyID) else {
            throw IdentityError(.unknownKey, "no access key `\(parsed.accessKeyID.prefix(64))`")
        }
        defer { for index in key.secret.indices { key.secret[index] = 0 } }
        let signingKey = Self.signingKey(secret: key.secret, date: parsed.date, region: parsed.region, service: parsed.service)
        guard
            HMAC<SHA256>.isValidAuthenticationCode(parsed.signature, authenticating: Array(stringToSign.utf8), using: signingKey)
        else {
            throw IdentityError(.signature, "the request signature does not match the one computed with the access key's secret")
        }
        let principal = Principal(
            subject: key.subject, issuer: "api_key", method: .apiKey, verifiedAt: time,
            attributes: ["key_id": .string(parsed.accessKeyID)])
        let tokens = request.values("x-amz-security-token")
        guard tokens.count <= 1 else { throw IdentityError(.malformed, "the request carries more than one X-Amz-Security-Token") }
        return Verified(principal: principal, keyID: parsed.accessKeyID, region: parsed.region, securityToken: tokens.first)
    }

    /// The canonical request of AWS's SigV4: method, URI, query, signed headers with their values, their names, payload hash.
    static func canonicalRequest(_ request: Request, signedHeaders: [String], payloadHash: String) throws(IdentityError) -> String {
        var lines = [request.method.uppercased(), canonicalURI(request.path), canonicalQuery(request.query)]
        for name in signedHeaders {
            let values = request.values(name)
            guard !values.isEmpty else { throw IdentityError(.malformed, "signed header `\(name.prefix(64))` is not in the request") }
            lines.append(name + ":" + values.map(trimmed).joined(separator: ","))
        }
        lines.append("")
        lines.append(signedHeaders.joined(separator: ";"))
        lines.append(payloadHash)
        return lines.joined(separator: "\n")
    }

    /// The path as sent, percent-encoded once more except for unreserved characters and `/` (AWS encodes each segment
    /// twice for every service but S3, and clients sign the path they send, already encoded once).
    static func canonicalURI(_ path: String) -> String {
        guard !path.isEmpty else { return "/" }
        return encode(path, keeping: "/")
    }

    /// The query's `name=value` pairs as sent, sorted by name, then value.
    static func canonicalQuery(_ query: String?) -> String {
        guard let query, !query.isEmpty else { return "" }
        let pairs = query.split(separator: "&", omittingEmptySubsequences: true).map { pair -> (String, String) in
            let parts = pair.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false)
            return (String(parts[0]), parts.count > 1 ? String(parts[1]) : "")
        }
        return pairs.sorted { $0.0 == $1.0 ? $0.1 < $1.1 : $0.0 < $1.0 }.map { "\($0.0)=\($0.1)" }.joined(separator: "&")
    }

    /// A header value with leading and trailing blanks removed and inner runs of blanks made one space.
    static func trimmed(_ value: String) -> String {
        value.split(whereSeparator: { $0 == " " || $0 == "\t" }).joined(separator: " ")
    }

    /// `text` with every byte but RFC 3986's unreserved characters and `keeping` percent-encoded in upper-case hex.
    static func encode(_ text: String, keeping: Character) -> String {
        var out = ""
        for byte in text.utf8 {
            switch byte {
            case UInt8(ascii: "A")...UInt8(ascii: "Z"), UInt8(ascii: "a")...UInt8(ascii: "z"), UInt8(ascii: "0")...UInt8(ascii: "9"),
                UInt8(ascii: "-"), UInt8(ascii: "_"), UInt8(ascii: "."), UInt8(ascii: "~"):
                out.unicodeScalars.append(Unicode.Scalar(byte))
            case _ where Character(Unicode.Scalar(byte)) == keeping:
                out.unicodeScalars.append(Unicode.Scalar(byte))
            default:
                out += (byte < 16 ? "%0" : "%") + String(byte, radix: 16, uppercase: true)
            }
        }
        return out
    }

    /// The signing key: HMAC-SHA256 chained over `"AWS4" + secret`, the date, the region, the service, `aws4_request`.
    static func signingKey(secret: [UInt8], date: String, region: String, service: String) -> SymmetricKey {
        var material = Array("AWS4".utf8) + secret
        defer { for index in material.indices { material[index] = 0 } }
        var key = SymmetricKey(data: material)
        for part in [date, region, service, "aws4_request"] {
            key = SymmetricKey(data: Array(HMAC<SHA256>.authenticationCode(for: Array(part.utf8), using: key)))
        }
        return key
    }

    /// Seconds since 1970 of an `X-Amz-Date` (`YYYYMMDDTHHMMSSZ`), nil when it is not one.
    static func amzDate(_ text: String) -> Int64? {
        let bytes = Array(text.utf8)
        guard bytes.count == 16, bytes[8] == UInt8(ascii: "T"), bytes[15] == UInt8(ascii: "Z"),
            bytes[0..<8].allSatisfy({ (0x30...0x39).contains($0) }), bytes[9..<15].allSatisfy({ (0x30...0x39).contains($0) })
        else { return nil }
        let digits = String(decoding: bytes, as: UTF8.self)
        func part(_ from: Int, _ count: Int) -> Substring {
            let start = digits.index(digits.startIndex, offsetBy: from)
            return digits[start..<digits.index(start, offsetBy: count)]
        }
        let rfc3339 = "\(part(0, 4))-\(part(4, 2))-\(part(6, 2))T\(part(9, 2)):\(part(11, 2)):\(part(13, 2))Z"
        return Timestamp.parse(rfc3339).map { $0 / 1_000_000_000 }
    }
}
