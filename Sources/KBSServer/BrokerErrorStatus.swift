import HTTPTypes
import KBSBroker

/// The one place a broker refusal becomes HTTP: its kind picks the status, its code and message go in the body.
enum BrokerErrorStatus {
    /// The status for each kind of refusal.
    static func status(_ kind: BrokerError.Kind) -> HTTPResponse.Status {
        switch kind {
        case .invalidRequest: .badRequest
        case .unauthenticated: .unauthorized
        case .forbidden: .forbidden
        case .notFound: .notFound
        case .conflict: .conflict
        case .failed: .internalServerError
        case .unavailable: .serviceUnavailable
        }
    }

    /// The refusal as the server's error.
    static func serverError(_ error: BrokerError) -> ServerError {
        ServerError(status(error.kind), error.code, error.message)
    }
}
