import Foundation
import KBSClaims

/// Owner-only permissions for the data directory and the database files: they hold wrapped keys, tokens, sessions
/// and the audit chain.
enum StoreFiles {
    /// Makes `directory` 0700 when group or others may use it (a directory made by hand or by an older build keeps
    /// whatever mode it was made with). A shared directory (sticky bit, like `/tmp`) or `/` is refused rather than
    /// locked: it was never meant to be the store's own.
    static func tighten(directory: String) throws(StoreError) {
        var info = stat()
        guard stat(directory, &info) == 0 else { return }  // a missing directory fails at open, with SQLite's reason
        guard info.st_mode & S_ISVTX == 0, URL(fileURLWithPath: directory).resolvingSymlinksInPath().path != "/" else {
            throw StoreError(.invalid, "\(directory) is a shared directory; give the store a directory of its own")
        }
        guard info.st_mode & 0o077 != 0 else { return }
        // Only takes bits away: an owner who made the directory read-only keeps it so.
        guard chmod(directory, info.st_mode & 0o700) == 0 else {
            let mode = String(info.st_mode & 0o777, radix: 8)
            throw StoreError(
                .database, "\(directory) is open to group or others (mode 0\(mode)) and cannot be made 0700: \(String(cString: strerror(errno)))")
        }
    }

    /// Creates the database file with mode 0600 when it is missing (SQLite gives `-wal` and `-shm` the database
    /// file's mode), and takes group and other permissions off it and the files beside it when they exist.
    static func secure(database path: String) throws(StoreError) {
        // Never open and close an existing database: closing any descriptor of a file drops every POSIX lock this
        // process holds on it, including those of a connection already open (SQLite's locking would break).
        let descriptor = open(path, O_RDONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0o600)
        if descriptor >= 0 {
            close(descriptor)
        } else if errno != EEXIST {
            throw StoreError(.database, "cannot create \(path): \(String(cString: strerror(errno)))")
        }
        for file in [path, path + "-wal", path + "-shm", path + "-journal"] {
            var info = stat()
            guard stat(file, &info) == 0 else { continue }
            guard info.st_mode & 0o077 != 0 else { continue }
            guard chmod(file, info.st_mode & 0o700) == 0 else {
                throw StoreError(.database, "cannot take group and other permissions off \(file): \(String(cString: strerror(errno)))")
            }
        }
    }

    /// The audit redaction key of a data directory: 32 random bytes in `audit-redaction-key` (0600), made on first
    /// open. Outside the database, so a copy of the log alone cannot confirm a guessed identifier.
    static func redactionKey(directory: String) throws(StoreError) -> [UInt8] {
        let path = directory + "/audit-redaction-key"
        var generator = SystemRandomNumberGenerator()
        let fresh = (0..<32).map { _ in UInt8.random(in: 0...255, using: &generator) }
        let descriptor = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, 0o600)
        if descriptor >= 0 {
            let written = fresh.withUnsafeBytes { write(descriptor, $0.baseAddress, $0.count) }
            let synced = fsync(descriptor) == 0
            close(descriptor)
            guard written == 32, synced else { throw StoreError(.database, "cannot write \(path)") }
            return fresh
        }
        guard errno == EEXIST, let data = FileManager.default.contents(atPath: path), data.count == 32 else {
            throw StoreError(.database, "cannot read the 32-byte audit redaction key at \(path)")
        }
        return Array(data)
    }
}
