/// A role granted to an entity, optionally limited to a scope such as a key-path glob.
public struct RoleBinding: Hashable, Sendable, Codable {
    /// The role's name, e.g. `reader`.
    public var role: String
    /// A glob over resource paths (`kbs/keys/*`); nil grants the role everywhere.
    public var scope: String?

    /// Creates a binding.
    public init(role: String, scope: String? = nil) {
        self.role = role
        self.scope = scope
    }

    /// Whether the binding counts for `path`: no scope, or a scope whose glob matches it (as `has_role` decides).
    public func covers(_ path: String) -> Bool {
        guard let scope else { return true }
        return Glob(scope).matches(path)
    }
}

/// Where policies look entities up by type and id: bundle data here, the SQLite store in the server.
///
/// Providers are read synchronously during evaluation, so they must answer from memory or a fast local store.
public protocol EntityProvider: Sendable {
    /// The entity's attributes as a JSON object, or nil when there is no such entity.
    func attributes(ofType type: String, id: String) -> [UInt8]?
    /// The entity's role bindings; empty when it has none or does not exist.
    func roles(ofType type: String, id: String) -> [RoleBinding]
    /// The role bindings of every entity with this id, whatever its type: a subject's roles, however it was entered.
    func roles(ofAnyTypeWithID id: String) -> [RoleBinding]
}

extension EntityProvider {
    /// None, for providers that can only look entities up by type.
    public func roles(ofAnyTypeWithID id: String) -> [RoleBinding] { [] }
}

/// An entity provider with nothing in it.
public struct EmptyEntityProvider: EntityProvider {
    /// Creates the empty provider.
    public init() {}
    /// Always nil: there are no entities.
    public func attributes(ofType type: String, id: String) -> [UInt8]? { nil }
    /// Always empty: there are no entities.
    public func roles(ofType type: String, id: String) -> [RoleBinding] { [] }
}

/// Entities held in memory, e.g. read from a bundle's `entities.json`.
public struct InMemoryEntityProvider: EntityProvider {
    /// One entity.
    public struct Entity: Sendable {
        /// The entity type, as named in policies.
        public var type: String
        /// The id, unique within the type.
        public var id: String
        /// The attributes as a UTF-8 JSON object.
        public var attributesJSON: [UInt8]
        /// The roles granted to the entity.
        public var roles: [RoleBinding]

        /// Creates an entity from its attributes as JSON bytes.
        public init(type: String, id: String, attributesJSON: [UInt8], roles: [RoleBinding]) {
            self.type = type
            self.id = id
            self.attributesJSON = attributesJSON
            self.roles = roles
        }
    }

    private var entities: [String: Entity] = [:]
    /// The types held under each id, for ``roles(ofAnyTypeWithID:)``.
    private var types: [String: Set<String>] = [:]

    /// Creates a provider holding `entities`.
    public init(_ entities: [Entity] = []) {
        for entity in entities { put(entity) }
    }

    /// All entities held.
    public var all: [Entity] { Array(entities.values) }

    /// Adds or replaces an entity.
    public mutating func put(_ entity: Entity) {
        entities[entity.type + "\u{0}" + entity.id] = entity
        types[entity.id, default: []].insert(entity.type)
    }

    /// Removes an entity if held.
    public mutating func remove(type: String, id: String) {
        entities[type + "\u{0}" + id] = nil
        types[id]?.remove(type)
        if types[id]?.isEmpty == true { types[id] = nil }
    }

    /// The attributes of the held entity, or nil when none is held under that type and id.
    public func attributes(ofType type: String, id: String) -> [UInt8]? {
        entities[type + "\u{0}" + id]?.attributesJSON
    }

    /// The roles of the held entity; empty when none is held under that type and id.
    public func roles(ofType type: String, id: String) -> [RoleBinding] {
        entities[type + "\u{0}" + id]?.roles ?? []
    }

    /// The roles of every held entity with this id, types in name order.
    public func roles(ofAnyTypeWithID id: String) -> [RoleBinding] {
        (types[id] ?? []).sorted().flatMap { roles(ofType: $0, id: id) }
    }
}
