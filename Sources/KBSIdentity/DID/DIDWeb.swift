import Foundation
import KBSClaims
import KBSJOSE

/// `did:web`: the DID document is fetched over HTTPS from the domain the DID names (did:web method spec §3.2),
/// then the proof's verification method is looked up in it.
///
/// The document must be about this DID (`id`), the method must be controlled by it and listed under
/// `authentication`; keys come as `publicKeyJwk` (no private members) or `publicKeyMultibase` (did:key's
/// multicodec encoding). The fetcher's policy keeps the DID from pointing the broker at internal addresses.
enum DIDWeb {
    /// The HTTPS URL of the DID document: `did:web:example.com` → `https://example.com/.well-known/did.json`,
    /// `did:web:example.com%3A8443:user:alice` → `https://example.com:8443/user/alice/did.json`.
    static func documentURL(_ did: String) throws(IdentityError) -> String {
        guard did.hasPrefix("did:web:"), did.utf8.count <= 2048 else { throw IdentityError(.malformed, "`\(did.prefix(60))` is not a did:web") }
        let segments = did.dropFirst("did:web:".count).split(separator: ":", omittingEmptySubsequences: false)
        let allowed: (Character) -> Bool = { $0.isASCII && ($0.isLetter || $0.isNumber || "-._~%".contains($0)) }
        guard let domain = segments.first, !domain.isEmpty, segments.allSatisfy({ !$0.isEmpty && $0.allSatisfy(allowed) }) else {
            throw IdentityError(.malformed, "`\(did.prefix(60))` is not a did:web")
        }
        // Only the port separator may be percent-encoded in the domain; anything else would smuggle a path or user.
        let hostParts = domain.replacingOccurrences(of: "%3a", with: "%3A").components(separatedBy: "%3A")
        guard hostParts.count <= 2, !hostParts[0].contains("%"), !hostParts[0].isEmpty else {
            throw IdentityError(.malformed, "the did:web domain is encoded beyond a port")
        }
        if hostParts.count == 2 {
            guard (1...5).contains(hostParts[1].count), hostParts[1].allSatisfy({ $0.isASCII && $0.isNumber }),
                let port = Int(hostParts[1]), (1...65535).contains(port)
            else { throw IdentityError(.malformed, "the did:web port is not a port number") }
        }
        // did:web §3.2: the domain is a name, never an IP address.
        guard AddressPolicy.ipv4(hostParts[0]) == nil, !hostParts[0].allSatisfy({ $0.isNumber || $0 == "." }) else {
            throw IdentityError(.malformed, "a did:web domain is a name, not an IP address")
        }
        let host = hostParts.joined(separator: ":")
        // Encoded slashes and dots would let a segment climb out of its path once a server decodes it.
        for segment in segments.dropFirst() {
            let lowered = segment.lowercased()
            guard !lowered.contains("%2f"), !lowered.contains("%2e"), !lowered.contains("%5c"), segment != "..", segment != "." else {
                throw IdentityError(.malformed, "a did:web path segment encodes a slash or a dot segment")
            }
        }
        let path = segments.count == 1 ? "/.well-known" : "/" + segments.dropFirst().joined(separator: "/")
        return "https://" + host + path + "/did.json"
    }

    /// The key of the verification method `#fragment` of `did`'s document.
    static func resolve(_ did: String, fragment: Substring, fetcher: any DocumentFetcher) async throws(IdentityError) -> VerificationKey {
        let url = try documentURL(did)
        let document = try CredentialJSON.object(try await fetcher.fetch(url), what: "DID document")
        guard document["id"]?.stringValue == did else {
            throw IdentityError(.untrustedKey, "the document at \(url) is not about \(did.prefix(100))")
        }
        let wanted = did + "#" + fragment
        func matches(_ id: String?) -> Bool { id == wanted || id == "#" + fragment }
        func items(_ node: JSONNode?) -> [JSONNode] {
            if case .array(let list)? = node?.value { return list }
            return []
        }

        var method: JSONNode?
        var authenticates = false
        for entry in items(document["authentication"]) {
            if let reference = entry.stringValue, matches(reference) { authenticates = true }
            if matches(entry["id"]?.stringValue) {
                authenticates = true
                method = entry
            }
        }
        guard authenticates else { throw IdentityError(.verificationMethod, "`#\(fragment.prefix(60))` is not listed for authentication") }
        if method == nil { method = items(document["verificationMethod"]).first { matches($0["id"]?.stringValue) } }
        guard let method else { throw IdentityError(.verificationMethod, "the document has no verification method `#\(fragment.prefix(60))`") }
        guard method["controller"]?.stringValue == did else {
            throw IdentityError(.verificationMethod, "the verification method is controlled by another DID")
        }
        if let jwk = method["publicKeyJwk"] {
            guard jwk["use"]?.stringValue != "enc" else { throw IdentityError(.invalidKey, "the verification method's key is for encryption") }
            do throws(JOSEError) { return try VerificationKey(try JWK(jwk)) } catch { throw IdentityError(error) }
        }
        if let multibase = method["publicKeyMultibase"]?.stringValue {
            return try DIDResolver.resolve("did:key:" + multibase).key
        }
        throw IdentityError(.unsupported, "the verification method has neither `publicKeyJwk` nor `publicKeyMultibase`")
    }
}
