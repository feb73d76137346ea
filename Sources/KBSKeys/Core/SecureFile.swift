import Foundation
import Glibc
import KBSClaims

/// Files holding secrets: created whole or not at all, mode 0600, never overwriting an existing file.
enum SecureFile {
    /// Writes `contents` to a fresh temporary file beside `path` (mode 0600, synced), then links it into place, which
    /// fails if `path` exists: a crash leaves either no file or the complete one, and a sealed master key is never
    /// replaced by accident.
    static func create(_ path: String, contents: [UInt8]) throws(KeyError) {
        let directory = path.contains("/") ? String(path[..<path.lastIndex(of: "/")!]) : "."
        var generator = SystemRandomNumberGenerator()
        let temporary = "\(path).tmp-\(String(generator.next() as UInt64, radix: 16))"
        let fd = open(temporary, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0o600)
        guard fd >= 0 else { throw KeyError(.storage, "cannot create \(temporary): \(errorText())") }
        var ok = fchmod(fd, 0o600) == 0
        var offset = 0
        while ok, offset < contents.count {
            let written = contents.withUnsafeBytes { write(fd, $0.baseAddress! + offset, $0.count - offset) }
            if written > 0 { offset += written } else if written < 0, errno == EINTR { continue } else { ok = false }
        }
        ok = ok && fsync(fd) == 0
        close(fd)
        defer { unlink(temporary) }
        guard ok else { throw KeyError(.storage, "cannot write \(temporary): \(errorText())") }
        guard link(temporary, path) == 0 else {
            if errno == EEXIST { throw KeyError(.alreadyExists, "\(path) already exists; it is never overwritten") }
            throw KeyError(.storage, "cannot create \(path): \(errorText())")
        }
        // Make the new directory entry durable too.
        let directoryFD = open(directory, O_RDONLY | O_DIRECTORY | O_CLOEXEC)
        if directoryFD >= 0 {
            _ = fsync(directoryFD)
            close(directoryFD)
        }
    }

    /// The bytes of `path`; a missing file is `missing`'s error.
    static func read(_ path: String, missing: KeyError) throws(KeyError) -> [UInt8] {
        guard FileManager.default.fileExists(atPath: path) else { throw missing }
        guard let data = FileManager.default.contents(atPath: path) else {
            throw KeyError(.storage, "cannot read \(path)")
        }
        return Array(data)
    }

    private static func errorText() -> String { String(cString: strerror(errno)) }
}
