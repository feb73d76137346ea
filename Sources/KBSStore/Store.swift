import Foundation
import GRDB
import KBSClaims

/// The SQLite store behind the server: entities and role bindings now; tokens, keys and audit as they come.
///
/// One file, `kbs.sqlite`, in WAL mode with full synchronisation, so that a write that returned survives
/// `kill -9`. Every method is synchronous and safe to call from any thread.
package final class Store: Sendable {
    /// The database file.
    package let path: String
    private let pool: DatabasePool
    /// Redacts sensitive identifiers before they enter the audit log; nil for a store opened by path alone.
    package let redactor: AuditRedactor?
    /// Batches concurrent audit appends into shared commits.
    let auditWriter = AuditGroupCommit()

    /// Opens (creating when absent) the store at `path` and applies pending migrations; unless `readOnly`, the database
    /// file and its `-wal` and `-shm` are made 0600.
    ///
    /// With `readOnly`, the file must exist, nothing is migrated and every write throws; a running server's
    /// store can be read this way (WAL lets readers and the writer work side by side).
    package init(path: String, readOnly: Bool = false, redactor: AuditRedactor? = nil) throws(StoreError) {
        self.path = path
        self.redactor = redactor
        var configuration = Configuration()
        configuration.foreignKeysEnabled = true
        configuration.busyMode = .timeout(5)
        configuration.readonly = readOnly
        configuration.prepareDatabase { db in
            try db.execute(sql: "PRAGMA synchronous = FULL")
        }
        if !readOnly { try StoreFiles.secure(database: path) }
        do {
            pool = try DatabasePool(path: path, configuration: configuration)
            // GRDB sets `synchronous = NORMAL` on the writer when it turns WAL on, after `prepareDatabase` ran: without
            // this, commits would not wait for the disk (a power loss could take back writes that had returned).
            if !readOnly { try pool.writeWithoutTransaction { db in try db.execute(sql: "PRAGMA synchronous = FULL") } }
            if !readOnly { try Migrations.migrator.migrate(pool) }
        } catch {
            throw StoreError(.database, "cannot open \(path): \(Store.describe(error))")
        }
    }

    /// Opens the store in a data directory, as `DIR/kbs.sqlite`; unless `readOnly`, the directory is made 0700 and the
    /// database files 0600.
    package convenience init(directory: String, readOnly: Bool = false) throws(StoreError) {
        if !readOnly { try StoreFiles.tighten(directory: directory) }
        // A missing directory fails at open below, with SQLite's reason.
        let redactor =
            readOnly || !FileManager.default.fileExists(atPath: directory)
            ? nil : try AuditRedactor(key: StoreFiles.redactionKey(directory: directory))
        try self.init(path: directory + "/kbs.sqlite", readOnly: readOnly, redactor: redactor)
    }

    /// The journal mode SQLite reports (`wal` once open).
    package func journalMode() throws(StoreError) -> String {
        try read { db in try String.fetchOne(db, sql: "PRAGMA journal_mode") ?? "" }
    }

    /// The writer connection's `synchronous` setting (2, FULL: every commit waits for the disk).
    package func writerSynchronous() throws(StoreError) -> Int {
        try write { db in try Int.fetchOne(db, sql: "PRAGMA synchronous") ?? -1 }
    }

    /// The migrations applied so far, oldest first.
    package func appliedMigrations() throws(StoreError) -> [String] {
        try read { db in try Migrations.migrator.appliedMigrations(db) }
    }

    func read<T>(_ body: (Database) throws -> T) throws(StoreError) -> T {
        do {
            return try pool.read(body)
        } catch let error as StoreError {
            throw error
        } catch {
            throw StoreError(.database, Store.describe(error))
        }
    }

    func write<T>(_ body: (Database) throws -> T) throws(StoreError) -> T {
        do {
            return try pool.write(body)
        } catch let error as StoreError {
            throw error
        } catch {
            throw StoreError(.database, Store.describe(error))
        }
    }

    /// Runs `body` in an IMMEDIATE transaction: the write lock is taken before the first read, so a
    /// read-then-write (the audit chain's last hash) cannot interleave with another connection's, even from
    /// another `Store` or process on the same file.
    func writeImmediate<T>(_ body: (Database) throws -> T) throws(StoreError) -> T {
        do {
            return try pool.writeWithoutTransaction { db in
                var result: T?
                try db.inTransaction(.immediate) {
                    result = try body(db)
                    return .commit
                }
                guard let result else { throw StoreError(.database, "transaction produced no result") }
                return result
            }
        } catch let error as StoreError {
            throw error
        } catch {
            throw StoreError(.database, Store.describe(error))
        }
    }

    static func describe(_ error: any Error) -> String {
        if let error = error as? DatabaseError { return error.message ?? error.description }
        return String(describing: error)
    }

    static var now: Int64 { Int64(Date().timeIntervalSince1970 * 1000) }
}
