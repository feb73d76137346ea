import ArgumentParser
import Foundation
import KBSClaims
import KBSEvidence
import KBSServer

/// `kbs evidence …`: check attestation evidence the way the broker will.
struct EvidenceCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "evidence",
        abstract: "Verify attestation evidence: SEV-SNP, TDX, SGX, NVIDIA GPUs, Arm CCA, Azure vTPM, TPM.",
        subcommands: [Verify.self, Bench.self]
    )

    /// The inputs of one verification, shared by `verify` and `bench`.
    struct Inputs: ParsableArguments {
        @Option(help: "The evidence kind: \(EvidenceKind.allCases.map(\.rawValue).joined(separator: ", ")).")
        var kind: String

        @Option(help: "The evidence file, or - for standard input.")
        var evidence: String

        @Option(help: "An endorsement file (repeatable).")
        var endorsement: [String] = []

        @Option(help: "A trust-anchor file (repeatable), beside the vendor roots shipped with kbs (`kbs trust list`).")
        var trustAnchor: [String] = []

        @Flag(help: "Trust only the --trust-anchor files, not the vendor roots shipped with kbs.")
        var noShippedRoots = false

        @Option(help: "Verify as of this RFC 3339 time instead of now.")
        var at: String?

        @Option(help: "The report data expected, as hex (fitted to the kind's field: padded, truncated or exact).")
        var expectReportData: String?

        @Option(help: "A collateral cache directory consulted for what the endorsements lack (no network unless --fetch-collateral).")
        var collateralCache: String?

        @Flag(
            help: """
                Fetch what the endorsements and the cache lack (VCEK, TCB info, QE identity, CRLs) from AMD KDS and Intel PCS, \
                keeping it in --collateral-cache when given; the KBS_COLLATERAL_* variables of kbs serve set the URLs, \
                timeout and CA file.
                """)
        var fetchCollateral = false

        @Flag(help: "Accept `sim` evidence (the simulator's test chain); never for production.")
        var allowSimulator = false

        @Flag(help: "Accept collateral signed by an expired collateral-signing certificate (Intel's TCB Signing cert was renewed with the same key).")
        var ignoreCollateralSignerExpiry = false

        /// The largest evidence or endorsement file read.
        static let maximumFileBytes = 8 << 20

        /// The kind, the evidence bytes and the context, or a usage refusal.
        func load() throws -> (EvidenceKind, [UInt8], VerificationContext) {
            guard let parsedKind = EvidenceKind(rawValue: kind) else {
                throw Refusal(
                    code: "usage", message: "unknown kind `\(kind)`; expected one of \(EvidenceKind.allCases.map(\.rawValue).joined(separator: ", "))"
                )
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
                guard let bytes = Hex.decode(expectReportData, prefix: .allowed), !bytes.isEmpty else {
                    throw Refusal(code: "usage", message: "--expect-report-data must be hex")
                }
                expected = bytes
            }
            let evidenceBytes = try Self.read(evidence, what: "evidence")
            let shipped = noShippedRoots ? [] : TrustStore.shipped.anchors(for: parsedKind)
            var context = VerificationContext(
                time: time,
                endorsements: try endorsement.map { EvidenceFile(name: $0, bytes: try Self.read($0, what: "endorsement")) },
                trustAnchors: try shipped + trustAnchor.map { EvidenceFile(name: $0, bytes: try Self.read($0, what: "trust anchor")) },
                expectedReportData: expected,
                collateral: try collateral(),
                allowSimulator: allowSimulator)
            context.ignoresCollateralSignerExpiry = ignoreCollateralSignerExpiry
            return (parsedKind, evidenceBytes, context)
        }

        /// The cache, the fetcher, both (the cache in front), or neither.
        func collateral() throws -> (any CollateralSource)? {
            guard fetchCollateral else { return collateralCache.map { DiskCollateralCache(directory: URL(fileURLWithPath: $0)) } }
            var settings = CollateralConfiguration()
            let diagnostics = ConfigurationFile.applyingCollateralEnvironment(ProcessInfo.processInfo.environment, to: &settings)
            if let first = diagnostics.first { throw Refusal(code: "usage", message: first.description) }
            let fetcher: VendorCollateralFetcher
            do { fetcher = try settings.fetcher() } catch { throw Refusal(code: "usage", message: error.message) }
            guard let collateralCache else { return fetcher }
            return DiskCollateralCache(
                directory: URL(fileURLWithPath: collateralCache), upstream: fetcher, refreshMargin: TimeInterval(settings.refreshMarginSeconds))
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

    struct Bench: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Time verifications of one piece of evidence and print the figures as JSON.",
            discussion: """
                `cold_us` is the first verification in this process (certificate parsing, library set-up, collateral read \
                from the files given); `p50_us`/`p99_us` are the verifications after it, with the same collateral \
                already in memory (what a server with cached collateral pays). The evidence must verify. For snp, tdx, sgx \
                and nvidia, `signatures_p50_us`/`signatures_p99_us` time the report signature checks alone with the keys \
                parsed beforehand (the floor a known device's verification can reach), and `p50_over_signatures` is \
                p50_us over signatures_p50_us.
                """)

        @OptionGroup var inputs: Inputs

        @Option(help: "How many timed verifications after the first.")
        var iterations = 200

        func run() async throws {
            guard iterations > 0, iterations <= 1_000_000 else {
                throw Refusal(code: "usage", message: "--iterations must be 1…1000000")
            }
            let clock = ContinuousClock()
            let start = clock.now
            let (kind, evidence, context) = try inputs.load()
            do throws(EvidenceError) {
                _ = try await EvidenceVerifiers.verify(evidence, kind: kind, context: context)
                let cold = start.duration(to: clock.now)
                var samples: [Double] = []
                samples.reserveCapacity(iterations)
                let loop = clock.now
                for _ in 0..<iterations {
                    let began = clock.now
                    _ = try await EvidenceVerifiers.verify(evidence, kind: kind, context: context)
                    samples.append(Self.microseconds(began.duration(to: clock.now)))
                }
                let total = Self.microseconds(loop.duration(to: clock.now))
                samples.sort()
                var fields = [
                    "\"kind\":\"\(kind.rawValue)\"", "\"iterations\":\(iterations)",
                    "\"cold_us\":\(Self.rounded(Self.microseconds(cold)))", "\"p50_us\":\(Self.rounded(Self.percentile(samples, 0.5)))",
                    "\"p99_us\":\(Self.rounded(Self.percentile(samples, 0.99)))",
                    "\"verifications_per_second\":\(Self.rounded(Double(iterations) / total * 1_000_000))",
                ]
                // The floor: the report signature checks alone, keys parsed beforehand, timed the same way.
                if let checks = try await SignatureChecks.prepare(evidence, kind: kind, context: context) {
                    guard checks() else { throw EvidenceError(.signature, "the report signature does not verify") }
                    var floor: [Double] = []
                    floor.reserveCapacity(iterations)
                    let floorLoop = clock.now
                    for _ in 0..<iterations {
                        let began = clock.now
                        let verified = checks()
                        floor.append(Self.microseconds(began.duration(to: clock.now)))
                        precondition(verified, "a signature that verified stopped verifying")
                    }
                    let floorTotal = Self.microseconds(floorLoop.duration(to: clock.now))
                    floor.sort()
                    fields += [
                        "\"signatures_p50_us\":\(Self.rounded(Self.percentile(floor, 0.5)))",
                        "\"signatures_p99_us\":\(Self.rounded(Self.percentile(floor, 0.99)))",
                        "\"signatures_per_second\":\(Self.rounded(Double(iterations) / floorTotal * 1_000_000))",
                        "\"p50_over_signatures\":\(String(format: "%.2f", Self.percentile(samples, 0.5) / Self.percentile(floor, 0.5)))",
                    ]
                }
                Console.out("{" + fields.joined(separator: ",") + "}")
            } catch {
                throw Refusal(code: error.reason.rawValue, message: error.message)
            }
        }

        /// The `p` quantile of sorted `samples`.
        static func percentile(_ samples: [Double], _ p: Double) -> Double { samples[min(samples.count - 1, Int(Double(samples.count) * p))] }

        static func microseconds(_ duration: Duration) -> Double {
            Double(duration.components.seconds) * 1_000_000 + Double(duration.components.attoseconds) / 1e12
        }

        static func rounded(_ value: Double) -> String { String(format: "%.1f", value) }
    }

    struct Verify: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Verify one piece of evidence and print its claims as JSON.",
            discussion: """
                Endorsements are what the vendor signed for this device (VCEK/VLEK, PCK chain, TCB info, QE identity, \
                CRLs, the GPU's certificate chain, RIMs); trust anchors are vendor roots (AMD ASK/ARK bundles, the Intel \
                SGX root, NVIDIA device and RIM roots, CCA trust-anchor stores). Give each file with its own option; \
                verifiers recognise them by content. docs/evidence.md lists what each kind reads.

                The vendor roots shipped with kbs (`kbs trust list`) are trusted unless --no-shipped-roots; every root, \
                shipped or given, anchors only its own vendor's kinds: a certificate naming AMD never ends a PCK chain.

                A refusal prints `error: <reason>: <message>` and exits 1; reasons: \(EvidenceErrorReason.allCases.map(\.rawValue).joined(separator: ", ")).
                """)

        @OptionGroup var inputs: Inputs

        func run() async throws {
            let (kind, evidence, context) = try inputs.load()
            let verified: VerifiedEvidence
            do throws(EvidenceError) {
                verified = try await EvidenceVerifiers.verify(evidence, kind: kind, context: context)
            } catch {
                throw Refusal(code: error.reason.rawValue, message: error.message)
            }
            Console.out(verified.json)
        }
    }
}
