package import KBSClaims

/// A JWS in compact serialization (RFC 7515 §7.1), split and decoded strictly, not yet verified.
package struct CompactJWS {
    /// Largest token accepted unless the caller says otherwise.
    package static let maximumBytes = 16 * 1024

    package var header: JSONNode
    package var payload: [UInt8]
    /// `BASE64URL(header) . BASE64URL(payload)` exactly as received: what the signature covers.
    package var signingInput: [UInt8]
    package var signature: [UInt8]

    /// Splits `token` (trailing line breaks from a file are dropped first); tokens over `maximumBytes` are refused
    /// before any decoding.
    package init(_ token: [UInt8], maximumBytes: Int = CompactJWS.maximumBytes) throws(JOSEError) {
        var token = token[...]
        while let last = token.last, last == 0x0A || last == 0x0D { token = token.dropLast() }
        guard token.count <= maximumBytes else {
            throw JOSEError(.malformed, "the token exceeds \(maximumBytes) bytes")
        }
        let parts = token.split(separator: UInt8(ascii: "."), omittingEmptySubsequences: false)
        guard parts.count == 3 else {
            throw JOSEError(.malformed, "a compact JWS has three dot-separated parts, this has \(parts.count)")
        }
        guard let headerBytes = Base64URL.decode(parts[0]), let payload = Base64URL.decode(parts[1]),
            let signature = Base64URL.decode(parts[2])
        else { throw JOSEError(.malformed, "a part is not unpadded base64url") }
        header = try JOSEJSON.object(headerBytes, what: "JOSE header")
        self.payload = payload
        self.signature = signature
        signingInput = Array(token[parts[0].startIndex..<parts[1].endIndex])
    }

    /// The header's `alg`, refused unless it is one of `allowed`: `none` (any casing) and HMAC never are.
    package func algorithm(allowed: Set<JWSAlgorithm>) throws(JOSEError) -> JWSAlgorithm {
        guard let name = header["alg"]?.stringValue else { throw JOSEError(.malformed, "the JOSE header has no string `alg`") }
        guard let algorithm = JWSAlgorithm(rawValue: name), allowed.contains(algorithm) else {
            throw JOSEError(.algorithm, "algorithm `\(name)` is not accepted here")
        }
        return algorithm
    }

    /// Refuses header members that would let the token choose its own key, and critical extensions.
    package func checkHeaderKeySources() throws(JOSEError) {
        for name in ["jwk", "jku", "x5u", "x5c"] where header[name] != nil {
            throw JOSEError(.untrustedKey, "the header carries `\(name)`: keys come from configuration, never from the token")
        }
        if header["crit"] != nil {
            // No extension is understood here, so any `crit` must be refused (RFC 7515 §4.1.11).
            throw JOSEError(.critical, "the header marks extensions critical that this verifier does not understand")
        }
    }

    /// The header's `kid`, when present (it must be a string).
    package func keyID() throws(JOSEError) -> String? {
        try JOSEJSON.string(header, "kid", in: "JOSE header")
    }

    /// Checks the signature with `key` under `algorithm` (which the caller took from ``algorithm(allowed:)``).
    package func verify(_ algorithm: JWSAlgorithm, with key: VerificationKey) throws(JOSEError) {
        try algorithm.verify(signature, over: signingInput, with: key)
    }

    /// The compact serialization of `payload` under `header`, signed with `key`.
    ///
    /// The header's bytes are used as given, so a caller that writes them with `JSONWriter` controls the exact
    /// encoding; its `alg` must name `algorithm`, since a verifier reads the algorithm from there.
    package static func sign(header: [UInt8], payload: [UInt8], algorithm: JWSAlgorithm, with key: JWSSigningKey) throws(JOSEError) -> String {
        guard try JOSEJSON.object(header, what: "JOSE header")["alg"]?.stringValue == algorithm.rawValue else {
            throw JOSEError(.algorithm, "the header's `alg` is not \(algorithm.rawValue)")
        }
        let input = Base64URL.encode(header) + "." + Base64URL.encode(payload)
        return input + "." + Base64URL.encode(try algorithm.sign(Array(input.utf8), with: key))
    }
}
