import GRDB
package import KBSBroker
import KBSClaims

extension Store {
    /// Creates or replaces an entity's attributes and grants `roles`, all in one transaction; true when it is new.
    ///
    /// Roles already held are kept. An entity the bundle's `entities.json` provides is refused with
    /// ``StoreErrorCode/bundleOwned``: the next import would overwrite it, so the bundle is where it changes.
    @discardableResult
    package func putEntity(type: String, id: String, attributesJSON: [UInt8], roles: [StoredRole] = []) throws(StoreError) -> Bool {
        try Store.validate(type: type, id: id)
        if let problem = StoredEntity.problem(attributesJSON: attributesJSON) { throw StoreError(.invalid, problem) }
        for role in roles { try Store.validate(role) }
        let text = String(decoding: attributesJSON, as: UTF8.self)
        // IMMEDIATE: the refusal's read and the write must see one state, whichever connection writes beside us.
        return try writeImmediate { db in
            let existed = try Store.refuseBundleEntity(db, type: type, id: id, doing: "replace")
            try db.execute(
                sql: """
                    INSERT INTO entity (type, id, attributes, source, updated_at) VALUES (?, ?, ?, 'admin', ?)
                    ON CONFLICT (type, id) DO UPDATE SET attributes = excluded.attributes, updated_at = excluded.updated_at
                    """,
                arguments: [type, id, text, Store.now])
            for role in roles { try Store.insertAdminRole(db, type: type, id: id, role) }
            try Store.advanceEntityGeneration(db)
            return !existed
        }
    }

    /// One entity with its roles, or nil.
    package func entity(type: String, id: String) throws(StoreError) -> StoredEntity? {
        try read { db in
            guard
                let row = try Row.fetchOne(
                    db, sql: "SELECT type, id, attributes, source FROM entity WHERE type = ? AND id = ?",
                    arguments: [type, id])
            else { return nil }
            var entity = Store.entity(from: row)
            entity.roles = try Store.roles(db, type: type, id: id)
            return entity
        }
    }

    /// Entities in (type, id) order, optionally of one type, paged by the last (type, id) seen.
    package func entities(type: String? = nil, after: (type: String, id: String)? = nil, limit: Int = 1000) throws(StoreError) -> [StoredEntity] {
        try read { db in
            var conditions: [String] = []
            var arguments: StatementArguments = []
            if let type {
                conditions.append("type = ?")
                arguments += [type]
            }
            if let after {
                conditions.append("(type, id) > (?, ?)")
                arguments += [after.type, after.id]
            }
            let filter = conditions.isEmpty ? "" : "WHERE " + conditions.joined(separator: " AND ")
            let rows = try Row.fetchAll(
                db, sql: "SELECT type, id, attributes, source FROM entity \(filter) ORDER BY type, id LIMIT ?",
                arguments: arguments + [max(0, limit)])
            var result = rows.map(Store.entity(from:))
            for index in result.indices {
                result[index].roles = try Store.roles(db, type: result[index].type, id: result[index].id)
            }
            return result
        }
    }

    /// Every entity with its roles, for building the in-memory view the evaluator reads.
    package func allEntities() throws(StoreError) -> [StoredEntity] {
        try entitySnapshot().entities
    }

    /// Every entity with its roles and the generation they were read at, from one read transaction.
    package func entitySnapshot() throws(StoreError) -> EntitySnapshot {
        try read { db in
            let generation = try Store.entityGeneration(db)
            var byKey: [String: StoredEntity] = [:]
            var order: [String] = []
            for row in try Row.fetchAll(db, sql: "SELECT type, id, attributes, source FROM entity ORDER BY type, id") {
                let entity = Store.entity(from: row)
                let key = entity.type + "\u{0}" + entity.id
                byKey[key] = entity
                order.append(key)
            }
            for row in try Row.fetchAll(db, sql: "SELECT entity_type, entity_id, role, scope FROM role_binding ORDER BY role, scope") {
                let key = (row["entity_type"] as String) + "\u{0}" + (row["entity_id"] as String)
                byKey[key]?.roles.append(Store.role(from: row))
            }
            return EntitySnapshot(generation: generation, entities: order.compactMap { byKey[$0] })
        }
    }

    /// The counter every changing entity or role write advances (``EntityRepository/generation()``).
    package func entityGeneration() throws(StoreError) -> Int64 {
        try read { db in try Store.entityGeneration(db) }
    }

    /// Deletes an entity and its role bindings; false when there was none.
    ///
    /// An entity from the bundle is refused (``StoreErrorCode/bundleOwned``): the next import would bring it back.
    @discardableResult
    package func deleteEntity(type: String, id: String) throws(StoreError) -> Bool {
        try writeImmediate { db in
            try Store.refuseBundleEntity(db, type: type, id: id, doing: "delete")
            try db.execute(sql: "DELETE FROM entity WHERE type = ? AND id = ?", arguments: [type, id])
            guard db.changesCount > 0 else { return false }
            try Store.advanceEntityGeneration(db)
            return true
        }
    }

    /// Grants a role (idempotent); the entity must exist. A binding the bundle already grants stays the bundle's.
    package func addRole(type: String, id: String, _ role: StoredRole) throws(StoreError) {
        try Store.validate(role)
        try writeImmediate { db in
            guard try Bool.fetchOne(db, sql: "SELECT 1 FROM entity WHERE type = ? AND id = ?", arguments: [type, id]) != nil else {
                throw StoreError(.notFound, "no entity \(type) `\(id)`")
            }
            if try Store.insertAdminRole(db, type: type, id: id, role) { try Store.advanceEntityGeneration(db) }
        }
    }

    /// Revokes a role; false when it was not held.
    ///
    /// A binding the bundle grants is refused (``StoreErrorCode/bundleOwned``): the next import would restore it.
    @discardableResult
    package func removeRole(type: String, id: String, _ role: StoredRole) throws(StoreError) -> Bool {
        try writeImmediate { db in
            let arguments: StatementArguments = [type, id, role.role, role.scope ?? ""]
            let source = try String.fetchOne(
                db,
                sql: "SELECT source FROM role_binding WHERE entity_type = ? AND entity_id = ? AND role = ? AND scope = ?",
                arguments: arguments)
            if source == RowSource.bundle.rawValue {
                throw StoreError(.bundleOwned, Store.bundleRoleRefusal(type: type, id: id, role))
            }
            try db.execute(
                sql: "DELETE FROM role_binding WHERE entity_type = ? AND entity_id = ? AND role = ? AND scope = ?",
                arguments: arguments)
            guard db.changesCount > 0 else { return false }
            try Store.advanceEntityGeneration(db)
            return true
        }
    }

    /// The roles an entity holds.
    package func roles(type: String, id: String) throws(StoreError) -> [StoredRole] {
        try read { db in try Store.roles(db, type: type, id: id) }
    }

    /// Mirrors a bundle's entities into the store in one transaction, idempotently.
    ///
    /// Rows the bundle wrote before are updated or, when gone from the bundle, removed (an entity's removal takes
    /// the roles the admin API granted it along). Rows written through the admin API are never changed, and the
    /// admin API cannot change the bundle's rows, so neither side silently undoes the other. Returns how many
    /// rows changed.
    @discardableResult
    package func importBundle(_ entities: [StoredEntity]) throws(StoreError) -> Int {
        for entity in entities {
            try Store.validate(type: entity.type, id: entity.id)
            for role in entity.roles { try Store.validate(role) }
        }
        return try writeImmediate { db in
            var changes = 0
            var keep: Set<String> = []
            for entity in entities {
                keep.insert(entity.type + "\u{0}" + entity.id)
                let text = String(decoding: entity.attributesJSON, as: UTF8.self)
                // An entity the admin API wrote wins over the bundle's version of it.
                try db.execute(
                    sql: """
                        INSERT INTO entity (type, id, attributes, source, updated_at) VALUES (?, ?, ?, 'bundle', ?)
                        ON CONFLICT (type, id) DO UPDATE SET attributes = excluded.attributes, updated_at = excluded.updated_at
                        WHERE entity.source = 'bundle' AND entity.attributes != excluded.attributes
                        """,
                    arguments: [entity.type, entity.id, text, Store.now])
                changes += db.changesCount
                let stored = try Row.fetchAll(
                    db,
                    sql: "SELECT role, scope FROM role_binding WHERE entity_type = ? AND entity_id = ? AND source = 'bundle'",
                    arguments: [entity.type, entity.id]
                ).map(Store.role(from:))
                for role in entity.roles where !stored.contains(role) {
                    try db.execute(
                        sql: """
                            INSERT INTO role_binding (entity_type, entity_id, role, scope, source) VALUES (?, ?, ?, ?, 'bundle')
                            ON CONFLICT DO NOTHING
                            """,
                        arguments: [entity.type, entity.id, role.role, role.scope ?? ""])
                    changes += db.changesCount
                }
                for role in stored where !entity.roles.contains(role) {
                    try db.execute(
                        sql: "DELETE FROM role_binding WHERE entity_type = ? AND entity_id = ? AND role = ? AND scope = ? AND source = 'bundle'",
                        arguments: [entity.type, entity.id, role.role, role.scope ?? ""])
                    changes += db.changesCount
                }
            }
            for row in try Row.fetchAll(db, sql: "SELECT type, id FROM entity WHERE source = 'bundle'") {
                let type: String = row["type"]
                let id: String = row["id"]
                if !keep.contains(type + "\u{0}" + id) {
                    try db.execute(sql: "DELETE FROM entity WHERE type = ? AND id = ?", arguments: [type, id])
                    changes += db.changesCount
                }
            }
            // Every replica imports on every reload: an import that changes nothing must not send them all reloading.
            if changes > 0 { try Store.advanceEntityGeneration(db) }
            return changes
        }
    }

    /// The refusal of a change to an entity of the bundle, worded as every store words it.
    package static func bundleEntityRefusal(type: String, id: String, doing verb: String) -> String {
        "\(type) `\(id)` comes from the policy bundle's entities.json; \(verb) it there and reload"
    }

    /// The refusal of a revocation of the bundle's binding, worded as every store words it.
    package static func bundleRoleRefusal(type: String, id: String, _ role: StoredRole) -> String {
        "role `\(role.role)` of \(type) `\(id)` is granted by the policy bundle's entities.json; revoke it there and reload"
    }

    /// Throws ``StoreErrorCode/invalid`` for a binding no store keeps.
    package static func validate(_ role: StoredRole) throws(StoreError) {
        if let problem = role.problem { throw StoreError(.invalid, problem) }
    }

    /// Throws ``StoreErrorCode/invalid`` for a type and id that cannot name an entity.
    package static func validate(type: String, id: String) throws(StoreError) {
        if let problem = StoredEntity.problem(type: type, id: id) { throw StoreError(.invalid, problem) }
    }

    /// Refuses a change to an entity of the bundle; returns whether the entity exists.
    @discardableResult
    private static func refuseBundleEntity(_ db: Database, type: String, id: String, doing verb: String) throws -> Bool {
        let source = try String.fetchOne(db, sql: "SELECT source FROM entity WHERE type = ? AND id = ?", arguments: [type, id])
        if source == RowSource.bundle.rawValue {
            throw StoreError(.bundleOwned, bundleEntityRefusal(type: type, id: id, doing: verb))
        }
        return source != nil
    }

    /// Grants `role` as the admin API's; true when the binding is new.
    @discardableResult
    private static func insertAdminRole(_ db: Database, type: String, id: String, _ role: StoredRole) throws -> Bool {
        try db.execute(
            sql: """
                INSERT INTO role_binding (entity_type, entity_id, role, scope, source) VALUES (?, ?, ?, ?, 'admin')
                ON CONFLICT DO NOTHING
                """,
            arguments: [type, id, role.role, role.scope ?? ""])
        return db.changesCount > 0
    }

    private static func advanceEntityGeneration(_ db: Database) throws {
        try db.execute(sql: "UPDATE entity_generation SET value = value + 1 WHERE singleton = 1")
    }

    private static func entityGeneration(_ db: Database) throws -> Int64 {
        try Int64.fetchOne(db, sql: "SELECT value FROM entity_generation WHERE singleton = 1") ?? 0
    }

    private static func entity(from row: Row) -> StoredEntity {
        let attributes: String = row["attributes"]
        return StoredEntity(
            type: row["type"], id: row["id"], attributesJSON: Array(attributes.utf8),
            source: RowSource(rawValue: row["source"]) ?? .admin)
    }

    private static func role(from row: Row) -> StoredRole {
        let scope: String = row["scope"]
        return StoredRole(role: row["role"], scope: scope.isEmpty ? nil : scope)
    }

    private static func roles(_ db: Database, type: String, id: String) throws -> [StoredRole] {
        try Row.fetchAll(
            db, sql: "SELECT role, scope FROM role_binding WHERE entity_type = ? AND entity_id = ? ORDER BY role, scope",
            arguments: [type, id]
        ).map(role(from:))
    }
}

/// ``EntityRepository`` on the `entity`, `role_binding` and `entity_generation` tables, off the cooperative pool.
package struct SQLiteEntities: EntityRepository {
    let store: Store

    /// Adapts `store`.
    package init(_ store: Store) { self.store = store }

    package func generation() async throws -> Int64 {
        try await store.offPool { store throws(StoreError) in try store.entityGeneration() }
    }

    package func snapshot() async throws -> EntitySnapshot {
        try await store.offPool { store throws(StoreError) in try store.entitySnapshot() }
    }

    package func entity(type: String, id: String) async throws -> StoredEntity? {
        try await store.offPool { store throws(StoreError) in try store.entity(type: type, id: id) }
    }

    package func entities(type: String?, after cursor: EntityKey?, limit: Int) async throws -> [StoredEntity] {
        try await store.offPool { store throws(StoreError) in
            try store.entities(type: type, after: cursor.map { ($0.type, $0.id) }, limit: limit)
        }
    }

    package func putEntity(type: String, id: String, attributesJSON: [UInt8], roles: [StoredRole]) async throws -> Bool {
        try await store.offPool { store throws(StoreError) in
            try store.putEntity(type: type, id: id, attributesJSON: attributesJSON, roles: roles)
        }
    }

    package func deleteEntity(type: String, id: String) async throws -> Bool {
        try await store.offPool { store throws(StoreError) in try store.deleteEntity(type: type, id: id) }
    }

    package func addRole(type: String, id: String, _ role: StoredRole) async throws {
        try await store.offPool { store throws(StoreError) in try store.addRole(type: type, id: id, role) }
    }

    package func removeRole(type: String, id: String, _ role: StoredRole) async throws -> Bool {
        try await store.offPool { store throws(StoreError) in try store.removeRole(type: type, id: id, role) }
    }

    package func importBundle(_ entities: [StoredEntity]) async throws -> Int {
        try await store.offPool { store throws(StoreError) in try store.importBundle(entities) }
    }
}
