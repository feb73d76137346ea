package import KBSClaims

/// Why a store operation failed: the one error type of `KBSStore`.
package typealias StoreError = CodedError<StoreErrorCode>

/// What kind of failure, for callers that map errors to responses.
package enum StoreErrorCode: String, Sendable {
    /// The database could not be opened, migrated, read or written.
    case database
    /// The operation names an entity that does not exist.
    case notFound = "not_found"
    /// The arguments are unacceptable (empty ids, oversized values).
    case invalid
    /// The row belongs to the policy bundle's `entities.json`: change it there, not through the API.
    case bundleOwned = "bundle_owned"
}

extension StoreError {
    /// The reason, by the name the store's callers use.
    package var code: StoreErrorCode { reason }
}
