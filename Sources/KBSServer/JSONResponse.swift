import HTTPTypes
import Hummingbird
import NIOCore

/// Responses carrying JSON text.
enum JSONResponse {
    static func make(_ text: String, status: HTTPResponse.Status = .ok, headers extra: HTTPFields = [:]) -> Response {
        var headers: HTTPFields = [.contentType: "application/json"]
        headers.append(contentsOf: extra)
        return Response(status: status, headers: headers, body: .init(byteBuffer: ByteBuffer(string: text)))
    }
}

extension Request {
    /// The whole body, refusing one larger than `limit` bytes with 413.
    mutating func bodyBytes(limit: Int) async throws(ServerError) -> [UInt8] {
        do {
            let buffer = try await body.collect(upTo: limit)
            return Array(buffer.readableBytesView)
        } catch is NIOTooManyBytesError {
            throw ServerError(.contentTooLarge, "body_too_large", "the request body exceeds \(limit) bytes")
        } catch {
            throw ServerError(.badRequest, "unreadable_body", "the request body could not be read")
        }
    }
}
