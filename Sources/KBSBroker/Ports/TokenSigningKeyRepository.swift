import Synchronization

/// An attestation-token signing key as the store keeps it: its `kid`, the P-256 private key sealed by the key
/// hierarchy (AAD `token-signing-key:<kid>`), and when it was made (seconds since 1970).
package struct StoredTokenSigningKey: Sendable, Equatable {
    package var keyID: String
    package var sealedPrivateKey: [UInt8]
    package var createdAt: Int64

    /// Creates a row.
    package init(keyID: String, sealedPrivateKey: [UInt8], createdAt: Int64) {
        self.keyID = keyID
        self.sealedPrivateKey = sealedPrivateKey
        self.createdAt = createdAt
    }
}

/// Where attestation-token signing keys are kept, so a token outlives a restart and verifies on every replica that
/// shares the store.
package protocol TokenSigningKeyRepository: Sendable {
    /// Every key, oldest first.
    func signingKeys() async throws -> [StoredTokenSigningKey]
    /// Adds a key; a key with the same id is an error.
    func addSigningKey(_ key: StoredTokenSigningKey) async throws
    /// Removes the keys made before `time`; how many went.
    func removeSigningKeys(createdBefore time: Int64) async throws -> Int
}

/// Signing keys in this process's memory: for brokers without a store (tests, the fuzz harness), whose tokens end
/// with the process.
package final class InMemoryTokenSigningKeys: TokenSigningKeyRepository {
    private let keys = Mutex<[StoredTokenSigningKey]>([])

    /// Creates an empty repository.
    package init() {}

    package func signingKeys() async throws -> [StoredTokenSigningKey] { keys.withLock { $0 } }

    package func addSigningKey(_ key: StoredTokenSigningKey) async throws {
        try keys.withLock { (keys: inout [StoredTokenSigningKey]) throws(BrokerError) in
            guard !keys.contains(where: { $0.keyID == key.keyID }) else {
                throw BrokerError(.unavailable, "store_unavailable", "a token signing key \(key.keyID) exists")
            }
            keys.append(key)
        }
    }

    package func removeSigningKeys(createdBefore time: Int64) async throws -> Int {
        keys.withLock { keys in
            let before = keys.count
            keys.removeAll { $0.createdAt < time }
            return before - keys.count
        }
    }
}
