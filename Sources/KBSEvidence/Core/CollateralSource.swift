package import Foundation
import KBSClaims

/// A piece of vendor collateral a verifier may need beyond the endorsements it was handed.
package struct CollateralRequest: Hashable, Sendable, CustomStringConvertible {
    /// Who serves it.
    package enum Service: String, Sendable {
        /// AMD Key Distribution Service: VCEKs, VLEK chains, CRLs.
        case amdKDS = "amd-kds"
        /// Intel Provisioning Certification Service: TCB info, QE identity, PCK CRLs.
        case intelPCS = "intel-pcs"
        /// NVIDIA RIM service: reference integrity manifests.
        case nvidiaRIM = "nvidia-rim"
    }

    package var service: Service
    /// The service-relative path, e.g. `vcek/v1/Milan/<hwid>?blSPL=3&…` or `tdx/certification/v4/tcb?fmspc=…`.
    package var path: String

    /// Creates a request.
    package init(service: Service, path: String) {
        self.service = service
        self.path = path
    }

    package var description: String { "\(service.rawValue)/\(path)" }
}

/// Where collateral comes from: an on-disk cache, a network fetcher, or a cache in front of one.
///
/// Verifiers ask only for what the evidence and the endorsements leave open, and never fetch themselves.
package protocol CollateralSource: Sendable {
    /// The bytes served for `request`, exactly as served (signatures cover them).
    func collateral(_ request: CollateralRequest) async throws(EvidenceError) -> [UInt8]
}

/// Collateral read from (and written to) a directory, so verification works offline from what was fetched once.
///
/// Each request maps to `DIR/<service>/<path with / ? & = replaced>`; a miss goes to `upstream` when there is one
/// and the answer is stored atomically. Without an upstream a miss is a `collateral` error.
package struct DiskCollateralCache: CollateralSource {
    package let directory: URL
    package let upstream: (any CollateralSource)?

    /// Creates a cache over `directory`.
    package init(directory: URL, upstream: (any CollateralSource)? = nil) {
        self.directory = directory
        self.upstream = upstream
    }

    /// The file a request is cached in.
    package func file(for request: CollateralRequest) -> URL {
        let safe = String(
            request.path.map { character -> Character in
                character.isLetter || character.isNumber || character == "-" || character == "." || character == "_" ? character : "_"
            })
        return directory.appendingPathComponent(request.service.rawValue).appendingPathComponent(safe)
    }

    package func collateral(_ request: CollateralRequest) async throws(EvidenceError) -> [UInt8] {
        let file = file(for: request)
        if let data = FileManager.default.contents(atPath: file.path) { return Array(data) }
        guard let upstream else {
            throw EvidenceError(.collateral, "no cached collateral for \(request) (looked in \(file.path))")
        }
        let bytes = try await upstream.collateral(request)
        do {
            try FileManager.default.createDirectory(at: file.deletingLastPathComponent(), withIntermediateDirectories: true)
            try Data(bytes).write(to: file, options: .atomic)
        } catch {
            // A cache that cannot be written still answers; the next verification fetches again.
        }
        return bytes
    }
}
