import Foundation

/// A resource as stored: its sealed value and what the policy reads about it.
package struct StoredResource: Sendable, Equatable {
    /// `repo/type/tag`.
    package var path: String
    /// The value as the key hierarchy sealed it; opaque to the store.
    package var sealed: [UInt8]
    package var requiredTier: Int
    /// The labels as a JSON object of strings.
    package var labelsJSON: String
    /// Milliseconds since 1970.
    package var createdAt: Int64
    package var updatedAt: Int64

    /// Creates a stored resource.
    package init(path: String, sealed: [UInt8], requiredTier: Int, labelsJSON: String, createdAt: Int64 = 0, updatedAt: Int64 = 0) {
        self.path = path
        self.sealed = sealed
        self.requiredTier = requiredTier
        self.labelsJSON = labelsJSON
        self.createdAt = createdAt
        self.updatedAt = updatedAt
    }
}

/// Where resources live: the sealed value and what the release policy reads about it, by path.
///
/// Implementations make every write durable before returning; the broker seals and audits, the repository only keeps.
package protocol ResourceRepository: Sendable {
    /// The resource at `path`, or nil.
    func resource(at path: String) async throws -> StoredResource?
    /// Every resource's path, tier and labels (sealed values may be left empty), in path order.
    func all() async throws -> [StoredResource]
    /// Creates or replaces the resource at `resource.path`; returns whether one existed before.
    func put(_ resource: StoredResource) async throws -> Bool
    /// Deletes the resource at `path`; false when there was none.
    func delete(at path: String) async throws -> Bool
}

/// Run-time reference values (allowed measurements): evidence kind → claim name → lowercase hex values.
package protocol ReferenceValueRepository: Sendable {
    /// Adds `values` for claim `name` of evidence `kind`; returns how many were new.
    func add(kind: String, name: String, values: [String]) async throws -> Int
    /// Removes `values` from claim `name` of evidence `kind`; returns how many were there.
    func remove(kind: String, name: String, values: [String]) async throws -> Int
    /// Every value added so far.
    func all() async throws -> [String: [String: [String]]]
}
