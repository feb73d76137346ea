/// Why the broker refused a step of a key release: the one error type of `KBSBroker`.
///
/// `status` says which HTTP answer it maps to (the server decides the wire form); `code` is stable for scripts and
/// tests; `message` never holds a secret, a nonce or a token.
public struct BrokerError: Error, Sendable, Equatable, CustomStringConvertible {
    /// How a refusal maps onto HTTP.
    public enum Status: Int, Sendable {
        case badRequest = 400
        case unauthorized = 401
        case forbidden = 403
        case notFound = 404
        case conflict = 409
        case internalError = 500
        case unavailable = 503
    }

    public var status: Status
    public var code: String
    public var message: String

    /// Creates an error.
    public init(_ status: Status, _ code: String, _ message: String) {
        self.status = status
        self.code = code
        self.message = message
    }

    public var description: String { "\(code): \(message)" }

    static func badRequest(_ code: String, _ message: String) -> BrokerError { BrokerError(.badRequest, code, message) }
    static func unauthorized(_ code: String, _ message: String) -> BrokerError { BrokerError(.unauthorized, code, message) }
}
