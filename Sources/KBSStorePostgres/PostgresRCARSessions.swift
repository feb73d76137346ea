package import Foundation
package import KBSBroker
import KBSStore
import PostgresNIO

/// ``RCARSessionStore`` on the `rcar_session` table, shared by every replica on the database: a client may `auth` on
/// one replica, `attest` on another and fetch a `resource` on a third.
///
/// It keeps ``InMemoryRCARSessions``'s rules. At most `perClient` sessions per client address: a client at its limit
/// loses its own expired sessions, then its oldest, never another client's. At most `capacity` live sessions overall:
/// when every slot is live, a new session is refused with ``BrokerError/sessionsFull``. Inserts for one client are
/// serialised across replicas by an advisory lock on the client; inserts for different clients are not, so the overall
/// bound may be passed by the few inserts that race it at once, which is all a flood of clients could gain.
///
/// Times are milliseconds since 1970, rounded down, so a session never outlives the expiry it was given. Expired rows
/// are swept a bounded batch at a time on every insert, skipping rows another replica is sweeping.
package struct PostgresRCARSessions: RCARSessionStore {
    let store: PostgresStore
    /// Most live sessions held at once.
    let capacity: Int
    /// Most sessions one client address holds at once.
    let perClient: Int

    /// Sessions on `store`: at most `capacity` live ones, at most `perClient` of them for one client address (the
    /// defaults are ``BrokerConfiguration``'s).
    package init(store: PostgresStore, capacity: Int = 10_000, perClient: Int = 64) {
        self.store = store
        self.capacity = capacity
        self.perClient = max(perClient, 1)
    }

    /// Keeps `session`, making room among its client's own sessions; throws ``BrokerError/sessionsFull`` when every
    /// slot holds a live session.
    package func insert(_ session: RCARSession, now: Date) async throws {
        let at = Self.milliseconds(now)
        let appraisal = try session.appraisal.map { Data(try $0.storedJSON()) }
        try await store.count(
            """
            DELETE FROM rcar_session WHERE id IN (
                SELECT id FROM rcar_session WHERE expires_at <= \(at) ORDER BY expires_at LIMIT \(Self.sweepBatch) FOR UPDATE SKIP LOCKED)
            RETURNING 1
            """)
        let (store, capacity, perClient) = (store, Int64(capacity), Int64(perClient))
        let inserted = try await store.transaction { connection -> Bool in
            // One client's inserts take turns, so its limit holds exactly however many replicas it reaches.
            try await connection.query("SELECT pg_advisory_xact_lock(\(Self.lockClass), hashtext(\(session.client)))", logger: store.logger)
            try await connection.query("DELETE FROM rcar_session WHERE client = \(session.client) AND expires_at <= \(at)", logger: store.logger)
            let held = try await Self.integer(
                "SELECT count(*) FROM rcar_session WHERE client = \(session.client)", on: connection, logger: store.logger)
            if held >= perClient {
                try await connection.query(
                    """
                    DELETE FROM rcar_session WHERE id IN (
                        SELECT id FROM rcar_session WHERE client = \(session.client) ORDER BY seq LIMIT \(held - perClient + 1))
                    """, logger: store.logger)
            }
            let live = try await Self.integer("SELECT count(*) FROM rcar_session WHERE expires_at > \(at)", on: connection, logger: store.logger)
            guard live < capacity else { return false }
            try await connection.query(
                """
                INSERT INTO rcar_session (id, client, nonce, tee, expires_at, attempted, appraisal)
                VALUES (\(session.id), \(session.client), \(session.nonce), \(session.tee), \(Self.milliseconds(session.expires)),
                    \(session.attempted), \(appraisal))
                """, logger: store.logger)
            return true
        }
        guard inserted else { throw BrokerError.sessionsFull }
    }

    /// The live session with `id`, its appraisal read back (``Appraisal/init(storedJSON:)``); nil when unknown or expired.
    package func session(_ id: String, now: Date) async throws -> RCARSession? {
        let rows = try await store.rows(
            """
            SELECT id, nonce, tee, client, expires_at, attempted, appraisal FROM rcar_session
            WHERE id = \(id) AND expires_at > \(Self.milliseconds(now))
            """
        ) { row in try row.decode((String, String, String, String, Int64, Bool, Data?).self) }
        guard let (id, nonce, tee, client, expires, attempted, appraisal) = rows.first else { return nil }
        return RCARSession(
            id: id, nonce: nonce, tee: tee, client: client, expires: Date(timeIntervalSince1970: Double(expires) / 1000),
            appraisal: try appraisal.map { try Appraisal(storedJSON: Array($0)) }, attempted: attempted)
    }

    /// Marks the one attempt in a single statement, so of replicas racing on one session exactly one is told true.
    package func beginAttempt(_ id: String) async throws -> Bool {
        try await store.count("UPDATE rcar_session SET attempted = TRUE WHERE id = \(id) AND NOT attempted RETURNING 1") == 1
    }

    /// Keeps `appraisal` on the session as its JSON document; a session gone meanwhile keeps nothing.
    package func attach(_ appraisal: Appraisal, to id: String) async throws {
        let document = Data(try appraisal.storedJSON())
        try await store.count("UPDATE rcar_session SET appraisal = \(document) WHERE id = \(id)")
    }

    /// Most expired rows one insert removes, so a sweep after a long quiet spell stays short.
    static let sweepBatch: Int64 = 100

    /// The advisory locks' first key, "rcar" in ASCII: with the client's hash as the second, one lock per client.
    static let lockClass: Int32 = 0x7263_6172

    static func milliseconds(_ date: Date) -> Int64 { Int64((date.timeIntervalSince1970 * 1000).rounded(.down)) }

    private static func integer(_ query: PostgresQuery, on connection: PostgresConnection, logger: Logger) async throws -> Int64 {
        var value: Int64 = 0
        for try await count in try await connection.query(query, logger: logger).decode(Int64.self) { value = count }
        return value
    }
}
