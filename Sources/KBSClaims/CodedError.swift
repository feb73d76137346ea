/// The shape of every target's one error type: a stable snake_case reason that scripts, tests and the wire compare,
/// and words for people that never hold a secret, a nonce or a token. Each target names its own
/// (`package typealias KeyError = CodedError<KeyErrorReason>`), so a `catch` still says which target refused.
package struct CodedError<Reason: RawRepresentable & Sendable & Hashable>: Error, Sendable, Equatable, CustomStringConvertible
where Reason.RawValue == String {
    package var reason: Reason
    package var message: String

    /// Creates an error.
    package init(_ reason: Reason, _ message: String) {
        self.reason = reason
        self.message = message
    }

    package var description: String { "\(reason.rawValue): \(message)" }
}
