import Foundation
import KBSClaims
import KBSJOSE
import Synchronization

/// Where an issuer's JWK Set comes from.
package protocol KeySetSource: Sendable {
    /// The JWK Set document's bytes as of now.
    func fetch() async throws(IdentityError) -> [UInt8]
}

/// A JWK Set read from files: the first fetch reads `paths[0]`, each later one the next path (staying on the last),
/// which models a key file that was rotated on disk. With one path every fetch re-reads it.
package final class FileKeySetSource: KeySetSource {
    private let paths: [String]
    private let fetches = Counter()

    /// Creates a source over `paths` (at least one).
    package init(paths: [String]) {
        precondition(!paths.isEmpty, "a key set source needs a file")
        self.paths = paths
    }

    package func fetch() async throws(IdentityError) -> [UInt8] {
        let index = min(fetches.next(), paths.count - 1)
        guard let data = FileManager.default.contents(atPath: paths[index]) else {
            throw IdentityError(.configuration, "cannot read the JWK Set at \(paths[index])")
        }
        return Array(data)
    }
}

/// One issuer's keys, cached; an unknown `kid` triggers at most one refresh per `minimumRefreshSeconds`
/// (so tokens with random `kid`s cannot turn the verifier into a fetch loop), and is then refused: there is no
/// fallback to some default key.
package actor IssuerKeys {
    private let source: any KeySetSource
    private let minimumRefreshSeconds: Int64
    private var current: JWKSet?
    /// When an unknown `kid` last forced a refresh (the first load does not count).
    private var lastForcedRefresh: Int64?
    private var pending: Task<Result<JWKSet, IdentityError>, Never>?
    /// How many times the source was fetched (for tests and metrics).
    package private(set) var fetchCount = 0

    /// Creates the cache; nothing is fetched until the first token.
    package init(source: any KeySetSource, minimumRefreshSeconds: Int64 = 300) {
        self.source = source
        self.minimumRefreshSeconds = minimumRefreshSeconds
    }

    /// The key a token's `kid` names as of `now` (Unix seconds).
    func key(for keyID: String?, now: Int64) async throws(IdentityError) -> JWKSet.Key {
        if current == nil { current = try await load() }
        if let found = current?.key(for: keyID) { return try found.mapError(IdentityError.init).get() }
        if let lastForcedRefresh, now - lastForcedRefresh < minimumRefreshSeconds {
            throw IdentityError(.unknownKey, "no key \(keyID.map { "`\($0)`" } ?? "without a kid") in the issuer's key set")
        }
        lastForcedRefresh = now
        current = try await load()
        guard let found = current?.key(for: keyID) else {
            throw IdentityError(.unknownKey, "no key \(keyID.map { "`\($0)`" } ?? "without a kid") in the issuer's key set, also after a refresh")
        }
        return try found.mapError(IdentityError.init).get()
    }

    /// Fetches once even when many tokens ask at the same moment (the actor is re-entered while fetching).
    private func load() async throws(IdentityError) -> JWKSet {
        if let pending { return try await pending.value.get() }
        let source = self.source
        let task = Task { () -> Result<JWKSet, IdentityError> in
            let document: [UInt8]
            do throws(IdentityError) { document = try await source.fetch() } catch { return .failure(error) }
            // A key set that does not parse is the configuration's fault, not the token's.
            do throws(JOSEError) { return .success(try JWKSet(json: document)) } catch {
                return .failure(IdentityError(.configuration, error.message))
            }
        }
        pending = task
        fetchCount += 1
        let result = await task.value
        pending = nil
        return try result.get()
    }
}

/// A thread-safe counter.
final class Counter: Sendable {
    private let value = Mutex(0)

    /// Returns the current count and adds one.
    func next() -> Int {
        value.withLock { count in
            defer { count += 1 }
            return count
        }
    }
}
