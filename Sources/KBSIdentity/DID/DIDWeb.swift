import Foundation
import KBSClaims

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
        let host = domain.replacingOccurrences(of: "%3A", with: ":").replacingOccurrences(of: "%3a", with: ":")
        guard !host.contains("%"), segments.dropFirst().allSatisfy({ !$0.contains("%2F") && !$0.contains("%2f") && $0 != ".." && $0 != "." })
        else { throw IdentityError(.malformed, "the did:web domain or path is encoded beyond a port") }
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
            if matches(entry["id"]?.stringValue) { authenticates = true; method = entry }
        }
        guard authenticates else { throw IdentityError(.verificationMethod, "`#\(fragment.prefix(60))` is not listed for authentication") }
        if method == nil { method = items(document["verificationMethod"]).first { matches($0["id"]?.stringValue) } }
        guard let method else { throw IdentityError(.verificationMethod, "the document has no verification method `#\(fragment.prefix(60))`") }
        guard method["controller"]?.stringValue == did else {
            throw IdentityError(.verificationMethod, "the verification method is controlled by another DID")
        }
        if let jwk = method["publicKeyJwk"] { return try JWK(jwk).key }
        if let multibase = method["publicKeyMultibase"]?.stringValue {
            return try DIDResolver.resolve("did:key:" + multibase).key
        }
        throw IdentityError(.unsupported, "the verification method has neither `publicKeyJwk` nor `publicKeyMultibase`")
    }
}
