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
}
