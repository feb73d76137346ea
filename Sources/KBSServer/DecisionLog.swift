import Foundation
import HTTPTypes
import Synchronization

/// The decision log: one JSON line per decision, appended with a single `write` each.
///
/// Lines go straight to the kernel, so a crash of the server loses none that were answered. A line that cannot
/// be written is never dropped silently: the request that produced it fails with 503, and the failure is counted.
final class DecisionLog: Sendable {
    let path: String
    private let descriptor: Int32
    private let ownsDescriptor: Bool
    private let lock = Mutex(())

    /// Opens `path` for appending (mode 0600); `-` writes to standard output.
    init(path: String) throws(ServerError) {
        self.path = path
        if path == "-" {
            descriptor = STDOUT_FILENO
            ownsDescriptor = false
        } else {
            descriptor = open(path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0o600)
            ownsDescriptor = true
            guard descriptor >= 0 else {
                throw ServerError(.internalServerError, "decision_log", "cannot open \(path): \(String(cString: strerror(errno)))")
            }
        }
    }

    deinit {
        if ownsDescriptor { close(descriptor) }
    }

    /// Appends one line (a newline is added); false when it could not be written in full.
    func append(_ line: String) -> Bool {
        var bytes = Array(line.utf8)
        bytes.append(UInt8(ascii: "\n"))
        return lock.withLock { _ in
            var offset = 0
            while offset < bytes.count {
                let written = bytes.withUnsafeBytes { write(descriptor, $0.baseAddress! + offset, $0.count - offset) }
                if written < 0 {
                    if errno == EINTR { continue }
                    return false
                }
                offset += written
            }
            return true
        }
    }
}
