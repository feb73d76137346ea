import Crypto
package import Foundation
import KBSClaims

/// API keys that sign requests: RFC 9421 HTTP message signatures with `hmac-sha256`, the body bound by an
/// RFC 9530 `Content-Digest`, a bounded `created` window and single-use `(keyid, nonce)`.
package struct HTTPSignatureVerifier: CredentialVerifier {
    package var kind: CredentialKind { .hmac }

    /// What a signature must cover to be accepted.
    package struct Requirements: Sendable {
        /// Components every signature covers.
        package var components: Set<String>
        /// Whether `@query` must be covered when the URI has a query, and `content-digest` when there is a body.
        package var coverQueryAndBody: Bool
        package var requireNonce: Bool
        /// The `tag` signatures must carry (so one made for another protocol cannot be replayed here).
        package var tag: String?
        /// Oldest `created` accepted, in seconds.
        package var maximumAgeSeconds: Int64

        /// The defaults: method, authority and path covered; nonce, tag `kbs`, 300 s.
        package static let strict = Requirements(
            components: ["@method", "@authority", "@path"], requireNonce: true, tag: "kbs",
            maximumAgeSeconds: 300)

        /// Creates requirements.
        package init(components: Set<String>, coverQueryAndBody: Bool = true, requireNonce: Bool, tag: String?, maximumAgeSeconds: Int64) {
            self.components = components
            self.coverQueryAndBody = coverQueryAndBody
            self.requireNonce = requireNonce
            self.tag = tag
            self.maximumAgeSeconds = maximumAgeSeconds
        }
    }

    /// The secret of a key id, or nil when there is no such key; a lookup that fails throws.
    package typealias KeyLookup = @Sendable (String) async throws(IdentityError) -> [UInt8]?

    private let lookup: KeyLookup
    package var requirements: Requirements
    package var replay: any ReplayCache

    /// Creates a verifier over `keys` (key id → secret bytes).
    package init(keys: [String: [UInt8]], requirements: Requirements = .strict, replay: any ReplayCache = MemoryReplayCache()) {
        self.init(lookup: { id throws(IdentityError) in keys[id] }, requirements: requirements, replay: replay)
    }

    /// Creates a verifier that asks `lookup` for each key (the server's sealed API-key secrets).
    package init(lookup: @escaping KeyLookup, requirements: Requirements = .strict, replay: any ReplayCache = MemoryReplayCache()) {
        self.lookup = lookup
        self.requirements = requirements
        self.replay = replay
    }

    /// Reads a key file `{"keys": [{"keyid", "secret": "<base64>"}]}`; secrets shorter than 32 bytes are refused.
    package static func keys(fromJSON bytes: [UInt8]) throws(IdentityError) -> [String: [UInt8]] {
        let root: JSONNode
        do {
            root = try CredentialJSON.object(bytes, what: "key file")
        } catch {
            throw IdentityError(.configuration, error.message)
        }
        guard let list = root["keys"], case .array(let items) = list.value else {
            throw IdentityError(.configuration, "the key file has no `keys` array")
        }
        var keys: [String: [UInt8]] = [:]
        for item in items {
            guard let id = item["keyid"]?.stringValue, let text = item["secret"]?.stringValue, let secret = Base64URL.decodeStandard(text.utf8) else {
                throw IdentityError(.configuration, "each key has a `keyid` and a base64 `secret`")
            }
            guard secret.count >= 32 else { throw IdentityError(.configuration, "key `\(id)` is shorter than 32 bytes") }
            keys[id] = secret
        }
        return keys
    }

    package func verify(_ credential: [UInt8], at time: Date) async throws(IdentityError) -> Principal {
        let now = Int64(time.timeIntervalSince1970.rounded(.down))
        let request = try HTTPRequestCredential(credential)
        let (member, signature) = try HTTPSignatureVerifier.signature(of: request, tag: requirements.tag)
        let parameters = Dictionary(member.parameters.map { ($0.name, $0.value) }, uniquingKeysWith: { _, last in last })
        let covered = member.list ?? []
        guard Set(covered).count == covered.count else { throw IdentityError(.malformed, "a component is covered twice") }

        var required = requirements.components
        if requirements.coverQueryAndBody, request.query != nil { required.insert("@query") }
        if requirements.coverQueryAndBody, request.body.map({ !$0.isEmpty }) ?? false { required.insert("content-digest") }
        for component in required.sorted() where !covered.contains(component) {
            throw IdentityError(.missingComponent, "the signature does not cover `\(component)`")
        }
        guard case .string(let keyID)? = parameters["keyid"] else { throw IdentityError(.missingComponent, "the signature has no `keyid`") }
        guard case .integer(let created)? = parameters["created"] else { throw IdentityError(.missingComponent, "the signature has no `created`") }
        var nonce: String?
        if case .string(let value)? = parameters["nonce"] { nonce = value }
        if requirements.requireNonce, nonce == nil { throw IdentityError(.missingComponent, "the signature has no `nonce`") }
        if let tag = requirements.tag {
            guard case .string(tag)? = parameters["tag"] else { throw IdentityError(.missingComponent, "the signature does not carry tag `\(tag)`") }
        }
        if let algorithm = parameters["alg"], algorithm != .string("hmac-sha256") {
            throw IdentityError(.algorithm, "only hmac-sha256 is accepted; the key decides the algorithm")
        }
        guard created <= now + clockLeewaySeconds else { throw IdentityError(.issuedInFuture, "`created` is in the future") }
        // Arithmetic on `now` only: `created` and `expires` are the sender's integers and may sit at Int64's ends.
        guard created >= now - requirements.maximumAgeSeconds else {
            throw IdentityError(.expired, "the signature is older than \(requirements.maximumAgeSeconds) s")
        }
        if case .integer(let expires)? = parameters["expires"], now - clockLeewaySeconds > expires {
            throw IdentityError(.expired, "the signature expired")
        }
        guard var secret = try await lookup(keyID) else { throw IdentityError(.unknownKey, "no API key `\(keyID.prefix(64))`") }
        let key = SymmetricKey(data: secret)
        for index in secret.indices { secret[index] = 0 }

        let base = try HTTPSignatureVerifier.signatureBase(request, covered: covered, parameters: member.rawValue)
        guard HMAC<SHA256>.isValidAuthenticationCode(signature, authenticating: Array(base.utf8), using: key) else {
            throw IdentityError(.signature, "the request signature does not verify")
        }
        if covered.contains("content-digest") || request.body.map({ !$0.isEmpty }) ?? false {
            try HTTPSignatureVerifier.checkDigest(request)
        }
        if let nonce {
            let until = created + requirements.maximumAgeSeconds + clockLeewaySeconds
            guard try await replay.insert(nonce, namespace: "hmac:" + keyID, expiry: until, now: now) else {
                throw IdentityError(.replay, "this signature's nonce was already used")
            }
        }
        return Principal(
            subject: keyID, issuer: "hmac", method: .hmac, verifiedAt: time,
            attributes: [
                "covered": .strings(covered), "created": .seconds(created),
            ])
    }

    /// The signature this verifier is for and its `Signature-Input` member.
    ///
    /// Repeated field lines combine into one dictionary (RFC 9110 §5.3). A request may carry signatures for others
    /// (a proxy's, RFC 9421 §4.3); ours is the one whose `tag` is ours, or the only one when no tag is required.
    static func signature(of request: HTTPRequestCredential, tag: String?) throws(IdentityError) -> (StructuredFields.Member, [UInt8]) {
        let inputs = request.values("signature-input")
        let signatures = request.values("signature")
        guard !inputs.isEmpty, !signatures.isEmpty else {
            throw IdentityError(.malformed, "the request has no `Signature-Input` and `Signature`")
        }
        guard let inputMembers = StructuredFields.dictionary(inputs.joined(separator: ", ")),
            let signatureMembers = StructuredFields.dictionary(signatures.joined(separator: ", "))
        else { throw IdentityError(.malformed, "`Signature-Input` or `Signature` is not a structured-field dictionary") }
        let candidates = inputMembers.filter { member in
            guard member.list != nil else { return false }
            guard let tag else { return true }
            return member.parameters.contains { $0.name == "tag" && $0.value == .string(tag) }
        }
        guard let input = candidates.first else {
            if let tag { throw IdentityError(.missingComponent, "no signature carries tag `\(tag)`") }
            throw IdentityError(.malformed, "`Signature-Input` holds no signature")
        }
        guard candidates.count == 1 else { throw IdentityError(.malformed, "more than one signature is ours; which one counts is ambiguous") }
        guard let member = signatureMembers.first(where: { $0.name == input.name }), case .bytes(let signature)? = member.item else {
            throw IdentityError(.malformed, "`Signature` does not hold a byte sequence for `\(input.name)`")
        }
        return (input, signature)
    }

    /// The signature base of RFC 9421 §2.5: one line per covered component, then `@signature-params`.
    static func signatureBase(_ request: HTTPRequestCredential, covered: [String], parameters: Substring) throws(IdentityError) -> String {
        var lines: [String] = []
        for component in covered {
            let value: String
            switch component {
            case "@method": value = request.method
            case "@authority": value = request.authority
            case "@path": value = request.path
            case "@query": value = "?" + (request.query ?? "")
            case "@target-uri": value = request.targetURI
            case "@scheme": value = request.scheme
            case "@request-target": value = request.path + (request.query.map { "?" + $0 } ?? "")
            default:
                guard !component.hasPrefix("@") else { throw IdentityError(.malformed, "component `\(component)` is not supported") }
                let values = request.values(component)
                guard !values.isEmpty else { throw IdentityError(.missingComponent, "covered field `\(component)` is not in the request") }
                value = values.map { $0.trimmingCharacters(in: CharacterSet(charactersIn: " \t")) }.joined(separator: ", ")
            }
            guard !value.contains("\n"), !value.contains("\r") else { throw IdentityError(.malformed, "`\(component)` holds a line break") }
            lines.append("\"\(component)\": \(value)")
        }
        lines.append("\"@signature-params\": \(parameters)")
        return lines.joined(separator: "\n")
    }

    /// RFC 9530: every digest given (sha-256, sha-512) must match the body; at least one must be given.
    static func checkDigest(_ request: HTTPRequestCredential) throws(IdentityError) {
        let lines = request.values("content-digest")
        guard lines.count == 1, let members = StructuredFields.dictionary(lines[0]), !members.isEmpty else {
            throw IdentityError(.digest, "the request has no usable `Content-Digest`")
        }
        let body = request.body ?? []
        var checked = 0
        for member in members {
            guard case .bytes(let given)? = member.item else { throw IdentityError(.digest, "`Content-Digest` is malformed") }
            let actual: [UInt8]
            switch member.name {
            case "sha-256": actual = Array(SHA256.hash(data: body))
            case "sha-512": actual = Array(SHA512.hash(data: body))
            default: continue
            }
            guard constantTimeEqual(actual, given) else { throw IdentityError(.digest, "`Content-Digest` \(member.name) does not match the body") }
            checked += 1
        }
        guard checked > 0 else { throw IdentityError(.digest, "`Content-Digest` has no sha-256 or sha-512 value") }
    }
}
