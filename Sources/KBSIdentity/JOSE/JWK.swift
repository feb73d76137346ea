import KBSClaims

/// One public key of a JWK Set, as far as a verifier needs it.
struct JWK: Sendable {
    var keyID: String?
    /// The JWK's own `alg`, which the token's header must then equal.
    var algorithm: String?
    var key: VerificationKey

    /// Members that only private or symmetric keys have; a JWK carrying any of them is refused outright.
    static let privateMembers = ["d", "p", "q", "dp", "dq", "qi", "oth", "k"]

    /// Parses a public JWK (RFC 7517/7518/8037). `invalid_key` for private material, `weak_key` for short RSA,
    /// `unsupported` for other key types.
    init(_ node: JSONNode) throws(IdentityError) {
        guard case .object = node.value else { throw IdentityError(.invalidKey, "a JWK must be an object") }
        for name in JWK.privateMembers where node[name] != nil {
            throw IdentityError(.invalidKey, "the JWK holds private member `\(name)`; only public keys are accepted")
        }
        keyID = try CredentialJSON.string(node, "kid", in: "JWK")
        algorithm = try CredentialJSON.string(node, "alg", in: "JWK")
        func bytes(_ name: String) throws(IdentityError) -> [UInt8] {
            guard let text = try CredentialJSON.string(node, name, in: "JWK"), let decoded = Base64URL.decode(text.utf8) else {
                throw IdentityError(.invalidKey, "the JWK's `\(name)` is missing or not base64url")
            }
            return decoded
        }
        switch try CredentialJSON.string(node, "kty", in: "JWK") {
        case "RSA":
            key = try VerificationKey.rsa(modulus: bytes("n"), exponent: bytes("e"))
        case "EC":
            guard let curve = try CredentialJSON.string(node, "crv", in: "JWK") else { throw IdentityError(.invalidKey, "an EC JWK needs `crv`") }
            key = try VerificationKey.curve(curve, x: bytes("x"), y: bytes("y"))
        case "OKP":
            guard let curve = try CredentialJSON.string(node, "crv", in: "JWK") else { throw IdentityError(.invalidKey, "an OKP JWK needs `crv`") }
            guard curve == "Ed25519" else { throw IdentityError(.unsupported, "OKP curve `\(curve)` cannot sign") }
            key = try VerificationKey.curve(curve, x: bytes("x"), y: nil)
        case let other:
            throw IdentityError(.unsupported, "key type `\(other ?? "none")` is not a signature public key")
        }
    }

    /// Whether the JWK is declared for verification: not `use: enc`, and `key_ops` (when given) includes `verify`.
    static func isForVerification(_ node: JSONNode) -> Bool {
        if node["use"]?.stringValue == "enc" { return false }
        if let operations = node["key_ops"] {
            guard case .array(let items) = operations.value else { return false }
            return items.contains { $0.stringValue == "verify" }
        }
        return true
    }
}

/// A JWK Set: the keys of one issuer. Entries that fail to parse are kept with their error, so a token naming
/// such a key is refused for that reason (a 1024-bit RSA key is `weak_key`, not `unknown_key`).
struct JWKSet: Sendable {
    var entries: [(keyID: String?, key: Result<JWK, IdentityError>)]

    /// Parses `{"keys": [...]}`; `configuration` when the document itself is unusable.
    init(json bytes: [UInt8]) throws(IdentityError) {
        let root: JSONNode
        do {
            root = try CredentialJSON.object(bytes, what: "JWK Set")
        } catch {
            throw IdentityError(.configuration, error.message)
        }
        guard let keys = root["keys"], case .array(let items) = keys.value else {
            throw IdentityError(.configuration, "a JWK Set is an object with a `keys` array")
        }
        entries = []
        for item in items where JWK.isForVerification(item) {
            let keyID = item["kid"]?.stringValue
            do {
                entries.append((keyID, .success(try JWK(item))))
            } catch {
                entries.append((keyID, .failure(error)))
            }
        }
    }

    /// The key a token's `kid` names, compared as an exact opaque string; with no `kid`, the only key there is.
    func key(for keyID: String?) -> Result<JWK, IdentityError>? {
        if let keyID { return entries.first { $0.keyID == keyID }?.key }
        return entries.count == 1 ? entries[0].key : nil
    }
}
