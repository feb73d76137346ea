/// Who wrote a row: the bundle's `entities.json` (re-imported on every load) or the admin API (kept).
public enum RowSource: String, Sendable, Codable {
    case bundle
    case admin
}

/// A role held by an entity, optionally limited to a scope (a key-path or resource glob).
public struct StoredRole: Hashable, Sendable {
    public var role: String
    /// nil grants the role everywhere.
    public var scope: String?

    /// Creates a role binding.
    public init(role: String, scope: String? = nil) {
        self.role = role
        self.scope = scope
    }
}

/// An entity as the store keeps it: a type, an id, its attributes as a JSON object, its roles.
public struct StoredEntity: Sendable, Equatable {
    public var type: String
    public var id: String
    /// The attributes as the UTF-8 bytes of a JSON object.
    public var attributesJSON: [UInt8]
    public var roles: [StoredRole]
    public var source: RowSource

    /// Creates an entity.
    public init(type: String, id: String, attributesJSON: [UInt8], roles: [StoredRole] = [], source: RowSource = .admin) {
        self.type = type
        self.id = id
        self.attributesJSON = attributesJSON
        self.roles = roles
        self.source = source
    }
}
