import Foundation
import KBSClaims
package import KBSStore
import Logging
import PostgresNIO
import Synchronization

/// The broker's store on PostgreSQL, for several replicas sharing one database: a connection pool, the schema's
/// migrations, and the queries every repository of this target runs.
///
/// Every write is one statement or one transaction, committed before the call returns; whatever fails (a refused
/// connection, a constraint, a type the row should not hold) throws a ``StoreError``, never a silent default.
package final class PostgresStore: Sendable {
    let client: PostgresClient
    /// The pool's run loop: PostgresNIO's client serves queries only while `run()` is running.
    private let runner: Task<Void, Never>
    /// The schema every table lives in (`search_path`), when not the database's default.
    package let schema: String?
    /// Redacts sensitive identifiers before they enter the audit log; set at open, or once the master key that seals
    /// its key is unsealed (``redactAudit(with:)``).
    package var redactor: AuditRedactor? { redaction.withLock { $0 } }
    private let redaction: Mutex<AuditRedactor?>
    let logger: Logger

    /// Connects to the database `url` names (``PostgresURL``), creates `schema` (or the URL's) when given and absent, and applies
    /// pending migrations; throws when the database cannot be reached or its schema is newer than this build. Without
    /// `migrating` nothing is created or changed (a reader such as `kbs audit verify`): only reaching it is checked.
    package init(
        url: String, schema: String? = nil, migrating: Bool = true, redactor: AuditRedactor? = nil, maximumConnections: Int = 20
    ) async throws(StoreError) {
        let parsed = try PostgresURL.configuration(url)
        var probe = parsed.probe
        var configuration = parsed.client
        let schema = schema ?? parsed.schema
        if let schema {
            guard PostgresStore.isPlainIdentifier(schema) else {
                throw StoreError(.invalid, "a schema name is 1 to 63 of a-z 0-9 _, starting with a letter, not `\(schema)`")
            }
            configuration.options.additionalStartupParameters.append(("search_path", schema))
            probe.options.additionalStartupParameters.append(("search_path", schema))
        }
        configuration.options.maximumConnections = maximumConnections
        // One connection first, outside the pool: the pool retries a refused or silent server with back-off for a
        // minute or more, where a start should stop at once and say why. A server that answers, however slowly under
        // load, is then waited for.
        try await PostgresStore.reach(probe, host: probe.host ?? "?", port: probe.port ?? 0)
        var logger = Logger(label: "kbs.store.postgres")
        logger.logLevel = .error
        let client = PostgresClient(configuration: configuration, backgroundLogger: logger)
        self.client = client
        self.schema = schema
        self.redaction = Mutex(redactor)
        self.logger = logger
        runner = Task { await client.run() }
        guard migrating else { return }
        do {
            try await PostgresMigrations.migrate(self)
        } catch {
            await close()
            throw error
        }
    }

    /// Why `url` is not a PostgreSQL store URL this store opens (``PostgresURL``), or nil; the URL is not repeated.
    package static func check(url: String) -> String? {
        do throws(StoreError) {
            _ = try PostgresURL.configuration(url)
            return nil
        } catch {
            return error.message
        }
    }

    /// Connects once with `probe` (PostgresNIO's connect timeout: 10 s) and hangs up; the reason when that fails.
    private static func reach(_ probe: PostgresConnection.Configuration, host: String, port: Int) async throws(StoreError) {
        var logger = Logger(label: "kbs.store.postgres")
        logger.logLevel = .critical
        do {
            let connection = try await PostgresConnection.connect(configuration: probe, id: 0, logger: logger)
            try await connection.close()
        } catch {
            throw StoreError(.database, "cannot reach PostgreSQL at \(host):\(port): \(describe(error))")
        }
    }

    /// Whether the database answers a trivial query within `seconds`: what a replica's readiness probe asks. The pool
    /// waits on a refused or silent server rather than failing, so the probe races the query against a timer.
    package func answers(within seconds: Int = 2) async -> Bool {
        await withTaskGroup(of: Bool.self) { group in
            group.addTask { [self] in (try? await count("SELECT 1")) == 1 }
            group.addTask {
                try? await Task.sleep(for: .seconds(seconds))
                return false
            }
            let first = await group.next() ?? false
            group.cancelAll()
            return first
        }
    }

    /// Redacts every later audit record with `redactor`: a server sets it before it serves, once the master key has
    /// unsealed the redaction key the replicas share (``PostgresSharedSecrets``).
    package func redactAudit(with redactor: AuditRedactor) {
        redaction.withLock { $0 = redactor }
    }

    /// Stops the pool; every later call fails.
    package func close() async {
        runner.cancel()
        await runner.value
    }

    /// The migrations applied so far, oldest first.
    package func appliedMigrations() async throws(StoreError) -> [String] {
        try await rows("SELECT id FROM kbs_migration ORDER BY id") { row in try row.decode(String.self) }
    }

    /// Runs `sql` as it is, binding nothing: for migrations and tests, never with a value from a request.
    func execute(_ sql: String) async throws(StoreError) {
        try await count(PostgresQuery(unsafeSQL: sql))
    }

    /// Runs `query` and decodes every row it returns with `decode`.
    func rows<T>(_ query: PostgresQuery, _ decode: (PostgresRow) throws -> T) async throws(StoreError) -> [T] {
        try await mapped { () async throws -> [T] in
            var result: [T] = []
            for try await row in try await client.query(query, logger: logger) { result.append(try decode(row)) }
            return result
        }
    }

    /// Runs `query` and returns how many rows it returned: a write says what it changed through `RETURNING`.
    @discardableResult
    func count(_ query: PostgresQuery) async throws(StoreError) -> Int {
        try await rows(query) { _ in () }.count
    }

    /// Runs `body` in one transaction on one connection, committed when it returns and rolled back when it throws.
    func transaction<T: Sendable>(_ body: (PostgresConnection) async throws -> T) async throws(StoreError) -> T {
        try await mapped { () async throws -> T in
            try await client.withConnection { connection async throws -> T in
                try await connection.query("BEGIN", logger: logger)
                do {
                    let result = try await body(connection)
                    try await connection.query("COMMIT", logger: logger)
                    return result
                } catch {
                    // A failed ROLLBACK leaves the connection broken; the pool drops it, and the first error is the story.
                    _ = try? await connection.query("ROLLBACK", logger: logger)
                    throw error
                }
            }
        }
    }

    /// `body`'s errors as a ``StoreError``: the server's message and SQLSTATE, never the query's bound values.
    func mapped<T>(_ body: () async throws -> T) async throws(StoreError) -> T {
        do { return try await body() } catch let error as StoreError { throw error } catch {
            throw StoreError(.database, PostgresStore.describe(error))
        }
    }

    static func describe(_ error: any Error) -> String {
        if let error = error as? PSQLError {
            if let message = error.serverInfo?[.message] {
                return "postgresql: \(message) (SQLSTATE \(error.serverInfo?[.sqlState] ?? "?"))"
            }
            if let underlying = error.underlying { return "postgresql: \(error.code): \(underlying)" }
            return "postgresql: \(error.code)"
        }
        if error is PostgresDecodingError { return "postgresql: a column holds a value of an unexpected type" }
        return "postgresql: \(error)"
    }

    static func isPlainIdentifier(_ name: String) -> Bool {
        guard let first = name.utf8.first, (UInt8(ascii: "a")...UInt8(ascii: "z")).contains(first), name.utf8.count <= 63 else {
            return false
        }
        return name.utf8.allSatisfy { byte in
            (UInt8(ascii: "a")...UInt8(ascii: "z")).contains(byte) || (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(byte)
                || byte == UInt8(ascii: "_")
        }
    }

    static var now: Int64 { Int64(Date().timeIntervalSince1970 * 1000) }
}
