import Dispatch

/// Runs blocking work (compiling a reloaded bundle, reading its files, flushing the decision log) on a dispatch
/// queue and resumes with the result, so no thread of Swift's cooperative pool waits on a disk or a compiler.
enum Blocking {
    private static let queue = DispatchQueue(label: "kbs.server.blocking", qos: .utility, attributes: .concurrent)

    static func run<T: Sendable>(_ body: @escaping @Sendable () -> T) async -> T {
        await withCheckedContinuation { continuation in
            queue.async { continuation.resume(returning: body()) }
        }
    }
}
