import KBSClaims
import KBSPolicy
import KBSStore
import Synchronization

/// The store's entities and roles held in memory for the evaluator, updated on every write through the server.
///
/// Policies read entities synchronously inside a decision, so reads must not touch SQLite; the store stays the
/// source of truth and this view is rebuilt from it at start, after imports, and entity by entity after writes.
final class EntityView: Sendable {
    private let current: Mutex<InMemoryEntityProvider>
    /// Serialises updates, so a full rebuild and a one-entity refresh never interleave their read and swap.
    private let updating = Mutex(())
    private let store: Store

    init(store: Store) throws(StoreError) {
        self.store = store
        current = Mutex(InMemoryEntityProvider())
        try reloadAll()
    }

    /// The entities as of now; a request uses one snapshot throughout.
    func snapshot() -> InMemoryEntityProvider {
        current.withLock { $0 }
    }

    /// Rebuilds the view from the store.
    func reloadAll() throws(StoreError) {
        try updating.withLock { _ throws(StoreError) in
            let entities = try store.allEntities().map(EntityView.entity(from:))
            current.withLock { $0 = InMemoryEntityProvider(entities) }
        }
    }

    /// Re-reads one entity after a write.
    func refresh(type: String, id: String) throws(StoreError) {
        try updating.withLock { _ throws(StoreError) in
            let stored = try store.entity(type: type, id: id)
            current.withLock { view in
                if let stored {
                    view.put(EntityView.entity(from: stored))
                } else {
                    view.remove(type: type, id: id)
                }
            }
        }
    }

    static func entity(from stored: StoredEntity) -> InMemoryEntityProvider.Entity {
        .init(
            type: stored.type, id: stored.id, attributesJSON: stored.attributesJSON,
            roles: stored.roles.map { RoleBinding(role: $0.role, scope: $0.scope) })
    }
}
