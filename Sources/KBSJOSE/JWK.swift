package import KBSClaims

/// One public JWK (RFC 7517, RFC 7518 §6, RFC 8037), read and checked for shape: the only JWK reader of the package.
///
/// It is not yet a key of any library: ``VerificationKey/init(_:)`` makes it a signature key (the identity
/// verifiers), ``JWE/RecipientKey/init(_:)`` a key to encrypt to (the broker's TEE key). Private and symmetric keys
/// never get this far.
package struct JWK: Sendable {
    /// The key material, as the JWK's members give it.
    package enum Parameters: Sendable, Equatable {
        case rsa(modulus: [UInt8], exponent: [UInt8])
        case ec(curve: String, x: [UInt8], y: [UInt8])
        case okp(curve: String, x: [UInt8])
    }

    package var keyID: String?
    /// The JWK's own `alg`: a JWS must then name the same one, a JWE recipient must be wrapped with it.
    package var algorithm: String?
    package var parameters: Parameters

    /// Members that only private or symmetric keys have; a JWK carrying any of them is refused outright.
    package static let privateMembers = ["d", "p", "q", "dp", "dq", "qi", "oth", "k"]

    /// Parses a public JWK. `invalid_key` for private material and missing or undecodable members, `malformed`
    /// for a non-string `kid` or `alg`, `unsupported` for key types other than RSA, EC and OKP.
    package init(_ node: JSONNode) throws(JOSEError) {
        guard case .object = node.value else { throw JOSEError(.invalidKey, "a JWK must be an object") }
        for name in JWK.privateMembers where node[name] != nil {
            throw JOSEError(.invalidKey, "the JWK holds private member `\(name)`; only public keys are accepted")
        }
        keyID = try JOSEJSON.string(node, "kid", in: "JWK")
        algorithm = try JOSEJSON.string(node, "alg", in: "JWK")
        func bytes(_ name: String) throws(JOSEError) -> [UInt8] {
            guard let text = try JOSEJSON.string(node, name, in: "JWK"), let decoded = Base64URL.decode(text.utf8) else {
                throw JOSEError(.invalidKey, "the JWK's `\(name)` is missing or not base64url")
            }
            return decoded
        }
        func curve() throws(JOSEError) -> String {
            guard let curve = try JOSEJSON.string(node, "crv", in: "JWK") else { throw JOSEError(.invalidKey, "the JWK needs `crv`") }
            return curve
        }
        switch try JOSEJSON.string(node, "kty", in: "JWK") {
        case "RSA": parameters = .rsa(modulus: try bytes("n"), exponent: try bytes("e"))
        case "EC": parameters = .ec(curve: try curve(), x: try bytes("x"), y: try bytes("y"))
        case "OKP": parameters = .okp(curve: try curve(), x: try bytes("x"))
        case let other: throw JOSEError(.unsupported, "key type `\(other ?? "none")` is not a public key type handled here")
        }
    }

    /// Whether the JWK is declared for verification: not `use: enc`, and `key_ops` (when given) includes `verify`.
    package static func isForVerification(_ node: JSONNode) -> Bool {
        if node["use"]?.stringValue == "enc" { return false }
        if let operations = node["key_ops"] {
            guard case .array(let items) = operations.value else { return false }
            return items.contains { $0.stringValue == "verify" }
        }
        return true
    }
}
