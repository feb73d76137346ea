import Foundation
import Glibc
import KBSClaims
import Synchronization
import Testing

@testable import KBSEvidence

/// The on-disk collateral cache: offline answers from what was fetched once, fetched anew before `nextUpdate`.
struct CollateralCacheTests {
    /// An upstream that counts fetches and answers as told; while `held`, each fetch waits for `release()`, so that
    /// concurrent requests meet without a race against the clock.
    actor Upstream: CollateralSource {
        var fetches = 0
        var answer: Result<Collateral, EvidenceError>
        var held: Bool
        var waiting: [CheckedContinuation<Void, Never>] = []

        init(_ answer: Result<Collateral, EvidenceError>, held: Bool = false) {
            self.answer = answer
            self.held = held
        }

        func collateral(_ request: CollateralRequest, at time: Date) async throws(EvidenceError) -> Collateral {
            fetches += 1
            if held { await withCheckedContinuation { waiting.append($0) } }
            return try answer.get()
        }

        func answer(_ answer: Result<Collateral, EvidenceError>) { self.answer = answer }

        func release() {
            held = false
            for continuation in waiting { continuation.resume() }
            waiting = []
        }

        func discard(_ request: CollateralRequest) async {}
    }

    /// The Intel root CRL fixture: current 2023-04-03…2024-04-02.
    static let rootCRL = "tdx/go-tdx-guest-rootcrl.der"
    static let request = CollateralRequest.intelRootRevocationList

    static func temporaryDirectory() throws -> URL {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("kbs-collateral-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        return directory
    }

    static func nextUpdate() throws -> Date { try RevocationList(try EvidenceFixtures.bytes(rootCRL)).nextUpdate }

    static func mode(_ path: String) -> mode_t {
        var info = stat()
        return stat(path, &info) == 0 ? info.st_mode & 0o777 : 0
    }

    @Test func aMissGoesUpstreamOnceThenServesFromDisk() async throws {
        let directory = try Self.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let crl = try EvidenceFixtures.bytes(Self.rootCRL)
        let upstream = Upstream(.success(Collateral(body: crl)))
        let cache = DiskCollateralCache(directory: directory, upstream: upstream)
        let time = EvidenceFixtures.time("2023-07-01T00:00:00Z")
        #expect(try await cache.collateral(Self.request, at: time).body == crl)
        #expect(try await cache.collateral(Self.request, at: time).body == crl)
        #expect(await upstream.fetches == 1)
        // The file name keeps no path separators or query characters; files are private, in private folders.
        let tcb = CollateralRequest(service: .intelPCS, path: "tdx/certification/v4/tcb?fmspc=00a06d080000&update=standard", item: .tcbInfo)
        #expect(cache.file(for: tcb).lastPathComponent == "tdx_certification_v4_tcb_fmspc_00a06d080000_update_standard")
        let file = cache.file(for: Self.request)
        #expect(Self.mode(file.path) == 0o600)
        #expect(Self.mode(file.deletingLastPathComponent().path) == 0o700)
        #expect(Self.mode(directory.path) == 0o700)
        // Offline, with no upstream at all, the same directory still answers.
        let offline = DiskCollateralCache(directory: directory)
        #expect(try await offline.collateral(Self.request, at: time).body == crl)
    }

    @Test func anOfflineMissIsACollateralError() async throws {
        let directory = try Self.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let cache = DiskCollateralCache(directory: directory)
        do {
            _ = try await cache.collateral(CollateralRequest(service: .amdKDS, path: "vcek/v1/Milan/crl", item: .revocationList), at: Date())
            Issue.record("a missing file was served")
        } catch {
            #expect(error.reason == .collateral)
        }
    }

    /// Within the margin before `nextUpdate` (measured at the verification time) the cache asks upstream first.
    @Test func refreshesWithinTheMarginBeforeNextUpdate() async throws {
        let directory = try Self.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let upstream = Upstream(.success(Collateral(body: try EvidenceFixtures.bytes(Self.rootCRL))))
        let cache = DiskCollateralCache(directory: directory, upstream: upstream, refreshMargin: 86400)
        let next = try Self.nextUpdate()
        _ = try await cache.collateral(Self.request, at: next - 3 * 86400)
        _ = try await cache.collateral(Self.request, at: next - 2 * 86400)
        #expect(await upstream.fetches == 1)
        _ = try await cache.collateral(Self.request, at: next - 12 * 3600)
        #expect(await upstream.fetches == 2)
        _ = try await cache.collateral(Self.request, at: next + 3600)
        #expect(await upstream.fetches == 3)
    }

    /// When the refresh fails the copy is served until its `nextUpdate`, and not after.
    @Test func aFailedRefreshServesTheCopyUntilNextUpdate() async throws {
        let directory = try Self.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let crl = try EvidenceFixtures.bytes(Self.rootCRL)
        let upstream = Upstream(.success(Collateral(body: crl)))
        let cache = DiskCollateralCache(directory: directory, upstream: upstream, retryDelay: 0)
        let next = try Self.nextUpdate()
        _ = try await cache.collateral(Self.request, at: next - 30 * 86400)
        await upstream.answer(.failure(EvidenceError(.collateral, "intel-root-crl answered 503")))
        #expect(try await cache.collateral(Self.request, at: next - 3600).body == crl)
        do {
            _ = try await cache.collateral(Self.request, at: next + 1)
            Issue.record("a copy past its nextUpdate was served while upstream failed")
        } catch {
            #expect(error.message.contains("503"))
        }
        #expect(await upstream.fetches == 3)
    }

    /// A failed fetch is not repeated for `retryDelay` by the wall clock: a vendor that is down costs one timeout.
    @Test func aFailureIsRememberedForTheRetryDelay() async throws {
        let directory = try Self.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let upstream = Upstream(.failure(EvidenceError(.collateral, "intel-root-crl did not answer")))
        let now = Mutex(Date(timeIntervalSince1970: 1_900_000_000))
        let cache = DiskCollateralCache(directory: directory, upstream: upstream, retryDelay: 60, clock: { now.withLock { $0 } })
        let time = EvidenceFixtures.time("2023-07-01T00:00:00Z")
        for _ in 0..<3 { _ = try? await cache.collateral(Self.request, at: time) }
        #expect(await upstream.fetches == 1)
        now.withLock { $0 += 61 }
        await upstream.answer(.success(Collateral(body: try EvidenceFixtures.bytes(Self.rootCRL))))
        _ = try await cache.collateral(Self.request, at: time)
        #expect(await upstream.fetches == 2)
    }

    /// Answers that are not the document asked for are refused and never stored; a copy on disk that no longer
    /// parses is fetched anew.
    @Test(arguments: [
        (request, [UInt8]("<html>busy</html>".utf8)),
        (CollateralRequest(service: .intelPCS, path: "tdx/certification/v4/tcb?fmspc=50806f000000&update=standard", item: .tcbInfo), []),
    ])
    func badAnswersAreNotStored(_ request: CollateralRequest, _ body: [UInt8]) async throws {
        let directory = try Self.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        // A TCB info request answered with QE identity is as wrong as an HTML page for a CRL.
        let answer = body.isEmpty ? try EvidenceFixtures.bytes(DCAP.qeIdentity2023) : body
        let cache = DiskCollateralCache(directory: directory, upstream: Upstream(.success(Collateral(body: answer))))
        do {
            _ = try await cache.collateral(request, at: EvidenceFixtures.time("2023-07-01T00:00:00Z"))
            Issue.record("a bad answer was served")
        } catch {
            #expect(error.reason == .collateral)
        }
        #expect(!FileManager.default.fileExists(atPath: cache.file(for: request).path))
    }

    @Test func aCopyThatNoLongerParsesIsFetchedAnew() async throws {
        let directory = try Self.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let crl = try EvidenceFixtures.bytes(Self.rootCRL)
        let upstream = Upstream(.success(Collateral(body: crl)))
        let cache = DiskCollateralCache(directory: directory, upstream: upstream)
        try FileManager.default.createDirectory(at: cache.file(for: Self.request).deletingLastPathComponent(), withIntermediateDirectories: true)
        try Data("truncated".utf8).write(to: cache.file(for: Self.request))
        #expect(try await cache.collateral(Self.request, at: EvidenceFixtures.time("2023-07-01T00:00:00Z")).body == crl)
        #expect(await upstream.fetches == 1)
    }

    /// The issuer chain PCS sends beside TCB info is kept beside it, and served with it offline.
    @Test func theIssuerChainIsKeptBesideTheBody() async throws {
        let directory = try Self.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let answer = Collateral(
            body: try EvidenceFixtures.bytes(DCAP.tcbInfo2023), issuerChain: try EvidenceFixtures.bytes(DCAP.signingChain))
        let request = CollateralRequest.tcbInfo(kind: .tdx, fmspc: [0x50, 0x80, 0x6f, 0, 0, 0])
        let cache = DiskCollateralCache(directory: directory, upstream: Upstream(.success(answer)))
        let time = EvidenceFixtures.time("2023-07-01T00:00:00Z")
        #expect(try await cache.collateral(request, at: time) == answer)
        #expect(Self.mode(cache.chainFile(for: request).path) == 0o600)
        #expect(try await DiskCollateralCache(directory: directory).collateral(request, at: time) == answer)
        // A chain that is not certificates makes the whole answer bad.
        let broken = Collateral(body: answer.body, issuerChain: Array("-----BEGIN CERTIFICATE-----\nAAAA\n".utf8))
        #expect(throws: EvidenceError.self) { try broken.validity(for: request) }
    }

    @Test func concurrentRequestsShareOneFetch() async throws {
        let directory = try Self.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let crl = try EvidenceFixtures.bytes(Self.rootCRL)
        let upstream = Upstream(.success(Collateral(body: crl)), held: true)
        let cache = DiskCollateralCache(directory: directory, upstream: upstream)
        let time = EvidenceFixtures.time("2023-07-01T00:00:00Z")
        let bodies = try await withThrowingTaskGroup(of: [UInt8].self) { group in
            for _ in 0..<8 { group.addTask { try await cache.collateral(Self.request, at: time).body } }
            // The fetch is held until the other seven requests wait for it.
            let deadline = Date() + 60
            while await cache.joinedFetches < 7, Date() < deadline { await Task.yield() }
            await upstream.release()
            return try await group.reduce(into: []) { $0.append($1) }
        }
        #expect(bodies.count == 8 && bodies.allSatisfy { $0 == crl })
        #expect(await upstream.fetches == 1)
    }

    @Test func discardForgetsTheCopy() async throws {
        let directory = try Self.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let upstream = Upstream(.success(Collateral(body: try EvidenceFixtures.bytes(Self.rootCRL))))
        let cache = DiskCollateralCache(directory: directory, upstream: upstream)
        let time = EvidenceFixtures.time("2023-07-01T00:00:00Z")
        _ = try await cache.collateral(Self.request, at: time)
        await cache.discard(Self.request)
        #expect(!FileManager.default.fileExists(atPath: cache.file(for: Self.request).path))
        _ = try await cache.collateral(Self.request, at: time)
        #expect(await upstream.fetches == 2)
    }

    /// Only the shapes the verifiers build are sent: hex ids of the right length, known products, known parameters.
    @Test func onlyWellFormedRequestsAreFetched() {
        let hwid = String(repeating: "ab", count: 64)
        let good = [
            CollateralRequest.vcek(
                product: .milan, hardwareID: [UInt8](repeating: 0xab, count: 64), tcb: SNPTCB(SimulatedSNP.tcb, at: 0, product: .milan)),
            CollateralRequest.vcek(
                product: .turin, hardwareID: [UInt8](repeating: 1, count: 8), tcb: SNPTCB([1, 2, 3, 4, 0, 0, 0, 9], at: 0, product: .turin)),
            .amdRevocationList(product: .genoa, signingKey: .vlek), .tcbInfo(kind: .sgx, fmspc: [0, 0x60, 0x6a, 0, 0, 0]),
            .qeIdentity(kind: .tdx), .pckRevocationList(.processor), .intelRootRevocationList,
        ]
        for request in good { #expect(request.isWellFormed, "\(request)") }
        let bad = [
            CollateralRequest(service: .amdKDS, path: "vcek/v1/Milan/../../etc?blSPL=1&teeSPL=0&snpSPL=1&ucodeSPL=1", item: .certificate),
            CollateralRequest(service: .amdKDS, path: "vcek/v1/Venice/\(hwid)?blSPL=1&teeSPL=0&snpSPL=1&ucodeSPL=1", item: .certificate),
            CollateralRequest(service: .amdKDS, path: "vcek/v1/Milan/\(hwid)?blSPL=1&x=@evil", item: .certificate),
            CollateralRequest(service: .amdKDS, path: "vcek/v1/Milan/crl", item: .certificate),
            CollateralRequest(service: .intelPCS, path: "tdx/certification/v4/tcb?fmspc=50806f000000&update=standard#x", item: .tcbInfo),
            CollateralRequest(service: .intelPCS, path: "sgx/certification/v4/pckcrl?ca=root&encoding=der", item: .revocationList),
            CollateralRequest(service: .intelRootCRL, path: "other.der", item: .revocationList),
            CollateralRequest(service: .nvidiaRIM, path: "v1/rim/x", item: .certificate),
        ]
        for request in bad { #expect(!request.isWellFormed, "\(request)") }
    }
}
