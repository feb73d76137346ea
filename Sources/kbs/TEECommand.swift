import ArgumentParser
import Foundation
import KBSClaims
import KBSEvidence
import KBSKeys
import KBSServer

/// `kbs tee …`: the TEE simulator, so the key-release flow runs on machines without a TEE.
struct TEECommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "tee",
        abstract: "Detect this machine's TEEs and simulate TEE evidence for development and tests.",
        subcommands: [Detect.self, Simulate.self]
    )

    struct Detect: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Print what this machine offers to protect keys, and the privacy tier it reaches, as JSON.",
            discussion: """
                Looks for /dev/sev-guest, /dev/tdx_guest, /sys/kernel/config/tsm/report, /dev/tpmrm0 or /dev/tpm0, the \
                PKCS#11 module in KBS_PKCS11_MODULE, and NVIDIA GPUs with `nvidia-smi` (confidential-computing status from \
                `nvidia-smi conf-compute -f`). Tier: 4 CPU TEE + Blackwell TEE-I/O, 3 CPU TEE + GPU CC mode, 2 CPU TEE, \
                TPM or PKCS#11, 1 otherwise.
                """)

        static func probe() -> PlatformProbe {
            PlatformProbe(pkcs11Module: EnvironmentVariable.pkcs11Module.value(in: ProcessInfo.processInfo.environment))
        }

        func run() throws {
            Console.out(Self.probe().detect().json)
        }
    }

    struct Simulate: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Write simulated evidence, its endorsements and the simulator's test roots to a directory.",
            discussion: """
                Writes DIR/evidence (the TEE's wire format), DIR/rcar-evidence.json (Trustee's tee-evidence JSON form), \
                DIR/endorsements/* (device certificates) and DIR/trust-anchors/* (the simulator's roots: made afresh on \
                every run, or those of --ca DIR). Verify with:
                  kbs evidence verify --kind K --evidence DIR/evidence --endorsement DIR/endorsements/… --trust-anchor DIR/trust-anchors/…
                The roots are the simulator's own: the evidence never verifies against the vendors' roots.
                """)

        @Option(help: "What to imitate: \(TEESimulator.kinds.map(\.rawValue).joined(separator: ", ")).")
        var kind: String

        @Option(help: "The report data as hex (snp and tdx pad it to 64 bytes, nvidia cuts it to the 32-byte nonce).")
        var reportData: String

        @Option(help: "The launch measurement as hex (snp, tdx: 48 bytes; nvidia: the FWID); a fixed default otherwise.")
        var measurement: String?

        @Flag(help: "Mark the guest debuggable (snp policy bit 19, tdx TD attribute DEBUG).")
        var debug = false

        @Option(help: "The directory to write (created when missing).")
        var out: String

        @Option(
            help: ArgumentHelp(
                "A simulator CA folder to sign with (created when missing), e.g. the one `kbs serve` keeps in DATA_DIR/simulator-ca under TEE_MODE=simulator; fresh roots otherwise.",
                valueName: "dir"))
        var ca: String?

        func run() async throws {
            guard let kind = EvidenceKind(rawValue: kind), TEESimulator.kinds.contains(kind) else {
                throw Refusal(
                    code: "usage", message: "unknown kind `\(kind)`; expected one of \(TEESimulator.kinds.map(\.rawValue).joined(separator: ", "))")
            }
            guard let data = Hex.decode(reportData, prefix: .allowed), data.count <= 64 else {
                throw Refusal(code: "usage", message: "--report-data must be hex of at most 64 bytes")
            }
            var launch: [UInt8]?
            if let measurement {
                guard let bytes = Hex.decode(measurement, prefix: .allowed), bytes.count == 48 else {
                    throw Refusal(code: "usage", message: "--measurement must be 48 bytes of hex")
                }
                launch = bytes
            }
            if debug && kind == .nvidia {
                throw Refusal(code: "usage", message: "--debug applies to snp and tdx")
            }
            let simulated: SimulatedEvidence
            do throws(EvidenceError) {
                let authority = try ca.map { dir throws(EvidenceError) in try SimulatorCA.openOrCreate(directory: dir) }
                simulated = try TEESimulator.simulate(kind: kind, reportData: data, measurement: launch, debug: debug, now: Date(), ca: authority)
            } catch {
                throw Refusal(code: error.reason.rawValue, message: error.message)
            }
            do { try TEESimulator.write(simulated, to: URL(fileURLWithPath: out)) } catch {
                throw Refusal(code: "io", message: "cannot write \(out): \(error.localizedDescription)")
            }
            Console.err("wrote \(kind.rawValue) evidence to \(out)/evidence")
        }
    }
}
