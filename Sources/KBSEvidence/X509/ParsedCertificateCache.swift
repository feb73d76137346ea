import Crypto
import Synchronization

/// Certificates already parsed, by the SHA-256 of the bytes they came in, so that trust-anchor bundles and endorsement
/// files handed to every verification are parsed once. A parsed ``Certificate`` is immutable, so sharing it is safe;
/// bytes that do not parse are not remembered.
///
/// Bounded: when full, it is emptied (anchor and endorsement files are few; a full cache means churn, not reuse).
final class ParsedCertificateCache: Sendable {
    static let shared = ParsedCertificateCache(capacity: 1024)

    let capacity: Int
    private let entries = Mutex<[SHA256.Digest: [Certificate]]>([:])

    init(capacity: Int) { self.capacity = capacity }

    /// The certificates in `bytes`, parsed by `parse` the first time these bytes are seen.
    func certificates(
        in bytes: [UInt8], parse: ([UInt8]) throws(EvidenceError) -> [Certificate]
    ) throws(EvidenceError) -> [Certificate] {
        let digest = SHA256.hash(data: bytes)
        if let known = entries.withLock({ $0[digest] }) { return known }
        let parsed = try parse(bytes)
        entries.withLock { entries in
            if entries.count >= capacity { entries.removeAll(keepingCapacity: true) }
            entries[digest] = parsed
        }
        return parsed
    }
}
