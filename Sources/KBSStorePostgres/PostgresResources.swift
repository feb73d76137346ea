import Foundation
import KBSBroker
import KBSClaims
import KBSStore
import PostgresNIO

/// ``ResourceRepository`` on the `resource` table.
struct PostgresResources: ResourceRepository {
    let store: PostgresStore

    func resource(at path: String) async throws -> StoredResource? {
        try await store.rows(
            "SELECT path, sealed, required_tier, labels, created_at, updated_at FROM resource WHERE path = \(path)", Self.resource
        ).first
    }

    func all() async throws -> [StoredResource] {
        try await store.rows(
            "SELECT path, ''::bytea, required_tier, labels, created_at, updated_at FROM resource ORDER BY path", Self.resource)
    }

    func put(_ resource: StoredResource) async throws -> Bool {
        guard !resource.path.isEmpty, resource.path.utf8.count <= 1024 else { throw StoreError(.invalid, "resource path must be 1…1024 bytes") }
        guard resource.sealed.count <= Store.maximumResourceBytes else {
            throw StoreError(.invalid, "resource \(resource.path) is over \(Store.maximumResourceBytes) bytes sealed")
        }
        let now = PostgresStore.now
        // xmax is 0 on a freshly inserted row and set on one the upsert updated: one statement, so whether the path
        // existed is known exactly even with writers on other replicas.
        let existed = try await store.rows(
            """
            INSERT INTO resource (path, sealed, required_tier, labels, created_at, updated_at)
            VALUES (\(resource.path), \(Data(resource.sealed)), \(resource.requiredTier), \(resource.labelsJSON), \(now), \(now))
            ON CONFLICT (path) DO UPDATE SET sealed = EXCLUDED.sealed, required_tier = EXCLUDED.required_tier,
                labels = EXCLUDED.labels, updated_at = EXCLUDED.updated_at
            RETURNING xmax <> 0
            """
        ) { row in try row.decode(Bool.self) }
        guard let existed = existed.first else { throw StoreError(.database, "the resource upsert returned no row") }
        return existed
    }

    func delete(at path: String) async throws -> Bool {
        try await store.count("DELETE FROM resource WHERE path = \(path) RETURNING 1") == 1
    }

    private static func resource(_ row: PostgresRow) throws -> StoredResource {
        let (path, sealed, tier, labels, created, updated) = try row.decode((String, Data, Int, String, Int64, Int64).self)
        return StoredResource(path: path, sealed: Array(sealed), requiredTier: tier, labelsJSON: labels, createdAt: created, updatedAt: updated)
    }
}

/// ``ReferenceValueRepository`` on the `reference_value` table.
struct PostgresReferenceValues: ReferenceValueRepository {
    let store: PostgresStore

    func add(kind: String, name: String, values: [String]) async throws -> Int {
        for text in [kind, name] + values where text.isEmpty || text.utf8.count > 1024 {
            throw StoreError(.invalid, "reference value kinds, names and values must be 1…1024 bytes")
        }
        let now = PostgresStore.now
        return try await store.count(
            """
            INSERT INTO reference_value (kind, name, value, added_at)
            SELECT \(kind), \(name), value, \(now) FROM unnest(\(values)::text[]) AS value
            ON CONFLICT DO NOTHING RETURNING 1
            """)
    }

    func remove(kind: String, name: String, values: [String]) async throws -> Int {
        try await store.count(
            "DELETE FROM reference_value WHERE kind = \(kind) AND name = \(name) AND value = ANY(\(values)::text[]) RETURNING 1")
    }

    func all() async throws -> [String: [String: [String]]] {
        var result: [String: [String: [String]]] = [:]
        for (kind, name, value) in try await store.rows(
            "SELECT kind, name, value FROM reference_value ORDER BY kind, name, value", { row in try row.decode((String, String, String).self) })
        {
            result[kind, default: [:]][name, default: []].append(value)
        }
        return result
    }
}

/// ``ReleaseRevisionSource`` on the trigger-kept `release_revision` row, which every replica's writes advance.
struct PostgresReleaseRevisions: ReleaseRevisionSource {
    let store: PostgresStore

    func releaseRevisions() async throws -> ReleaseRevisions {
        let rows = try await store.rows(
            "SELECT resources, reference_values, key_records FROM release_revision", { row in try row.decode((Int64, Int64, Int64).self) })
        guard let (resources, referenceValues, keyRecords) = rows.first else {
            throw StoreError(.database, "the release_revision row is missing")
        }
        return ReleaseRevisions(resources: resources, referenceValues: referenceValues, keyRecords: keyRecords)
    }
}
