package import HTTPTypes
package import Hummingbird
import KBSPolicy

/// Why the server refused a request or could not start: the one error type of `KBSServer`.
///
/// As an HTTP response it is a JSON body `{"error": {"code", "message"}}` with the status it carries.
package struct ServerError: Error, HTTPResponseError, CustomStringConvertible, Sendable {
    package var status: HTTPResponse.Status
    /// A stable, machine-readable code such as `invalid_json` or `unauthorized`.
    package var code: String
    package var message: String

    /// Creates an error.
    package init(_ status: HTTPResponse.Status, _ code: String, _ message: String) {
        self.status = status
        self.code = code
        self.message = message
    }

    package var description: String { "\(code): \(message)" }

    package func response(from request: Request, context: some RequestContext) throws -> Response {
        jsonResponse()
    }

    /// The error as a JSON response.
    func jsonResponse() -> Response {
        var headers: HTTPFields = [.contentType: "application/json"]
        if status == .unauthorized { headers[.wwwAuthenticate] = "Bearer realm=\"kbs-admin\"" }
        let body = "{\"error\":{\"code\":\(JSONText.quote(code)),\"message\":\(JSONText.quote(message))}}"
        return Response(status: status, headers: headers, body: .init(byteBuffer: ByteBuffer(string: body)))
    }

    static func badRequest(_ code: String, _ message: String) -> ServerError { ServerError(.badRequest, code, message) }
    static func notFound(_ message: String) -> ServerError { ServerError(.notFound, "not_found", message) }
}
