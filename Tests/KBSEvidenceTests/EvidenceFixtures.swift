import Foundation
import KBSClaims
import KBSEvidence
import KBSPolicyTesting
import Testing

/// The real evidence under `Fixtures/evidence/` (provenance in its `SOURCES.md`), read in place.
enum EvidenceFixtures {
    /// The fixture folder.
    static let directory = RepositoryPaths.path("Fixtures/evidence")

    /// The bytes of `relative` (e.g. `snp/trustee-test-report.bin`).
    static func bytes(_ relative: String) throws -> [UInt8] {
        let path = directory + "/" + relative
        guard let data = FileManager.default.contents(atPath: path) else {
            throw FixtureMissing(path: path)
        }
        return Array(data)
    }

    /// `relative` as a context file.
    static func file(_ relative: String) throws -> EvidenceFile {
        EvidenceFile(name: relative, bytes: try bytes(relative))
    }

    /// An RFC 3339 instant.
    static func time(_ text: String) -> Date {
        Date(timeIntervalSince1970: Double(Timestamp.nanoseconds(fromRFC3339: text) ?? 0) / 1e9)
    }

    /// A context with the named endorsements and trust anchors.
    static func context(
        at time: String, endorsements: [String] = [], anchors: [String] = [], reportData: [UInt8]? = nil
    ) throws -> VerificationContext {
        VerificationContext(
            time: Self.time(time), endorsements: try endorsements.map(file), trustAnchors: try anchors.map(file),
            expectedReportData: reportData)
    }

    struct FixtureMissing: Error, CustomStringConvertible {
        var path: String
        var description: String { "missing fixture \(path)" }
    }
}

/// Runs `body` and returns the error it threw, or nil.
func evidenceError(_ body: () async throws(EvidenceError) -> VerifiedEvidence) async -> EvidenceError? {
    do { _ = try await body() } catch { return error }
    return nil
}
