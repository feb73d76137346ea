import Foundation
import KBSClaims

/// Gets a document (a JWK Set, an OpenID discovery document, a DID document) by HTTPS URL.
///
/// Verifiers never open connections themselves: a fetcher is passed in, so tests and air-gapped deployments
/// serve documents from files, and ``HTTPSFetcher`` applies one network policy to every fetch.
package protocol DocumentFetcher: Sendable {
    /// The body of `url`; a `fetch` error when it cannot be had within the fetcher's policy.
    func fetch(_ url: String) async throws(IdentityError) -> [UInt8]
}

/// Serves documents from local files by URL: `{"<https URL>": "<path relative to the map>"}`. For tests, and for
/// deployments that mirror their IdPs' documents instead of letting the broker reach out.
package struct FileDocumentFetcher: DocumentFetcher {
    private let files: [String: String]

    /// Reads the URL map at `path`.
    package init(mapPath path: String) throws(IdentityError) {
        guard let data = FileManager.default.contents(atPath: path) else {
            throw IdentityError(.configuration, "cannot read the document map \(path)")
        }
        let root: JSONNode
        do throws(IdentityError) { root = try CredentialJSON.object(Array(data), what: "document map") } catch {
            throw IdentityError(.configuration, error.message)
        }
        guard case .object(let members) = root.value else { throw IdentityError(.configuration, "the document map is not an object") }
        let base = (path as NSString).deletingLastPathComponent
        var files: [String: String] = [:]
        for (url, node) in members {
            guard let file = node.stringValue else { throw IdentityError(.configuration, "the document map's values are file paths") }
            files[url] = file.hasPrefix("/") ? file : base + "/" + file
        }
        self.files = files
    }

    package func fetch(_ url: String) async throws(IdentityError) -> [UInt8] {
        // The same scheme rule as the network: a mirrored document is still only ever an https one.
        guard url.lowercased().hasPrefix("https://") else { throw IdentityError(.fetch, "only https URLs are fetched") }
        guard let path = files[url], let data = FileManager.default.contents(atPath: path) else {
            throw IdentityError(.fetch, "no document for \(url.prefix(200))")
        }
        return Array(data)
    }
}
