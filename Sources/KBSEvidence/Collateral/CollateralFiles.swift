import Foundation
import Glibc
import KBSClaims

/// The file operations of the collateral cache: private folders, whole-file atomic writes.
enum CollateralFiles {
    /// The bytes of `url`, nil when it cannot be read.
    static func read(_ url: URL) -> [UInt8]? {
        FileManager.default.contents(atPath: url.path).map(Array.init)
    }

    /// Replaces `url` with `bytes` in one step: a 0600 temporary file beside it, flushed, then renamed over it, so a
    /// reader sees the old file or the new one, never a part. Folders from `root` down are made 0700: collateral is
    /// public, but what a KBS asked for says which platforms attest to it.
    static func write(_ bytes: [UInt8], to url: URL, root: URL) throws(EvidenceError) {
        let folder = url.deletingLastPathComponent()
        do {
            try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o700])
        } catch {
            throw EvidenceError(.collateral, "cannot create \(folder.path): \(error.localizedDescription)")
        }
        for directory in [root, folder] { _ = chmod(directory.path, 0o700) }
        let temporary = folder.appendingPathComponent(".\(url.lastPathComponent).\(UUID().uuidString).tmp").path
        let descriptor = open(temporary, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0o600)
        guard descriptor >= 0 else { throw EvidenceError(.collateral, "cannot create \(temporary): \(String(cString: strerror(errno)))") }
        var written = 0
        var ok = true
        bytes.withUnsafeBytes { buffer in
            while written < buffer.count {
                let count = Glibc.write(descriptor, buffer.baseAddress! + written, buffer.count - written)
                if count < 0 {
                    if errno == EINTR { continue }
                    ok = false
                    return
                }
                written += count
            }
        }
        ok = ok && fsync(descriptor) == 0
        ok = close(descriptor) == 0 && ok
        guard ok, rename(temporary, url.path) == 0 else {
            let reason = String(cString: strerror(errno))
            unlink(temporary)
            throw EvidenceError(.collateral, "cannot write \(url.path): \(reason)")
        }
    }

    /// Removes `url` if it is there.
    static func remove(_ url: URL) {
        unlink(url.path)
    }
}
