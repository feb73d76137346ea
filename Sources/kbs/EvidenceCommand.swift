import ArgumentParser
import Foundation
import KBSClaims
import KBSEvidence

/// `kbs evidence …`: check attestation evidence the way the broker will.
struct EvidenceCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "evidence",
        abstract: "Verify attestation evidence: SEV-SNP, TDX, SGX, NVIDIA GPUs, Arm CCA, Azure vTPM, TPM.",
        subcommands: [Verify.self]
    )

    struct Verify: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Verify one piece of evidence and print its claims as JSON.",
            discussion: """
                Endorsements are what the vendor signed for this device (VCEK/VLEK, PCK chain, TCB info, QE identity,
                CRLs, the GPU's certificate chain, RIMs); trust anchors are vendor roots (AMD ASK/ARK bundles, the Intel
                SGX root, NVIDIA device and RIM roots, CCA trust-anchor stores). Give each file with its own option;
                verifiers recognise them by content. docs/evidence.md lists what each kind reads.
                A refusal prints `error: <reason>: <message>` and exits 1; reasons: \(EvidenceError.Reason.allCases.map(\.rawValue).joined(separator: ", ")).
                """)

        @Option(help: "The evidence kind: \(EvidenceKind.allCases.map(\.rawValue).joined(separator: ", ")).")
        var kind: String

        @Option(help: "The evidence file, or - for standard input.")
        var evidence: String

        @Option(help: "An endorsement file (repeatable).")
        var endorsement: [String] = []

        @Option(help: "A trust-anchor file (repeatable).")
        var trustAnchor: [String] = []

        @Option(help: "Verify as of this RFC 3339 time instead of now.")
        var at: String?

        @Option(help: "The report data expected, as hex (fitted to the kind's field: padded, truncated or exact).")
        var expectReportData: String?

        @Option(help: "A collateral cache directory consulted for what the endorsements lack (no network).")
        var collateralCache: String?

        @Flag(help: "Accept `sim` evidence (the simulator's test chain); never for production.")
        var allowSimulator = false

        @Flag(help: "Accept collateral signed by an expired collateral-signing certificate (Intel's TCB Signing cert was renewed with the same key).")
        var ignoreCollateralSignerExpiry = false

        /// The largest evidence or endorsement file read.
        static let maximumFileBytes = 8 << 20

        func run() async throws {
            guard let kind = EvidenceKind(rawValue: kind) else {
                throw Refusal(code: "usage", message: "unknown kind `\(kind)`; expected one of \(EvidenceKind.allCases.map(\.rawValue).joined(separator: ", "))")
            }
            var time = Date()
            if let at {
                guard let nanos = Timestamp.nanoseconds(fromRFC3339: at) else {
                    throw Refusal(code: "usage", message: "--at `\(at)` is not an RFC 3339 time such as 2026-11-25T12:00:00Z")
                }
                time = Date(timeIntervalSince1970: Double(nanos) / 1e9)
            }
            var expected: [UInt8]?
            if let expectReportData {
                guard let bytes = Hex.decode(expectReportData), !bytes.isEmpty else {
                    throw Refusal(code: "usage", message: "--expect-report-data must be hex")
                }
                expected = bytes
            }
            let evidenceBytes = try Self.read(evidence, what: "evidence")
            var context = VerificationContext(
                time: time,
                endorsements: try endorsement.map { EvidenceFile(name: $0, bytes: try Self.read($0, what: "endorsement")) },
                trustAnchors: try trustAnchor.map { EvidenceFile(name: $0, bytes: try Self.read($0, what: "trust anchor")) },
                expectedReportData: expected,
                collateral: collateralCache.map { DiskCollateralCache(directory: URL(fileURLWithPath: $0)) },
                allowSimulator: allowSimulator)
            context.ignoresCollateralSignerExpiry = ignoreCollateralSignerExpiry
            let verified: VerifiedEvidence
            do throws(EvidenceError) {
                verified = try await EvidenceVerifiers.verify(evidenceBytes, kind: kind, context: context)
            } catch {
                throw Refusal(code: error.reason.rawValue, message: error.message)
            }
            Console.out(verified.json)
        }

        static func read(_ path: String, what: String) throws -> [UInt8] {
            let handle: FileHandle
            if path == "-" {
                handle = FileHandle.standardInput
            } else {
                guard let file = FileHandle(forReadingAtPath: path) else {
                    throw Refusal(code: "usage", message: "cannot read the \(what) file \(path)")
                }
                handle = file
            }
            defer { if path != "-" { try? handle.close() } }
            let data: Data
            do { data = try handle.read(upToCount: maximumFileBytes + 1) ?? Data() } catch {
                throw Refusal(code: "usage", message: "cannot read the \(what) file \(path): \(error.localizedDescription)")
            }
            guard data.count <= maximumFileBytes else {
                throw Refusal(code: "malformed", message: "the \(what) file \(path) is over \(maximumFileBytes) bytes")
            }
            return Array(data)
        }
    }
}
