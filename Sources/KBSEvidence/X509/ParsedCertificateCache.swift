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
    /// The last few arrays looked up, answered without hashing them again.
    private let recent = Mutex(RecentBytes<[Certificate]>())

    init(capacity: Int) { self.capacity = capacity }

    /// The certificates in `bytes`, parsed by `parse` the first time these bytes are seen.
    func certificates(
        in bytes: [UInt8], parse: ([UInt8]) throws(EvidenceError) -> [Certificate]
    ) throws(EvidenceError) -> [Certificate] {
        if let known = recent.withLock({ $0.value(of: bytes, domain: "") }) { return known }
        let digest = SHA256.hash(data: bytes)
        var certificates = entries.withLock { $0[digest] }
        if certificates == nil {
            let parsed = try parse(bytes)
            entries.withLock { entries in
                if entries.count >= capacity { entries.removeAll(keepingCapacity: true) }
                entries[digest] = parsed
            }
            certificates = parsed
        }
        let found = certificates ?? []
        recent.withLock { $0.remember(found, of: bytes, domain: "") }
        return found
    }
}
