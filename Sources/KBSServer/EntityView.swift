import HTTPTypes
import KBSBroker
import KBSClaims
import KBSPolicy
import KBSStore
import Synchronization

/// The store's entities and roles held in memory for the evaluator, kept fresh from the ``EntityRepository``.
///
/// Policies read entities synchronously inside a decision, so reads must not touch the database; the store stays the
/// source of truth. The view is loaded at start, after imports, entity by entity after this replica's writes, and,
/// for the writes of other replicas sharing the database, whenever ``refreshIfChanged()`` finds the store's
/// generation moved past the one last loaded.
final class EntityView: Sendable {
    private struct Loaded {
        var provider: InMemoryEntityProvider
        /// The store's generation the provider was loaded at; a one-entity refresh leaves it, so the next check
        /// reloads all and picks up whatever else changed meanwhile.
        var generation: Int64?
    }

    /// Where the entities live.
    let repository: any EntityRepository
    private let current: Mutex<Loaded>
    /// Serialises updates, so a full reload and a one-entity refresh never interleave their read and swap.
    private let updating = SerialGate()

    /// Loads every entity from `repository`.
    init(repository: any EntityRepository) async throws(ServerError) {
        self.repository = repository
        current = Mutex(Loaded(provider: InMemoryEntityProvider(), generation: nil))
        try await reloadAll()
    }

    /// The entities as of now; a request uses one snapshot throughout.
    func snapshot() -> InMemoryEntityProvider {
        current.withLock { $0.provider }
    }

    /// The store's generation the view was last loaded whole at; nil before the first load.
    var loadedGeneration: Int64? { current.withLock { $0.generation } }

    /// Rebuilds the view from the store.
    func reloadAll() async throws(ServerError) {
        try await updating.run { () async throws(ServerError) in try await loadAll() }
    }

    /// Reloads the whole view when the store's generation differs from the one last loaded (another replica wrote);
    /// true when it reloaded. One cheap read when nothing changed.
    @discardableResult
    func refreshIfChanged() async throws(ServerError) -> Bool {
        try await updating.run { () async throws(ServerError) -> Bool in
            let generation = try await EntityView.mapping { try await repository.generation() }
            guard generation != current.withLock({ $0.generation }) else { return false }
            try await loadAll()
            return true
        }
    }

    /// Re-reads one entity after a write; returns it as stored, or nil when it is gone.
    @discardableResult
    func refresh(type: String, id: String) async throws(ServerError) -> StoredEntity? {
        try await updating.run { () async throws(ServerError) -> StoredEntity? in
            let stored = try await EntityView.mapping { try await repository.entity(type: type, id: id) }
            current.withLock { loaded in
                if let stored {
                    loaded.provider.put(EntityView.entity(from: stored))
                } else {
                    loaded.provider.remove(type: type, id: id)
                }
            }
            return stored
        }
    }

    /// Mirrors a bundle's entities into the store, then reloads the view.
    func importBundle(_ entities: [StoredEntity]) async throws(ServerError) {
        try await updating.run { () async throws(ServerError) in
            try await EntityView.mapping { try await repository.importBundle(entities) }
            try await loadAll()
        }
    }

    /// Reads the snapshot and swaps it in; callers hold `updating`.
    private func loadAll() async throws(ServerError) {
        let snapshot = try await EntityView.mapping { try await repository.snapshot() }
        let provider = InMemoryEntityProvider(snapshot.entities.map(EntityView.entity(from:)))
        current.withLock { $0 = Loaded(provider: provider, generation: snapshot.generation) }
    }

    static func entity(from stored: StoredEntity) -> InMemoryEntityProvider.Entity {
        .init(
            type: stored.type, id: stored.id, attributesJSON: stored.attributesJSON,
            roles: stored.roles.map { RoleBinding(role: $0.role, scope: $0.scope) })
    }

    /// Runs a repository call and maps its refusal onto HTTP: the store's codes to 400, 404 and 409, anything else to
    /// 500.
    static func mapping<T>(_ body: () async throws -> T) async throws(ServerError) -> T {
        do {
            return try await body()
        } catch let error as StoreError {
            switch error.code {
            case .notFound: throw .notFound(error.message)
            case .invalid: throw .badRequest("invalid_request", error.message)
            case .bundleOwned: throw ServerError(.conflict, "bundle_owned", error.message)
            case .database: throw ServerError(.internalServerError, "store", error.message)
            }
        } catch let error as ServerError {
            throw error
        } catch {
            throw ServerError(.internalServerError, "store", "\(error)")
        }
    }
}
