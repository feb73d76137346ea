/// Why the broker refused a step: the one error type of `KBSBroker`.
///
/// `kind` says what sort of refusal it is, independent of any transport (the server maps each kind to an HTTP status in
/// one table); `code` is a stable snake_case name for scripts and tests; `message` never holds a secret, a nonce or a
/// token.
package struct BrokerError: Error, Sendable, Equatable, CustomStringConvertible {
    /// What sort of refusal: the caller's input, its credentials, the policy, or the broker's own dependencies.
    package enum Kind: Sendable, Hashable, CaseIterable {
        /// The request is malformed or asks for something this broker does not do.
        case invalidRequest
        /// No credential, session or attestation, or one that does not verify.
        case unauthenticated
        /// The caller is known and the answer is no: the policy, a capability, a key's state.
        case forbidden
        /// Nothing by that name.
        case notFound
        /// The request conflicts with the current state (a key that exists, a record changed meanwhile).
        case conflict
        /// The broker failed where it should not (a token or JWE it cannot build).
        case failed
        /// A dependency is out of reach (the store, the audit log, the key service); trying again may work.
        case unavailable
    }

    package var kind: Kind
    package var code: String
    package var message: String

    /// Creates an error.
    package init(_ kind: Kind, _ code: String, _ message: String) {
        self.kind = kind
        self.code = code
        self.message = message
    }

    package var description: String { "\(code): \(message)" }

    static func badRequest(_ code: String, _ message: String) -> BrokerError { BrokerError(.invalidRequest, code, message) }
    static func unauthorized(_ code: String, _ message: String) -> BrokerError { BrokerError(.unauthenticated, code, message) }
}
