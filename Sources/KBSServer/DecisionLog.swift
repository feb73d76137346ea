import Foundation
import HTTPTypes
import KBSBroker
import KBSPolicy
import Synchronization

/// The decision log: one JSON line per decision, written by a background thread every couple of milliseconds.
///
/// Requests only append to a memory buffer, so a decision costs no system call; the writer drains the buffer
/// with one `write` per batch. Nothing is dropped silently: when the file cannot be written the lines stay
/// buffered (and the failure is logged and counted), and once the buffer holds `capacity` bytes new decisions
/// are refused (the request fails with 503) instead of being lost. Stopping the server flushes everything.
final class DecisionLog: Sendable {
    private struct State {
        var pending: [UInt8] = []
        var stopping = false
        var lastError: String?
    }

    let path: String
    /// Most bytes held while the file cannot keep up or cannot be written.
    let capacity: Int
    private let descriptor: Int32
    private let ownsDescriptor: Bool
    private let state = Mutex(State())
    private let stopped = DispatchSemaphore(value: 0)
    private let onWriteFailure: @Sendable (String) -> Void

    /// Opens `path` for appending (mode 0600), `-` meaning standard output, and starts the writer thread.
    init(path: String, capacity: Int = 16 << 20, intervalMilliseconds: Int = 2, onWriteFailure: @escaping @Sendable (String) -> Void)
        throws(ServerError)
    {
        self.path = path
        self.capacity = capacity
        self.onWriteFailure = onWriteFailure
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
        let thread = Thread { [self] in writerLoop(interval: intervalMilliseconds) }
        thread.name = "kbs-decision-log"
        thread.start()
    }

    deinit {
        if ownsDescriptor { Glibc.close(descriptor) }
    }

    /// Queues one line, newline included; false when the buffer is full and the decision must not be given.
    func append(_ line: [UInt8]) -> Bool {
        state.withLock { state in
            guard !state.stopping, state.pending.count + line.count < capacity else { return false }
            state.pending.append(contentsOf: line)
            return true
        }
    }

    /// Writes what is buffered and stops the writer; later appends are refused.
    func close() {
        let wasRunning = state.withLock { state in
            defer { state.stopping = true }
            return !state.stopping
        }
        if wasRunning { stopped.wait() }
    }

    private func writerLoop(interval: Int) {
        while true {
            usleep(useconds_t(interval * 1000))
            let (batch, stopping) = state.withLock { state in
                defer { state.pending.removeAll(keepingCapacity: true) }
                return (state.pending, state.stopping)
            }
            let (written, failure) = batch.isEmpty ? (0, nil) : write(batch)
            if let failure {
                // Keep the unwritten lines: they go out, in order, once the file accepts them again.
                state.withLock { state in state.pending = Array(batch[written...]) + state.pending }
                onWriteFailure(failure)
                if stopping { break }
                usleep(100_000)
                continue
            }
            if stopping { break }
        }
        stopped.signal()
    }

    /// Writes the batch; how many bytes went out, and the reason when not all did.
    private func write(_ bytes: [UInt8]) -> (Int, String?) {
        var offset = 0
        while offset < bytes.count {
            let written = bytes.withUnsafeBytes { Glibc.write(descriptor, $0.baseAddress! + offset, $0.count - offset) }
            if written < 0 {
                if errno == EINTR { continue }
                return (offset, "cannot write \(path): \(String(cString: strerror(errno)))")
            }
            offset += written
        }
        return (offset, nil)
    }
}

extension DecisionLog: DecisionRecorder {
    /// `{"time","endpoint","request_id"?,"index"?,"decision","rules","errors"?,"reason"?,"subject","action","resource","policy","eval_ns"}`.
    func record(_ record: AccessDecision) -> Bool {
        var line = LogLine()
        line.raw("{\"time\":")
        line.quoted(Decider.logTime(record.time))
        line.raw(",\"endpoint\":")
        line.quoted(record.endpoint)
        if let requestID = record.requestID {
            line.raw(",\"request_id\":")
            line.quoted(requestID)
        }
        if let index = record.index {
            line.raw(",\"index\":")
            line.number(index)
        }
        line.raw(record.decision.isPermitted ? ",\"decision\":true,\"rules\":[" : ",\"decision\":false,\"rules\":[")
        for (position, rule) in record.decision.deciding.enumerated() {
            if position > 0 { line.raw(",") }
            line.quoted(rule.name)
        }
        line.raw("]")
        if !record.decision.errors.isEmpty {
            line.raw(",\"errors\":[")
            for (position, error) in record.decision.errors.enumerated() {
                if position > 0 { line.raw(",") }
                line.quoted((error.rule.map { "\($0): " } ?? "") + error.message)
            }
            line.raw("]")
        }
        if let failure = record.decision.failures.first {
            // Explained decisions (the KMS API's) say why a deny denied: the first failing condition of the first rule.
            line.raw(",\"reason\":")
            var reason = "`\(failure.rule)` requires `\(failure.condition)`"
            if let actual = failure.actual { reason += " (actual \(actual))" }
            line.quoted(reason)
        }
        line.raw(",\"subject\":{\"type\":")
        line.quoted(record.subjectType)
        line.raw(",\"id\":")
        line.quoted(record.subjectID)
        line.raw("},\"action\":")
        line.quoted(record.action)
        line.raw(",\"resource\":{\"type\":")
        line.quoted(record.resourceType)
        line.raw(",\"id\":")
        line.quoted(record.resourceID)
        line.raw("},\"policy\":")
        line.quoted(record.decision.policyHash)
        line.raw(",\"eval_ns\":")
        line.number(record.elapsed)
        line.raw("}\n")
        return append(line.bytes)
    }
}
