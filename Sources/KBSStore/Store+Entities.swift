import GRDB
import KBSClaims

extension Store {
    /// Largest accepted attributes object, in bytes.
    package static let maximumAttributesBytes = 64 * 1024

    /// Creates or replaces an entity's attributes and grants `roles`, all in one transaction.
    ///
    /// Roles already held are kept. An entity the bundle's `entities.json` provides is refused with
    /// ``StoreError/Code/bundleOwned``: the next import would overwrite it, so the bundle is where it changes.
    package func putEntity(type: String, id: String, attributesJSON: [UInt8], roles: [StoredRole] = []) throws(StoreError) {
        try Store.validate(type: type, id: id)
        guard attributesJSON.count <= Store.maximumAttributesBytes else {
            throw StoreError(.invalid, "attributes exceed \(Store.maximumAttributesBytes) bytes")
        }
        guard let text = String(validating: attributesJSON, as: UTF8.self) else { throw StoreError(.invalid, "attributes are not UTF-8") }
        for role in roles { try Store.validate(role) }
        try write { db in
            try Store.refuseBundleEntity(db, type: type, id: id, doing: "replace")
            try db.execute(
                sql: """
                    INSERT INTO entity (type, id, attributes, source, updated_at) VALUES (?, ?, ?, 'admin', ?)
                    ON CONFLICT (type, id) DO UPDATE SET attributes = excluded.attributes, updated_at = excluded.updated_at
                    """,
                arguments: [type, id, text, Store.now])
            for role in roles { try Store.insertAdminRole(db, type: type, id: id, role) }
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
        try read { db in
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
            return order.compactMap { byKey[$0] }
        }
    }

    /// Deletes an entity and its role bindings; false when there was none.
    ///
    /// An entity from the bundle is refused (``StoreError/Code/bundleOwned``): the next import would bring it back.
    @discardableResult
    package func deleteEntity(type: String, id: String) throws(StoreError) -> Bool {
        try write { db in
            try Store.refuseBundleEntity(db, type: type, id: id, doing: "delete")
            try db.execute(sql: "DELETE FROM entity WHERE type = ? AND id = ?", arguments: [type, id])
            return db.changesCount > 0
        }
    }

    /// Grants a role (idempotent); the entity must exist. A binding the bundle already grants stays the bundle's.
    package func addRole(type: String, id: String, _ role: StoredRole) throws(StoreError) {
        try Store.validate(role)
        try write { db in
            guard try Bool.fetchOne(db, sql: "SELECT 1 FROM entity WHERE type = ? AND id = ?", arguments: [type, id]) != nil else {
                throw StoreError(.notFound, "no entity \(type) `\(id)`")
            }
            try Store.insertAdminRole(db, type: type, id: id, role)
        }
    }

    /// Revokes a role; false when it was not held.
    ///
    /// A binding the bundle grants is refused (``StoreError/Code/bundleOwned``): the next import would restore it.
    @discardableResult
    package func removeRole(type: String, id: String, _ role: StoredRole) throws(StoreError) -> Bool {
        try write { db in
            let arguments: StatementArguments = [type, id, role.role, role.scope ?? ""]
            let source = try String.fetchOne(
                db,
                sql: "SELECT source FROM role_binding WHERE entity_type = ? AND entity_id = ? AND role = ? AND scope = ?",
                arguments: arguments)
            if source == RowSource.bundle.rawValue {
                throw StoreError(
                    .bundleOwned,
                    "role `\(role.role)` of \(type) `\(id)` is granted by the policy bundle's entities.json; revoke it there and reload")
            }
            try db.execute(
                sql: "DELETE FROM role_binding WHERE entity_type = ? AND entity_id = ? AND role = ? AND scope = ?",
                arguments: arguments)
            return db.changesCount > 0
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
        return try write { db in
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
            return changes
        }
    }

    private static func validate(_ role: StoredRole) throws(StoreError) {
        guard !role.role.isEmpty, role.role.utf8.count <= 256, (role.scope?.utf8.count ?? 1) > 0, (role.scope?.utf8.count ?? 0) <= 1024 else {
            throw StoreError(.invalid, "a role is 1 to 256 bytes and a scope 1 to 1024")
        }
    }

    private static func refuseBundleEntity(_ db: Database, type: String, id: String, doing verb: String) throws {
        let source = try String.fetchOne(db, sql: "SELECT source FROM entity WHERE type = ? AND id = ?", arguments: [type, id])
        if source == RowSource.bundle.rawValue {
            throw StoreError(
                .bundleOwned,
                "\(type) `\(id)` comes from the policy bundle's entities.json; \(verb) it there and reload")
        }
    }

    private static func insertAdminRole(_ db: Database, type: String, id: String, _ role: StoredRole) throws {
        try db.execute(
            sql: """
                INSERT INTO role_binding (entity_type, entity_id, role, scope, source) VALUES (?, ?, ?, ?, 'admin')
                ON CONFLICT DO NOTHING
                """,
            arguments: [type, id, role.role, role.scope ?? ""])
    }

    private static func validate(type: String, id: String) throws(StoreError) {
        guard !type.isEmpty, type.utf8.count <= 256, !id.isEmpty, id.utf8.count <= 1024 else {
            throw StoreError(.invalid, "an entity type is 1 to 256 bytes and an id 1 to 1024")
        }
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
