import Foundation
import KBSClaims

#if canImport(FoundationNetworking)
    import FoundationNetworking
#endif

/// One HTTP exchange with Infisical: builds the URL, sends JSON, and returns the status and body.
///
/// Failures to reach the server become `storage` errors; what a status means is the caller's business. Nothing here
/// logs, and error messages carry the route and Infisical's own message, never a header or a body.
struct InfisicalHTTP: Sendable {
    let baseURL: URL
    let session: URLSession

    struct Response {
        var status: Int
        var body: Data
    }

    /// A session that keeps nothing on disk (no cache, no cookies) and gives up on a silent server.
    static func makeSession() -> URLSession {
        let configuration = URLSessionConfiguration.ephemeral
        configuration.urlCache = nil
        configuration.httpCookieStorage = nil
        configuration.requestCachePolicy = .reloadIgnoringLocalCacheData
        configuration.timeoutIntervalForRequest = 30
        return URLSession(configuration: configuration)
    }

    /// Sends `method` to the API route made of `segments` (each percent-encoded), with `query` and a JSON `body`.
    func send(
        _ method: String,
        _ segments: [String],
        query: [URLQueryItem] = [],
        body: Data? = nil,
        token: String? = nil
    ) async throws(KeyError) -> Response {
        let request = try makeRequest(method, segments, query: query, body: body, token: token)
        do {
            let (data, response) = try await session.data(for: request)
            guard let http = response as? HTTPURLResponse else {
                throw KeyError(.storage, "Infisical at \(host) answered \(method) \(route(segments)) without HTTP")
            }
            return Response(status: http.statusCode, body: data)
        } catch let error as KeyError {
            throw error
        } catch {
            let problem = Self.describe(error)
            throw KeyError(.storage, "Infisical at \(host) is unreachable for \(method) \(route(segments)): \(problem)")
        }
    }

    private func makeRequest(
        _ method: String,
        _ segments: [String],
        query: [URLQueryItem],
        body: Data?,
        token: String?
    ) throws(KeyError) -> URLRequest {
        var allowed = CharacterSet.urlPathAllowed
        allowed.remove(charactersIn: "/;")
        var components = URLComponents(url: baseURL, resolvingAgainstBaseURL: false)
        var path = components?.percentEncodedPath ?? ""
        while path.hasSuffix("/") { path.removeLast() }
        for segment in segments {
            guard let encoded = segment.addingPercentEncoding(withAllowedCharacters: allowed), !segment.isEmpty else {
                throw KeyError(.invalidArgument, "\(segment.debugDescription) cannot be part of an Infisical URL")
            }
            path += "/" + encoded
        }
        components?.percentEncodedPath = path
        components?.queryItems = query.isEmpty ? nil : query
        guard let url = components?.url else {
            throw KeyError(.invalidArgument, "cannot make an Infisical URL from \(baseURL.absoluteString)")
        }
        var request = URLRequest(url: url)
        request.httpMethod = method
        request.setValue("application/json", forHTTPHeaderField: "Accept")
        if let body {
            request.setValue("application/json", forHTTPHeaderField: "Content-Type")
            request.httpBody = body
        }
        if let token { request.setValue("Bearer \(token)", forHTTPHeaderField: "Authorization") }
        return request
    }

    private var host: String { baseURL.host ?? baseURL.absoluteString }

    /// The route for messages: the path without the query (the query holds only ids and names, but stays short).
    func route(_ segments: [String]) -> String { "/" + segments.joined(separator: "/") }

    /// A transport error in words, without the request (URLError's description can include the full URL).
    private static func describe(_ error: any Error) -> String {
        if let error = error as? URLError { return "URLError \(error.code.rawValue)" }
        return String(describing: type(of: error))
    }
}

/// Overwrites the bytes of `data`, every holder's view included, once a request that carried a secret is done.
///
/// `Data` is copy-on-write: mutating it through `withUnsafeMutableBytes` while URLRequest still shares the buffer would
/// copy it first and wipe only the copy. Writing through the shared pointer reaches the one buffer everyone holds; by
/// then the exchange is over, so nothing reads it any more.
func scrub(_ data: Data) {
    data.withUnsafeBytes { bytes in
        guard let base = bytes.baseAddress, bytes.count > 0 else { return }
        wipe(UnsafeMutableRawBufferPointer(start: UnsafeMutableRawPointer(mutating: base), count: bytes.count))
    }
}
