/// Who wrote a row: the bundle's `entities.json` (re-imported on every load) or the admin API (kept).
package enum RowSource: String, Sendable, Codable {
    case bundle
    case admin
}

/// A role held by an entity, optionally limited to a scope (a key-path or resource glob).
package struct StoredRole: Hashable, Sendable {
    package var role: String
    /// nil grants the role everywhere.
    package var scope: String?

    /// Creates a role binding.
    package init(role: String, scope: String? = nil) {
        self.role = role
        self.scope = scope
    }

    /// Why the binding cannot be stored, or nil: every store refuses the same bindings.
    package var problem: String? {
        // A NUL byte: PostgreSQL's TEXT cannot hold it, and the view keys entities by "type NUL id".
        guard !role.isEmpty, role.utf8.count <= 256, (scope?.utf8.count ?? 1) > 0, (scope?.utf8.count ?? 0) <= 1024,
            !role.utf8.contains(0), !(scope?.utf8.contains(0) ?? false)
        else { return "a role is 1 to 256 bytes and a scope 1 to 1024, neither holding NUL" }
        return nil
    }
}

/// An entity as the store keeps it: a type, an id, its attributes as a JSON object, its roles.
package struct StoredEntity: Sendable, Equatable {
    package var type: String
    package var id: String
    /// The attributes as the UTF-8 bytes of a JSON object.
    package var attributesJSON: [UInt8]
    package var roles: [StoredRole]
    package var source: RowSource

    /// Creates an entity.
    package init(type: String, id: String, attributesJSON: [UInt8], roles: [StoredRole] = [], source: RowSource = .admin) {
        self.type = type
        self.id = id
        self.attributesJSON = attributesJSON
        self.roles = roles
        self.source = source
    }

    /// Largest accepted attributes object, in bytes.
    package static let maximumAttributesBytes = 64 * 1024

    /// Why `type` and `id` cannot name an entity, or nil.
    package static func problem(type: String, id: String) -> String? {
        guard !type.isEmpty, type.utf8.count <= 256, !id.isEmpty, id.utf8.count <= 1024, !type.utf8.contains(0), !id.utf8.contains(0) else {
            return "an entity type is 1 to 256 bytes and an id 1 to 1024, neither holding NUL"
        }
        return nil
    }

    /// Why `attributesJSON` cannot be an entity's attributes, or nil.
    package static func problem(attributesJSON: [UInt8]) -> String? {
        guard attributesJSON.count <= maximumAttributesBytes else { return "attributes exceed \(maximumAttributesBytes) bytes" }
        guard String(validating: attributesJSON, as: UTF8.self) != nil, !attributesJSON.contains(0) else {
            return "attributes are not UTF-8 without NUL"
        }
        return nil
    }
}

/// A page cursor: the last (type, id) seen.
package struct EntityKey: Hashable, Sendable {
    package var type: String
    package var id: String

    /// Creates a cursor.
    package init(type: String, id: String) {
        self.type = type
        self.id = id
    }
}

/// Every entity at one moment, with the change marker of that moment.
package struct EntitySnapshot: Sendable, Equatable {
    /// The ``EntityRepository/generation()`` the entities were read at.
    package var generation: Int64
    /// In (type, id) byte order, each with its roles in (role, scope) order.
    package var entities: [StoredEntity]

    /// Creates a snapshot.
    package init(generation: Int64, entities: [StoredEntity]) {
        self.generation = generation
        self.entities = entities
    }
}

/// Where the policy engine's entities and their roles live, shared by every replica.
///
/// Rows come from two writers that never undo each other: the bundle's `entities.json` (``importBundle(_:)``) and
/// the admin API (the other writes), which refuses to change the bundle's rows. Each write is one transaction, and
/// every write that changes a row also advances ``generation()`` in that transaction, so a replica holding a copy in
/// memory knows, by one cheap read, whether its copy is stale.
///
/// Refusals throw the store's error with the codes `invalid` (bad arguments), `not_found` (no such entity) and
/// `bundle_owned` (a row of the bundle).
package protocol EntityRepository: Sendable {
    /// A number that changes whenever a write changes an entity or a binding, and only then.
    func generation() async throws -> Int64
    /// Every entity with its roles, and the generation they were read at, from one consistent read.
    func snapshot() async throws -> EntitySnapshot
    /// One entity with its roles, or nil.
    func entity(type: String, id: String) async throws -> StoredEntity?
    /// Up to `limit` entities in (type, id) byte order, only of `type` when given, after `cursor` when given.
    func entities(type: String?, after cursor: EntityKey?, limit: Int) async throws -> [StoredEntity]
    /// Creates or replaces an entity's attributes (as the admin API's) and grants `roles`, keeping roles already held;
    /// true when the entity is new. Refuses an entity of the bundle.
    @discardableResult
    func putEntity(type: String, id: String, attributesJSON: [UInt8], roles: [StoredRole]) async throws -> Bool
    /// Deletes an entity and its roles; false when there was none. Refuses an entity of the bundle.
    @discardableResult
    func deleteEntity(type: String, id: String) async throws -> Bool
    /// Grants a role (idempotent); the entity must exist. A binding the bundle already grants stays the bundle's.
    func addRole(type: String, id: String, _ role: StoredRole) async throws
    /// Revokes a role; false when it was not held. Refuses a binding of the bundle.
    @discardableResult
    func removeRole(type: String, id: String, _ role: StoredRole) async throws -> Bool
    /// Mirrors a bundle's entities in one transaction, idempotently: the bundle's earlier rows are updated or, when
    /// gone from it, removed; the admin API's rows are never touched. Returns how many rows changed.
    @discardableResult
    func importBundle(_ entities: [StoredEntity]) async throws -> Int
}
