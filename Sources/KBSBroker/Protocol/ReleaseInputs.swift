import KBSClaims
import Synchronization

/// The stored inputs of a release held in memory by ``ReleaseRevisions``: the resource by path, with its labels
/// parsed, and the reference values as the policy reads them.
///
/// An entry is used only by a release that read the same counter the entry was stamped with, and an entry is stamped
/// with the counter read *before* its rows were, so a change committed in between leaves it stale, never wrong. Every
/// change therefore takes effect on the next request, whichever process or replica made it.
final class ReleaseInputs: Sendable {
    /// A resource as a release reads it (nil: none at that path).
    struct Resource: Sendable {
        var stored: StoredResource?
        var labels: ClaimRecord
    }

    private struct Table {
        var resources: [String: (stamp: Int64, value: Resource)] = [:]
        var referenceValues: (stamp: Int64, value: ClaimRecord)?
    }

    /// Paths remembered at most; past that the table starts over (a release for a forgotten path reads its row).
    static let maximumResources = 4096
    private let table = Mutex(Table())

    init() {}

    /// The resource at `path` as of `stamp`, if remembered.
    func resource(_ path: String, at stamp: Int64) -> Resource? {
        table.withLock { table in
            guard let entry = table.resources[path], entry.stamp == stamp else { return nil }
            return entry.value
        }
    }

    /// Remembers the resource at `path`, read after the counter `stamp` was.
    func remember(_ resource: Resource, at path: String, stamp: Int64) {
        table.withLock { table in
            if table.resources.count >= Self.maximumResources && table.resources[path] == nil { table.resources.removeAll() }
            table.resources[path] = (stamp, resource)
        }
    }

    /// The reference values as of `stamp`, if remembered.
    func referenceValues(at stamp: Int64) -> ClaimRecord? {
        table.withLock { table in
            guard let entry = table.referenceValues, entry.stamp == stamp else { return nil }
            return entry.value
        }
    }

    /// Remembers the reference values, read after the counter `stamp` was.
    func remember(referenceValues: ClaimRecord, stamp: Int64) {
        table.withLock { $0.referenceValues = (stamp, referenceValues) }
    }
}
