package import KBSBroker
import KBSClaims
import KBSStore
import Logging
import PostgresNIO

/// ``EntityRepository`` on the `entity`, `role_binding` and `entity_generation` tables: one set of entities and roles
/// for every replica, refused and paged exactly as SQLite's store does.
///
/// Every write is one transaction that first locks the generation row, so writes from all replicas run one after
/// another: a refusal's read and the write it guards see one state, and the generation they advance orders them.
package struct PostgresEntities: EntityRepository {
    let store: PostgresStore

    /// Adapts `store`.
    package init(_ store: PostgresStore) { self.store = store }

    package func generation() async throws -> Int64 {
        try await store.rows("SELECT value FROM entity_generation") { row in try row.decode(Int64.self) }.first ?? 0
    }

    package func snapshot() async throws -> EntitySnapshot {
        try await store.transaction { connection in
            // One snapshot for the counter and the rows: a write between them would otherwise go unseen for good.
            try await connection.query("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY", logger: store.logger)
            var generation: Int64 = 0
            for try await value in try await connection.query("SELECT value FROM entity_generation", logger: store.logger).decode(Int64.self) {
                generation = value
            }
            var entities: [StoredEntity] = []
            var index: [EntityKey: Int] = [:]
            let rows = try await connection.query("SELECT type, id, attributes, source FROM entity ORDER BY type, id", logger: store.logger)
            for try await row in rows {
                let entity = try Self.entity(row)
                index[EntityKey(type: entity.type, id: entity.id)] = entities.count
                entities.append(entity)
            }
            let bindings = try await connection.query(
                "SELECT entity_type, entity_id, role, scope FROM role_binding ORDER BY role, scope", logger: store.logger)
            for try await (type, id, role, scope) in bindings.decode((String, String, String, String).self) {
                guard let position = index[EntityKey(type: type, id: id)] else { continue }
                entities[position].roles.append(StoredRole(role: role, scope: scope.isEmpty ? nil : scope))
            }
            return EntitySnapshot(generation: generation, entities: entities)
        }
    }

    package func entity(type: String, id: String) async throws -> StoredEntity? {
        try await store.transaction { connection in
            try await connection.query("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY", logger: store.logger)
            var found: StoredEntity?
            let rows = try await connection.query(
                "SELECT type, id, attributes, source FROM entity WHERE type = \(type) AND id = \(id)", logger: store.logger)
            for try await row in rows { found = try Self.entity(row) }
            guard var entity = found else { return nil }
            entity.roles = try await roles(connection, type: type, id: id)
            return entity
        }
    }

    package func entities(type: String?, after cursor: EntityKey?, limit: Int) async throws -> [StoredEntity] {
        try await store.transaction { connection in
            try await connection.query("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY", logger: store.logger)
            var query: PostgresQuery
            switch (type, cursor) {
            case (nil, nil):
                query = "SELECT type, id, attributes, source FROM entity ORDER BY type, id LIMIT \(max(0, limit))"
            case (let type?, nil):
                query = "SELECT type, id, attributes, source FROM entity WHERE type = \(type) ORDER BY type, id LIMIT \(max(0, limit))"
            case (nil, let cursor?):
                query = """
                    SELECT type, id, attributes, source FROM entity WHERE (type, id) > (\(cursor.type), \(cursor.id))
                    ORDER BY type, id LIMIT \(max(0, limit))
                    """
            case (let type?, let cursor?):
                query = """
                    SELECT type, id, attributes, source FROM entity WHERE type = \(type) AND (type, id) > (\(cursor.type), \(cursor.id))
                    ORDER BY type, id LIMIT \(max(0, limit))
                    """
            }
            var page: [StoredEntity] = []
            for try await row in try await connection.query(query, logger: store.logger) { page.append(try Self.entity(row)) }
            for index in page.indices {
                page[index].roles = try await roles(connection, type: page[index].type, id: page[index].id)
            }
            return page
        }
    }

    package func putEntity(type: String, id: String, attributesJSON: [UInt8], roles: [StoredRole]) async throws -> Bool {
        try Store.validate(type: type, id: id)
        if let problem = StoredEntity.problem(attributesJSON: attributesJSON) { throw StoreError(.invalid, problem) }
        for role in roles { try Store.validate(role) }
        let text = String(decoding: attributesJSON, as: UTF8.self)
        return try await writing { connection in
            let existed = try await refuseBundleEntity(connection, type: type, id: id, doing: "replace")
            try await connection.query(
                """
                INSERT INTO entity (type, id, attributes, source, updated_at) VALUES (\(type), \(id), \(text), 'admin', \(PostgresStore.now))
                ON CONFLICT (type, id) DO UPDATE SET attributes = excluded.attributes, updated_at = excluded.updated_at
                """, logger: store.logger)
            for role in roles { _ = try await insertAdminRole(connection, type: type, id: id, role) }
            try await advanceGeneration(connection)
            return !existed
        }
    }

    package func deleteEntity(type: String, id: String) async throws -> Bool {
        try await writing { connection in
            try await refuseBundleEntity(connection, type: type, id: id, doing: "delete")
            let deleted = try await count(connection, "DELETE FROM entity WHERE type = \(type) AND id = \(id) RETURNING 1")
            guard deleted > 0 else { return false }
            try await advanceGeneration(connection)
            return true
        }
    }

    package func addRole(type: String, id: String, _ role: StoredRole) async throws {
        try Store.validate(role)
        try await writing { connection in
            guard try await count(connection, "SELECT 1 FROM entity WHERE type = \(type) AND id = \(id)") > 0 else {
                throw StoreError(.notFound, "no entity \(type) `\(id)`")
            }
            if try await insertAdminRole(connection, type: type, id: id, role) { try await advanceGeneration(connection) }
        }
    }

    package func removeRole(type: String, id: String, _ role: StoredRole) async throws -> Bool {
        let scope = role.scope ?? ""
        return try await writing { connection in
            var source: String?
            let rows = try await connection.query(
                """
                SELECT source FROM role_binding
                WHERE entity_type = \(type) AND entity_id = \(id) AND role = \(role.role) AND scope = \(scope)
                """, logger: store.logger)
            for try await value in rows.decode(String.self) { source = value }
            if source == RowSource.bundle.rawValue {
                throw StoreError(.bundleOwned, Store.bundleRoleRefusal(type: type, id: id, role))
            }
            let deleted = try await count(
                connection,
                """
                DELETE FROM role_binding
                WHERE entity_type = \(type) AND entity_id = \(id) AND role = \(role.role) AND scope = \(scope) RETURNING 1
                """)
            guard deleted > 0 else { return false }
            try await advanceGeneration(connection)
            return true
        }
    }

    package func importBundle(_ entities: [StoredEntity]) async throws -> Int {
        for entity in entities {
            try Store.validate(type: entity.type, id: entity.id)
            for role in entity.roles { try Store.validate(role) }
        }
        return try await writing { connection in
            // The rows as they are, read once under the lock; only the differences are written, so the import every
            // replica runs on every reload costs two reads when nothing changed.
            var stored: [EntityKey: (attributes: String, source: String)] = [:]
            let rows = try await connection.query("SELECT type, id, attributes, source FROM entity", logger: store.logger)
            for try await (type, id, attributes, source) in rows.decode((String, String, String, String).self) {
                stored[EntityKey(type: type, id: id)] = (attributes, source)
            }
            var bundleRoles: [EntityKey: [StoredRole]] = [:]
            let bindings = try await connection.query(
                "SELECT entity_type, entity_id, role, scope FROM role_binding WHERE source = 'bundle'", logger: store.logger)
            for try await (type, id, role, scope) in bindings.decode((String, String, String, String).self) {
                bundleRoles[EntityKey(type: type, id: id), default: []].append(StoredRole(role: role, scope: scope.isEmpty ? nil : scope))
            }
            var changes = 0
            var keep: Set<EntityKey> = []
            for entity in entities {
                let key = EntityKey(type: entity.type, id: entity.id)
                keep.insert(key)
                let text = String(decoding: entity.attributesJSON, as: UTF8.self)
                switch stored[key] {
                case nil:
                    try await connection.query(
                        """
                        INSERT INTO entity (type, id, attributes, source, updated_at)
                        VALUES (\(entity.type), \(entity.id), \(text), 'bundle', \(PostgresStore.now))
                        """, logger: store.logger)
                    changes += 1
                case let row? where row.source == RowSource.bundle.rawValue && row.attributes != text:
                    try await connection.query(
                        """
                        UPDATE entity SET attributes = \(text), updated_at = \(PostgresStore.now)
                        WHERE type = \(entity.type) AND id = \(entity.id)
                        """, logger: store.logger)
                    changes += 1
                default:
                    // Unchanged, or the admin API's entity, which wins over the bundle's version of it.
                    break
                }
                let held = bundleRoles[key] ?? []
                for role in entity.roles where !held.contains(role) {
                    changes += try await count(
                        connection,
                        """
                        INSERT INTO role_binding (entity_type, entity_id, role, scope, source)
                        VALUES (\(entity.type), \(entity.id), \(role.role), \(role.scope ?? ""), 'bundle')
                        ON CONFLICT DO NOTHING RETURNING 1
                        """)
                }
                for role in held where !entity.roles.contains(role) {
                    changes += try await count(
                        connection,
                        """
                        DELETE FROM role_binding WHERE entity_type = \(entity.type) AND entity_id = \(entity.id)
                            AND role = \(role.role) AND scope = \(role.scope ?? "") AND source = 'bundle' RETURNING 1
                        """)
                }
            }
            for (key, row) in stored where row.source == RowSource.bundle.rawValue && !keep.contains(key) {
                changes += try await count(connection, "DELETE FROM entity WHERE type = \(key.type) AND id = \(key.id) RETURNING 1")
            }
            // Every replica imports on every reload: an import that changes nothing must not send them all reloading.
            if changes > 0 { try await advanceGeneration(connection) }
            return changes
        }
    }

    /// Runs `body` in one transaction holding the generation row's lock, which every entity write takes first.
    private func writing<T: Sendable>(_ body: (PostgresConnection) async throws -> T) async throws(StoreError) -> T {
        try await store.transaction { connection in
            try await connection.query("SELECT value FROM entity_generation FOR UPDATE", logger: store.logger)
            return try await body(connection)
        }
    }

    private func advanceGeneration(_ connection: PostgresConnection) async throws {
        try await connection.query("UPDATE entity_generation SET value = value + 1", logger: store.logger)
    }

    /// Refuses a change to an entity of the bundle; returns whether the entity exists.
    @discardableResult
    private func refuseBundleEntity(_ connection: PostgresConnection, type: String, id: String, doing verb: String) async throws -> Bool {
        var source: String?
        let rows = try await connection.query("SELECT source FROM entity WHERE type = \(type) AND id = \(id)", logger: store.logger)
        for try await value in rows.decode(String.self) { source = value }
        if source == RowSource.bundle.rawValue {
            throw StoreError(.bundleOwned, Store.bundleEntityRefusal(type: type, id: id, doing: verb))
        }
        return source != nil
    }

    /// Grants `role` as the admin API's; true when the binding is new.
    private func insertAdminRole(_ connection: PostgresConnection, type: String, id: String, _ role: StoredRole) async throws -> Bool {
        try await count(
            connection,
            """
            INSERT INTO role_binding (entity_type, entity_id, role, scope, source) VALUES (\(type), \(id), \(role.role), \(role.scope ?? ""), 'admin')
            ON CONFLICT DO NOTHING RETURNING 1
            """) > 0
    }

    private func roles(_ connection: PostgresConnection, type: String, id: String) async throws -> [StoredRole] {
        var roles: [StoredRole] = []
        let rows = try await connection.query(
            "SELECT role, scope FROM role_binding WHERE entity_type = \(type) AND entity_id = \(id) ORDER BY role, scope", logger: store.logger)
        for try await (role, scope) in rows.decode((String, String).self) { roles.append(StoredRole(role: role, scope: scope.isEmpty ? nil : scope)) }
        return roles
    }

    private func count(_ connection: PostgresConnection, _ query: PostgresQuery) async throws -> Int {
        var count = 0
        for try await _ in try await connection.query(query, logger: store.logger) { count += 1 }
        return count
    }

    private static func entity(_ row: PostgresRow) throws -> StoredEntity {
        let (type, id, attributes, source) = try row.decode((String, String, String, String).self)
        return StoredEntity(type: type, id: id, attributesJSON: Array(attributes.utf8), source: RowSource(rawValue: source) ?? .admin)
    }
}
