import KBSClaims

/// The cost of turning a passphrase into the key that seals the master key: scrypt with N = 2^`log2N`.
///
/// Stored in the sealed file, so the cost can be raised for new files without breaking old ones.
package struct ScryptParameters: Sendable, Hashable, Codable {
    /// log₂ of the CPU/memory cost N.
    package var log2N: Int
    /// The block size r.
    package var r: Int
    /// The parallelism p.
    package var p: Int

    /// Creates parameters; `validate()` checks them before use.
    package init(log2N: Int, r: Int, p: Int) {
        self.log2N = log2N
        self.r = r
        self.p = p
    }

    /// N = 2¹⁷, r = 8, p = 1: about 128 MiB and a fraction of a second per unseal (OWASP's scrypt recommendation).
    package static let standard = ScryptParameters(log2N: 17, r: 8, p: 1)

    /// Refuses parameters outside N 2¹⁰–2²², r 1–32, p 1–16, so a tampered file cannot ask for gigabytes.
    func validate() throws(KeyError) {
        guard (10...22).contains(log2N), (1...32).contains(r), (1...16).contains(p) else {
            throw KeyError(.invalidArgument, "scrypt parameters out of bounds (log2N \(log2N), r \(r), p \(p))")
        }
    }
}
