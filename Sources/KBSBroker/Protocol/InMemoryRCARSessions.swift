package import Foundation
import Synchronization

/// RCAR sessions in this process's memory, bounded in number: a restart ends them and clients authenticate again.
package final class InMemoryRCARSessions: RCARSessionStore {
    private let sessions = Mutex<[String: RCARSession]>([:])
    /// Most sessions held at once.
    let capacity: Int

    /// Holds at most `capacity` sessions.
    package init(capacity: Int = 10_000) {
        self.capacity = capacity
    }

    /// When full, expired sessions go first, then the oldest.
    package func insert(_ session: RCARSession, now: Date) {
        sessions.withLock { table in
            if table.count >= capacity {
                table = table.filter { $0.value.expires > now }
                if table.count >= capacity, let oldest = table.min(by: { $0.value.expires < $1.value.expires }) {
                    table.removeValue(forKey: oldest.key)
                }
            }
            table[session.id] = session
        }
    }

    package func session(_ id: String, now: Date) -> RCARSession? {
        sessions.withLock { table in
            guard let session = table[id] else { return nil }
            guard session.expires > now else {
                table.removeValue(forKey: id)
                return nil
            }
            return session
        }
    }

    package func beginAttempt(_ id: String) -> Bool {
        sessions.withLock { table in
            guard var session = table[id], !session.attempted else { return false }
            session.attempted = true
            table[id] = session
            return true
        }
    }

    package func attach(_ appraisal: Appraisal, to id: String) {
        sessions.withLock { table in table[id]?.appraisal = appraisal }
    }

    /// How many sessions are held.
    var count: Int { sessions.withLock { $0.count } }
}
