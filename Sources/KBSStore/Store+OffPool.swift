import Dispatch
import KBSClaims

extension Store {
    /// Runs `body` on a dispatch queue and resumes with its result: SQLite calls block (on the disk, on another
    /// connection's lock), and a blocked thread of Swift's cooperative pool stalls every task scheduled on it.
    package func offPool<T: Sendable>(_ body: @escaping @Sendable (Store) throws(StoreError) -> T) async throws(StoreError) -> T {
        let result: Result<T, StoreError> = await withCheckedContinuation { continuation in
            Self.queue.async {
                continuation.resume(returning: Result { () throws(StoreError) in try body(self) })
            }
        }
        return try result.get()
    }

    /// Concurrent: WAL lets readers run beside the writer, and GRDB's pool serialises the writes.
    private static let queue = DispatchQueue(label: "kbs.store", qos: .userInitiated, attributes: .concurrent)
}
