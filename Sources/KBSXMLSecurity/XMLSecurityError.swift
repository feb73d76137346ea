/// Why the XML libraries could not be used: the one error type of `KBSXMLSecurity`.
///
/// Documents that do not parse and signatures that do not verify are answers (`nil`, an ``XMLSignatureVerdict``),
/// not errors; what is left is the process's own set-up, which callers report as their configuration.
package struct XMLSecurityError: Error, Sendable, Equatable, CustomStringConvertible {
    /// The stable reason codes.
    package enum Reason: String, Sendable {
        /// libxml2, xmlsec or its OpenSSL back end did not initialise.
        case unavailable
    }

    package var reason: Reason
    package var message: String

    /// Creates an error.
    package init(_ reason: Reason, _ message: String) {
        self.reason = reason
        self.message = message
    }

    package var description: String { "\(reason.rawValue): \(message)" }
}
