package import Foundation
import KBSClaims
import Synchronization

/// The RCAR sessions in flight (`kbs-session-id` cookie → nonce, TEE kind, state), bounded in number and lifetime.
///
/// A session lives five minutes from `/auth`; its nonce can be attested once; the appraisal it then holds serves
/// resource requests for a minute. Sessions are memory only: a restart ends them, and clients authenticate again.
package final class RCARSessions: Sendable {
    package struct Session: Sendable {
        package let id: String
        let nonce: String
        let tee: String
        let expires: Date
        var appraisal: Appraisal?
        var attempted = false
    }

    private let sessions = Mutex<[String: Session]>([:])
    let capacity: Int
    let lifetime: TimeInterval

    init(capacity: Int, lifetime: TimeInterval) {
        self.capacity = capacity
        self.lifetime = lifetime
    }

    /// Opens a session; when full, expired sessions go first, then the oldest. `fixedNonce` is for the fuzz harness,
    /// which needs inputs bound to a nonce it knows in advance.
    package func open(tee: String, now: Date, fixedNonce: String? = nil) -> Session {
        var idBytes = [UInt8](repeating: 0, count: 16)
        var nonceBytes = [UInt8](repeating: 0, count: 32)
        var generator = SystemRandomNumberGenerator()
        for index in idBytes.indices { idBytes[index] = generator.next() }
        for index in nonceBytes.indices { nonceBytes[index] = generator.next() }
        let session = Session(id: Hex.encode(idBytes),
            nonce: fixedNonce ?? Data(nonceBytes).base64EncodedString(), tee: tee, expires: now + lifetime)
        sessions.withLock { table in
            if table.count >= capacity {
                table = table.filter { $0.value.expires > now }
                if table.count >= capacity, let oldest = table.min(by: { $0.value.expires < $1.value.expires }) {
                    table.removeValue(forKey: oldest.key)
                }
            }
            table[session.id] = session
        }
        return session
    }

    /// The live session with `id`.
    func session(_ id: String, now: Date) -> Session? {
        sessions.withLock { table in
            guard let session = table[id] else { return nil }
            guard session.expires > now else {
                table.removeValue(forKey: id)
                return nil
            }
            return session
        }
    }

    /// Marks the session's one attestation attempt; false when it was already made (the nonce is spent).
    func beginAttempt(_ id: String) -> Bool {
        sessions.withLock { table in
            guard var session = table[id], !session.attempted else { return false }
            session.attempted = true
            table[id] = session
            return true
        }
    }

    func attach(_ appraisal: Appraisal, to id: String) {
        sessions.withLock { table in table[id]?.appraisal = appraisal }
    }

    var count: Int { sessions.withLock { $0.count } }
}
