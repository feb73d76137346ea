/// The root of the hierarchy: wraps and unwraps key-encryption keys with a master key that never leaves it.
///
/// The local sealed-file provider (`LocalMasterKeyProvider`) is the embedded default; PKCS#11 and Infisical
/// providers implement the same two calls. `context` is bound to the wrapped bytes as additional data (the KEK's
/// id and version), so wrapped material cannot be moved to another record.
package protocol MasterKeyProvider: Sendable {
    /// A stable name for the master key; wrapped KEKs carry it in their envelope header.
    var masterKeyID: String { get }
    /// Wraps `key` under the master key.
    func wrap(_ key: borrowing SecretBytes, context: [UInt8]) async throws -> [UInt8]
    /// Unwraps what `wrap` returned for the same `context`; fails with `integrity` if anything differs.
    func unwrap(_ wrapped: [UInt8], context: [UInt8]) async throws -> SecretBytes
}
