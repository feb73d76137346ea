import KBSClaims

/// A JWS in compact serialization (RFC 7515 §7.1), split and decoded strictly, not yet verified.
struct CompactJWS {
    /// Largest token accepted.
    static let maximumBytes = 16 * 1024

    var header: JSONNode
    var payload: [UInt8]
    /// `BASE64URL(header) . BASE64URL(payload)` exactly as received: what the signature covers.
    var signingInput: [UInt8]
    var signature: [UInt8]

    /// Splits `token` (trailing line breaks from a file are dropped first).
    init(_ token: [UInt8]) throws(IdentityError) {
        var token = token[...]
        while let last = token.last, last == 0x0A || last == 0x0D { token = token.dropLast() }
        guard token.count <= CompactJWS.maximumBytes else {
            throw IdentityError(.malformed, "the token exceeds \(CompactJWS.maximumBytes) bytes")
        }
        let parts = token.split(separator: UInt8(ascii: "."), omittingEmptySubsequences: false)
        guard parts.count == 3 else {
            throw IdentityError(.malformed, "a compact JWS has three dot-separated parts, this has \(parts.count)")
        }
        guard let headerBytes = Base64URL.decode(parts[0]), let payload = Base64URL.decode(parts[1]),
            let signature = Base64URL.decode(parts[2])
        else { throw IdentityError(.malformed, "a part is not unpadded base64url") }
        header = try CredentialJSON.object(headerBytes, what: "JOSE header")
        self.payload = payload
        self.signature = signature
        signingInput = Array(token[parts[0].startIndex..<parts[1].endIndex])
    }

    /// The header's `alg`, refused unless it is one of `allowed`: `none` (any casing) and HMAC never are.
    func algorithm(allowed: Set<JWSAlgorithm>) throws(IdentityError) -> JWSAlgorithm {
        guard let name = header["alg"]?.stringValue else { throw IdentityError(.malformed, "the JOSE header has no string `alg`") }
        guard let algorithm = JWSAlgorithm(rawValue: name), allowed.contains(algorithm) else {
            throw IdentityError(.algorithm, "algorithm `\(name)` is not accepted here")
        }
        return algorithm
    }

    /// Refuses header members that would let the token choose its own key, and critical extensions.
    func checkHeaderKeySources() throws(IdentityError) {
        for name in ["jwk", "jku", "x5u", "x5c"] where header[name] != nil {
            throw IdentityError(.untrustedKey, "the header carries `\(name)`: keys come from configuration, never from the token")
        }
        if header["crit"] != nil {
            // No extension is understood here, so any `crit` must be refused (RFC 7515 §4.1.11).
            throw IdentityError(.critical, "the header marks extensions critical that this verifier does not understand")
        }
    }

    /// The header's `kid`, when present (it must be a string).
    func keyID() throws(IdentityError) -> String? {
        try CredentialJSON.string(header, "kid", in: "JOSE header")
    }
}
