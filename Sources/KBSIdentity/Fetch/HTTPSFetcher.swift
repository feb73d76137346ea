import Foundation
import KBSClaims

#if canImport(FoundationNetworking)
    import FoundationNetworking
#endif

/// Fetches documents over HTTPS with one policy: `https` only, public addresses only (``AddressPolicy``), no
/// redirects, no cookies or cache, a 5 s timeout and a size limit.
///
/// The address check runs before the request; the TLS connection then resolves the name again, so a DNS answer
/// that changes in between (rebinding) is not excluded. Deployments that cannot accept that mirror documents
/// with ``FileDocumentFetcher``.
package final class HTTPSFetcher: DocumentFetcher {
    /// Largest document accepted.
    package let maximumBytes: Int
    private let session: URLSession

    /// Creates a fetcher.
    package init(maximumBytes: Int = 256 * 1024, timeoutSeconds: Double = 5) {
        self.maximumBytes = maximumBytes
        let configuration = URLSessionConfiguration.ephemeral
        configuration.timeoutIntervalForRequest = timeoutSeconds
        configuration.timeoutIntervalForResource = timeoutSeconds
        configuration.httpCookieAcceptPolicy = .never
        configuration.httpShouldSetCookies = false
        configuration.urlCache = nil
        configuration.requestCachePolicy = .reloadIgnoringLocalCacheData
        session = URLSession(configuration: configuration, delegate: RefuseRedirects(), delegateQueue: nil)
    }

    deinit { session.finishTasksAndInvalidate() }

    package func fetch(_ url: String) async throws(IdentityError) -> [UInt8] {
        let target = try Self.check(url)
        var request = URLRequest(url: target)
        request.setValue("application/json", forHTTPHeaderField: "Accept")
        let data: Data
        let response: URLResponse
        do {
            (data, response) = try await session.data(for: request)
        } catch {
            throw IdentityError(.fetch, "\(target.host ?? "?"): \(error.localizedDescription)")
        }
        guard let http = response as? HTTPURLResponse else { throw IdentityError(.fetch, "not an HTTP response") }
        guard http.statusCode == 200 else { throw IdentityError(.fetch, "\(target.host ?? "?") answered \(http.statusCode)") }
        guard data.count <= maximumBytes else { throw IdentityError(.fetch, "the document is over \(maximumBytes) bytes") }
        return Array(data)
    }

    /// The URL if it is `https`, has no credentials and names a public host; otherwise a `fetch` error.
    static func check(_ text: String) throws(IdentityError) -> URL {
        guard let url = URL(string: text), let components = URLComponents(url: url, resolvingAgainstBaseURL: false) else {
            throw IdentityError(.fetch, "`\(text.prefix(200))` is not a URL")
        }
        guard components.scheme?.lowercased() == "https" else { throw IdentityError(.fetch, "only https URLs are fetched") }
        guard components.user == nil, components.password == nil else { throw IdentityError(.fetch, "URLs with credentials are refused") }
        guard let host = components.host, !host.isEmpty else { throw IdentityError(.fetch, "the URL has no host") }
        try AddressPolicy.check(host: host)
        return url
    }

    /// Refuses every redirect: a document that moved is fetched from where the configuration says, or not at all.
    private final class RefuseRedirects: NSObject, URLSessionTaskDelegate, @unchecked Sendable {
        func urlSession(
            _ session: URLSession, task: URLSessionTask, willPerformHTTPRedirection response: HTTPURLResponse,
            newRequest request: URLRequest, completionHandler: @escaping (URLRequest?) -> Void
        ) {
            completionHandler(nil)
        }
    }
}
