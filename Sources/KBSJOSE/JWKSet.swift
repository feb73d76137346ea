import KBSClaims

/// A JWK Set (RFC 7517 §5): the keys of one issuer. Entries that fail to parse are kept with their error, so a token
/// naming such a key is refused for that reason (a 1024-bit RSA key is `weak_key`, not an unknown key).
package struct JWKSet: Sendable {
    /// One member of the set, ready to verify with.
    package struct Key: Sendable {
        /// The JWK's own `alg`, which the token's header must then equal.
        package var algorithm: String?
        package var key: VerificationKey
    }

    package var entries: [(keyID: String?, key: Result<Key, JOSEError>)]

    /// Parses `{"keys": [...]}`, keeping the members declared for verification; `malformed` when the document
    /// itself is unusable.
    package init(json bytes: [UInt8]) throws(JOSEError) {
        let root = try JOSEJSON.object(bytes, what: "JWK Set")
        guard let keys = root["keys"], case .array(let items) = keys.value else {
            throw JOSEError(.malformed, "a JWK Set is an object with a `keys` array")
        }
        entries = []
        for item in items where JWK.isForVerification(item) {
            let keyID = item["kid"]?.stringValue
            do throws(JOSEError) {
                let jwk = try JWK(item)
                entries.append((keyID, .success(Key(algorithm: jwk.algorithm, key: try VerificationKey(jwk)))))
            } catch {
                entries.append((keyID, .failure(error)))
            }
        }
    }

    /// The key a token's `kid` names, compared as an exact opaque string; with no `kid`, the only key there is.
    package func key(for keyID: String?) -> Result<Key, JOSEError>? {
        if let keyID { return entries.first { $0.keyID == keyID }?.key }
        return entries.count == 1 ? entries[0].key : nil
    }
}
