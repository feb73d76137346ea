/// What the AWS KMS API knows of a key beyond its record in the key hierarchy: who made it, what it is for, its
/// rotation schedule. The material, versions, state, required tier and tags (labels) live in the hierarchy's record.
package struct KMSKeyEntry: Sendable, Equatable {
    /// The key id, a lower-case UUID; the hierarchy's record is `kms/<id>`.
    package var id: String
    /// The subject id of the caller that created it (`apikey:<id>`, `oidc:<issuer>#<sub>`, …).
    package var creator: String
    package var description: String
    package var usage: KMSKeyUsage
    package var spec: KMSKeySpec
    /// Milliseconds since 1970.
    package var createdAt: Int64
    /// Days between automatic rotations; nil while rotation is off.
    package var rotationPeriodDays: Int?
    /// When the key last rotated, or rotation was turned on (the start of the current period), in milliseconds.
    package var rotationStartedAt: Int64?
    /// The deletion window asked for, while a deletion is scheduled.
    package var deletionWindowDays: Int?

    /// Creates an entry.
    package init(
        id: String, creator: String, description: String, usage: KMSKeyUsage, spec: KMSKeySpec, createdAt: Int64,
        rotationPeriodDays: Int? = nil, rotationStartedAt: Int64? = nil, deletionWindowDays: Int? = nil
    ) {
        self.id = id
        self.creator = creator
        self.description = description
        self.usage = usage
        self.spec = spec
        self.createdAt = createdAt
        self.rotationPeriodDays = rotationPeriodDays
        self.rotationStartedAt = rotationStartedAt
        self.deletionWindowDays = deletionWindowDays
    }
}

/// An alias: a name (`alias/…`) that stands for one key.
package struct KMSAlias: Sendable, Equatable {
    package var name: String
    package var keyID: String
    /// Milliseconds since 1970.
    package var createdAt: Int64
    package var updatedAt: Int64

    /// Creates an alias.
    package init(name: String, keyID: String, createdAt: Int64, updatedAt: Int64) {
        self.name = name
        self.keyID = keyID
        self.createdAt = createdAt
        self.updatedAt = updatedAt
    }
}

/// Where the AWS KMS API keeps key entries and aliases.
package protocol KMSRepository: Sendable {
    /// Stores a new entry; throws when its id exists.
    func insert(_ key: KMSKeyEntry) async throws
    func key(_ id: String) async throws -> KMSKeyEntry?
    /// Up to `limit` entries in id order, after `marker` (an id) when given.
    func keys(after marker: String?, limit: Int) async throws -> [KMSKeyEntry]
    /// Replaces the entry with its id; false when there is none.
    func update(_ key: KMSKeyEntry) async throws -> Bool
    /// Stores a new alias; false when the name is taken.
    func createAlias(_ alias: KMSAlias) async throws -> Bool
    func alias(_ name: String) async throws -> KMSAlias?
    /// Up to `limit` aliases in name order, after `marker` (a name) when given, only `keyID`'s when given.
    func aliases(after marker: String?, limit: Int, keyID: String?) async throws -> [KMSAlias]
    /// Points alias `name` at `keyID`; false when there is no such alias.
    func updateAlias(_ name: String, keyID: String, at time: Int64) async throws -> Bool
    /// Removes alias `name`; false when there is none.
    func deleteAlias(_ name: String) async throws -> Bool
}
