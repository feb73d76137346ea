package import Foundation
import Synchronization

/// RCAR sessions in this process's memory, bounded in number overall and per client address: a restart ends them and
/// clients authenticate again.
///
/// Room is made only within a client's own sessions: a client at its limit loses its own oldest session, and when the
/// whole table is full of live sessions a new one is refused rather than pushing out anyone else's (so no client can
/// evict another's live or attested session by opening many).
package final class InMemoryRCARSessions: RCARSessionStore {
    private struct State {
        var table: [String: RCARSession] = [:]
        /// Each client's session ids, oldest first.
        var byClient: [String: [String]] = [:]
    }

    private let state = Mutex(State())
    /// Most sessions held at once.
    let capacity: Int
    /// Most sessions one client address holds at once.
    let perClient: Int

    /// Holds at most `capacity` sessions, at most `perClient` of them for one client address.
    package init(capacity: Int = 10_000, perClient: Int = 64) {
        self.capacity = capacity
        self.perClient = perClient
    }

    /// Keeps `session`, or throws ``BrokerError/sessionsFull`` when no room can be made among the client's own.
    package func insert(_ session: RCARSession, now: Date) throws(BrokerError) {
        try state.withLock { (state: inout State) throws(BrokerError) in
            Self.dropExpired(of: session.client, in: &state, now: now)
            if let ids = state.byClient[session.client], ids.count >= perClient, let oldest = ids.first {
                Self.remove(oldest, from: &state)
            }
            if state.table.count >= capacity {
                for client in Array(state.byClient.keys) { Self.dropExpired(of: client, in: &state, now: now) }
                guard state.table.count < capacity else { throw .sessionsFull }
            }
            state.table[session.id] = session
            state.byClient[session.client, default: []].append(session.id)
        }
    }

    package func session(_ id: String, now: Date) -> RCARSession? {
        state.withLock { state in
            guard let session = state.table[id] else { return nil }
            guard session.expires > now else {
                Self.remove(id, from: &state)
                return nil
            }
            return session
        }
    }

    package func beginAttempt(_ id: String) -> Bool {
        state.withLock { state in
            guard var session = state.table[id], !session.attempted else { return false }
            session.attempted = true
            state.table[id] = session
            return true
        }
    }

    package func attach(_ appraisal: Appraisal, to id: String) {
        state.withLock { state in state.table[id]?.appraisal = appraisal }
    }

    /// How many sessions are held.
    var count: Int { state.withLock { $0.table.count } }

    private static func dropExpired(of client: String, in state: inout State, now: Date) {
        guard let ids = state.byClient[client] else { return }
        for id in ids where (state.table[id]?.expires ?? now) <= now { remove(id, from: &state) }
    }

    private static func remove(_ id: String, from state: inout State) {
        guard let session = state.table.removeValue(forKey: id) else { return }
        state.byClient[session.client]?.removeAll { $0 == id }
        if state.byClient[session.client]?.isEmpty == true { state.byClient[session.client] = nil }
    }
}
