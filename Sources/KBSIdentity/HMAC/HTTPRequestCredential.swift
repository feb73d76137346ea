import Foundation
import KBSClaims

/// An HTTP request as the `hmac` credential file gives it: `{"method", "target_uri", "headers": [[name, value]…],
/// "body"}`.
struct HTTPRequestCredential {
    var method: String
    var scheme: String
    /// `host[:port]`, lower-cased, default port left out.
    var authority: String
    /// The path as sent (percent-encoding kept), `/` when empty.
    var path: String
    /// The query as sent, without `?`, or nil.
    var query: String?
    var targetURI: String
    var headers: [(name: String, value: String)]
    var body: [UInt8]?

    init(_ bytes: [UInt8]) throws(IdentityError) {
        let root = try CredentialJSON.object(bytes, what: "request")
        guard let method = try CredentialJSON.string(root, "method", in: "request"), !method.isEmpty,
            let target = try CredentialJSON.string(root, "target_uri", in: "request"),
            let headerList = root["headers"], case .array(let items) = headerList.value
        else { throw IdentityError(.malformed, "the request needs `method`, `target_uri` and `headers`") }
        self.method = method
        targetURI = target
        headers = []
        for item in items {
            guard case .array(let pair) = item.value, pair.count == 2, let name = pair[0].stringValue, let value = pair[1].stringValue else {
                throw IdentityError(.malformed, "each header is a [name, value] pair of strings")
            }
            headers.append((name.lowercased(), value))
        }
        body = try CredentialJSON.string(root, "body", in: "request").map { Array($0.utf8) }
        guard let schemeEnd = target.range(of: "://") else { throw IdentityError(.malformed, "`target_uri` is not an absolute URI") }
        scheme = target[..<schemeEnd.lowerBound].lowercased()
        let afterScheme = target[schemeEnd.upperBound...]
        let authorityEnd = afterScheme.firstIndex { $0 == "/" || $0 == "?" || $0 == "#" } ?? afterScheme.endIndex
        var authority = afterScheme[..<authorityEnd].lowercased()
        guard !authority.isEmpty, !authority.contains("@") else { throw IdentityError(.malformed, "`target_uri` has no usable authority") }
        if (scheme == "https" && authority.hasSuffix(":443")) || (scheme == "http" && authority.hasSuffix(":80")) {
            authority = String(authority[..<authority.lastIndex(of: ":")!])
        }
        self.authority = authority
        var remainder = afterScheme[authorityEnd...]
        if let fragment = remainder.firstIndex(of: "#") { remainder = remainder[..<fragment] }
        if let mark = remainder.firstIndex(of: "?") {
            path = String(remainder[..<mark])
            query = String(remainder[remainder.index(after: mark)...])
        } else {
            path = String(remainder)
            query = nil
        }
        if path.isEmpty { path = "/" }
    }

    /// The lines of one header field, in order.
    func values(_ name: String) -> [String] {
        headers.filter { $0.name == name }.map(\.value)
    }
}
