/// Why a store operation failed: the one error type of `KBSStore`.
package struct StoreError: Error, CustomStringConvertible, Sendable {
    /// What kind of failure, for callers that map errors to responses.
    package enum Code: String, Sendable {
        /// The database could not be opened, migrated, read or written.
        case database
        /// The operation names an entity that does not exist.
        case notFound = "not_found"
        /// The arguments are unacceptable (empty ids, oversized values).
        case invalid
        /// The row belongs to the policy bundle's `entities.json`: change it there, not through the API.
        case bundleOwned = "bundle_owned"
    }

    package var code: Code
    package var message: String

    /// Creates an error.
    package init(_ code: Code, _ message: String) {
        self.code = code
        self.message = message
    }

    package var description: String { "\(code.rawValue): \(message)" }
}
