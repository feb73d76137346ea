import Foundation
import Glibc
import KBSClaims
import Testing

@testable import KBSKeys

/// A fixed instant; key code never reads the clock.
let epoch = Date(timeIntervalSince1970: 1_800_000_000)

let day: TimeInterval = 86_400

/// Scrypt parameters cheap enough for tests (1 MiB, a few milliseconds).
let cheapScrypt = ScryptParameters(log2N: 10, r: 8, p: 1)

/// One folder for this test process's sealed files; folders of earlier processes that have exited are removed.
let testRoot: String = {
    let temporary = FileManager.default.temporaryDirectory
    for name in (try? FileManager.default.contentsOfDirectory(atPath: temporary.path)) ?? [] {
        guard name.hasPrefix("kbs-keys-tests-"), let pid = Int32(name.dropFirst("kbs-keys-tests-".count)) else { continue }
        if kill(pid, 0) != 0 && errno == ESRCH {
            try? FileManager.default.removeItem(atPath: temporary.appendingPathComponent(name).path)
        }
    }
    return temporary.appendingPathComponent("kbs-keys-tests-\(getpid())").path
}()

/// A fresh folder under the temporary directory.
func temporaryDirectory() throws -> String {
    let path = testRoot + "/\(UUID())"
    try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
    return path
}

/// A hierarchy over an in-memory store, rooted in a 2-of-2 Shamir-sealed master key (no KDF cost).
func makeHierarchy() throws -> (KeyHierarchy, InMemoryKeyRecordStore) {
    let directory = try temporaryDirectory()
    let (provider, _) = try LocalMasterKeyProvider.create(at: directory + "/master.sealed", threshold: 2, shareCount: 2)
    let store = InMemoryKeyRecordStore()
    return (KeyHierarchy(master: provider, store: store), store)
}

/// Expects `body` to throw a `KeyError` with `reason`.
func expectKeyError(
    _ reason: KeyErrorReason,
    sourceLocation: SourceLocation = #_sourceLocation,
    _ body: () async throws -> Void
) async {
    do {
        try await body()
        Issue.record("expected \(reason), got success", sourceLocation: sourceLocation)
    } catch let error as KeyError {
        #expect(error.reason == reason, "\(error)", sourceLocation: sourceLocation)
    } catch {
        Issue.record("expected KeyError \(reason), got \(error)", sourceLocation: sourceLocation)
    }
}

/// All `k`-element subsets of `items`, in order.
func subsets<T>(_ items: [T], size k: Int) -> [[T]] {
    guard k > 0 else { return [[]] }
    guard items.count >= k else { return [] }
    let head = items[0]
    let rest = Array(items.dropFirst())
    return subsets(rest, size: k - 1).map { [head] + $0 } + subsets(rest, size: k)
}

/// Copies key bytes out for comparison: only tests do this.
func copied(_ secret: borrowing SecretBytes) -> [UInt8] {
    secret.withUnsafeBytes { Array($0) }
}
