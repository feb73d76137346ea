import Foundation
import KBSClaims
import KBSEvidence
import Testing

/// The on-disk collateral cache: offline answers from what was fetched once.
struct CollateralCacheTests {
    /// Counts fetches and answers with fixed bytes.
    actor CountingSource: CollateralSource {
        var fetches = 0
        let answer: [UInt8]
        init(_ answer: [UInt8]) { self.answer = answer }
        func collateral(_ request: CollateralRequest) async throws(EvidenceError) -> [UInt8] {
            fetches += 1
            return answer
        }
    }

    static func temporaryDirectory() throws -> URL {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("kbs-collateral-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        return directory
    }

    @Test func aMissGoesUpstreamOnceThenServesFromDisk() async throws {
        let directory = try Self.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let upstream = CountingSource(Array("tcb info".utf8))
        let cache = DiskCollateralCache(directory: directory, upstream: upstream)
        let request = CollateralRequest(service: .intelPCS, path: "tdx/certification/v4/tcb?fmspc=00a06d080000")
        #expect(try await cache.collateral(request) == Array("tcb info".utf8))
        #expect(try await cache.collateral(request) == Array("tcb info".utf8))
        #expect(await upstream.fetches == 1)
        // The file name keeps no path separators or query characters.
        #expect(cache.file(for: request).lastPathComponent == "tdx_certification_v4_tcb_fmspc_00a06d080000")
        // Offline, with no upstream at all, the same directory still answers.
        let offline = DiskCollateralCache(directory: directory)
        #expect(try await offline.collateral(request) == Array("tcb info".utf8))
    }

    @Test func anOfflineMissIsACollateralError() async throws {
        let directory = try Self.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let cache = DiskCollateralCache(directory: directory)
        do {
            _ = try await cache.collateral(CollateralRequest(service: .amdKDS, path: "vcek/v1/Milan/00"))
            Issue.record("a missing file was served")
        } catch {
            #expect(error.reason == .collateral)
        }
    }
}
