package import Foundation
import KBSClaims

/// Collateral kept in a directory and fetched anew from `upstream` before it goes stale, so verification keeps
/// working from what was fetched once while the vendor is unreachable.
///
/// Each request maps to `DIR/<service>/<path with / ? & = replaced by _>`, and the issuer chain the service sent
/// beside it (Intel's signing chains) to the same name plus `.issuer-chain.pem`; files are written whole (0600, in
/// 0700 folders). A copy is served until `refreshMargin` before its end — a CRL's or Intel collateral's `nextUpdate`,
/// a certificate's `notAfter` — measured at the verification time; from then on `upstream` is asked first, and when
/// it fails the copy is still served until its end. Requests for the same item while a fetch runs wait for that fetch.
/// An answer that is not what was asked for is never stored.
///
/// Without an upstream the cache is a read-only mirror: it serves whatever the directory holds (the verifier checks
/// it is current) and a miss is a `collateral` error.
///
/// After a failed fetch the item is not asked for again for `retryDelay` (by `clock`, the wall clock; the
/// verification time may be pinned): a vendor that is down costs one timeout, not one per attestation.
package actor DiskCollateralCache: CollateralSource {
    package nonisolated let directory: URL
    package nonisolated let upstream: (any CollateralSource)?
    /// How long before an item's end it is fetched anew.
    package nonisolated let refreshMargin: TimeInterval
    /// How long a failed fetch is remembered before the item is asked for again.
    package nonisolated let retryDelay: TimeInterval
    private let clock: @Sendable () -> Date
    private var running: [CollateralRequest: Task<Result<Collateral, EvidenceError>, Never>] = [:]
    private var failed: [CollateralRequest: (until: Date, error: EvidenceError)] = [:]
    /// How many requests waited for a fetch already running instead of starting their own.
    package private(set) var joinedFetches = 0

    /// Creates a cache over `directory`; `refreshMargin` defaults to a day, `retryDelay` to a minute.
    package init(
        directory: URL, upstream: (any CollateralSource)? = nil, refreshMargin: TimeInterval = 86_400, retryDelay: TimeInterval = 60,
        clock: @escaping @Sendable () -> Date = { Date() }
    ) {
        self.directory = directory
        self.upstream = upstream
        self.refreshMargin = refreshMargin
        self.retryDelay = retryDelay
        self.clock = clock
    }

    /// The file a request's body is cached in.
    package nonisolated func file(for request: CollateralRequest) -> URL {
        let safe = String(
            request.path.map { character -> Character in
                character.isLetter || character.isNumber || character == "-" || character == "." || character == "_" ? character : "_"
            })
        return directory.appendingPathComponent(request.service.rawValue).appendingPathComponent(safe)
    }

    /// The file a request's issuer chain is cached in.
    package nonisolated func chainFile(for request: CollateralRequest) -> URL {
        let body = file(for: request)
        return body.deletingLastPathComponent().appendingPathComponent(body.lastPathComponent + ".issuer-chain.pem")
    }

    package func collateral(_ request: CollateralRequest, at time: Date) async throws(EvidenceError) -> Collateral {
        let stored = CollateralFiles.read(file(for: request)).map { body in
            Collateral(body: body, issuerChain: CollateralFiles.read(chainFile(for: request)) ?? [])
        }
        guard let upstream else {
            if let stored { return stored }
            throw EvidenceError(.collateral, "no cached collateral for \(request) (looked in \(file(for: request).path))")
        }
        // A copy that no longer parses counts as missing: it is fetched anew, and never served past a failure.
        let validity = stored.flatMap { try? $0.validity(for: request) }
        if let stored, let validity, time < validity.end.addingTimeInterval(-refreshMargin) { return stored }
        switch await fetch(request, at: time, from: upstream) {
        case .success(let fresh): return fresh
        case .failure(let error):
            if let stored, let validity, time <= validity.end { return stored }
            throw error
        }
    }

    package func discard(_ request: CollateralRequest) async {
        CollateralFiles.remove(file(for: request))
        CollateralFiles.remove(chainFile(for: request))
    }

    /// One fetch per item at a time: a request arriving while one runs shares its answer, and one arriving within
    /// `retryDelay` of a failure gets that failure.
    private func fetch(
        _ request: CollateralRequest, at time: Date, from upstream: any CollateralSource
    ) async -> Result<Collateral, EvidenceError> {
        if let task = running[request] {
            joinedFetches += 1
            return await task.value
        }
        if let failure = failed[request] {
            if clock() < failure.until { return .failure(failure.error) }
            failed[request] = nil
        }
        let (directory, body, chain) = (directory, file(for: request), chainFile(for: request))
        let task = Task { () async -> Result<Collateral, EvidenceError> in
            do throws(EvidenceError) {
                let fresh = try await upstream.collateral(request, at: time)
                _ = try fresh.validity(for: request)
                // A cache that cannot be written still answers; the next verification fetches again.
                if fresh.issuerChain.isEmpty {
                    CollateralFiles.remove(chain)
                } else {
                    try? CollateralFiles.write(fresh.issuerChain, to: chain, root: directory)
                }
                try? CollateralFiles.write(fresh.body, to: body, root: directory)
                return .success(fresh)
            } catch {
                return .failure(error)
            }
        }
        running[request] = task
        let result = await task.value
        running[request] = nil
        if case .failure(let error) = result, retryDelay > 0 { failed[request] = (clock().addingTimeInterval(retryDelay), error) }
        return result
    }
}
