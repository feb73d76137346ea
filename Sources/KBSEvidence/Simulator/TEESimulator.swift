package import Foundation
package import KBSClaims

/// Evidence the simulator made: the wire-format evidence, the endorsements that go with it, and the test roots.
package struct SimulatedEvidence: Sendable {
    /// The kind it imitates (snp, tdx, nvidia).
    package var kind: EvidenceKind
    /// The evidence in the TEE's own wire format (`DIR/evidence`).
    package var evidence: [UInt8]
    /// The same evidence in Trustee's RCAR `tee-evidence` JSON form (`DIR/rcar-evidence.json`).
    package var rcarEvidence: [UInt8]
    /// The `sim` kind's envelope around `evidence` (`DIR/sim-evidence.json`).
    package var simEvidence: [UInt8] {
        Array(#"{"tee":"\#(kind.rawValue)","evidence":"\#(Data(evidence).base64EncodedString())"}"#.utf8)
    }
    /// Device certificates (VCEK, PCK chain, GPU chain), by file name (`DIR/endorsements/NAME`).
    package var endorsements: [EvidenceFile]
    /// The simulator's roots, by file name (`DIR/trust-anchors/NAME`).
    package var trustAnchors: [EvidenceFile]
}

/// `kbs tee simulate`: evidence in the real wire formats, signed by a test chain made afresh for each run.
///
/// The chain's roots are the simulator's own (named `O=Hanzo KBS TEE Simulator`), so the evidence verifies only where
/// those roots are configured as trust anchors — never against the vendors' roots.
package enum TEESimulator {
    /// The kinds the simulator imitates.
    package static let kinds: [EvidenceKind] = [.snp, .tdx, .nvidia]

    /// Makes evidence of `kind` whose report-data field holds `reportData` (fitted as the kind fits it), chained to
    /// `ca`'s roots, or to roots made afresh when `ca` is nil.
    package static func simulate(
        kind: EvidenceKind, reportData: [UInt8], measurement: [UInt8]? = nil, debug: Bool = false, now: Date,
        ca: SimulatorCA? = nil
    ) throws(EvidenceError) -> SimulatedEvidence {
        let authorities = ca?.authorities[kind]
        return switch kind {
        case .snp: try SimulatedSNP.make(reportData: reportData, measurement: measurement, debug: debug, now: now, authorities: authorities)
        case .tdx: try SimulatedTDX.make(reportData: reportData, measurement: measurement, debug: debug, now: now, authorities: authorities)
        case .nvidia: try SimulatedNVIDIA.make(reportData: reportData, measurement: measurement, now: now, authorities: authorities)
        default:
            throw EvidenceError(.unsupported, "the simulator makes \(kinds.map(\.rawValue).joined(separator: ", ")) evidence, not \(kind.rawValue)")
        }
    }

    /// Writes `simulated` under `directory`: `evidence`, `rcar-evidence.json`, `sim-evidence.json`, `endorsements/*`,
    /// `trust-anchors/*`.
    package static func write(_ simulated: SimulatedEvidence, to directory: URL) throws {
        let manager = FileManager.default
        for sub in ["endorsements", "trust-anchors"] {
            try manager.createDirectory(at: directory.appendingPathComponent(sub), withIntermediateDirectories: true)
        }
        try Data(simulated.evidence).write(to: directory.appendingPathComponent("evidence"), options: .atomic)
        try Data(simulated.rcarEvidence).write(to: directory.appendingPathComponent("rcar-evidence.json"), options: .atomic)
        try Data(simulated.simEvidence).write(to: directory.appendingPathComponent("sim-evidence.json"), options: .atomic)
        for file in simulated.endorsements {
            try Data(file.bytes).write(to: directory.appendingPathComponent("endorsements/" + file.name), options: .atomic)
        }
        for file in simulated.trustAnchors {
            try Data(file.bytes).write(to: directory.appendingPathComponent("trust-anchors/" + file.name), options: .atomic)
        }
    }

    /// A default measurement: recognisably simulated, fixed so reference values can name it.
    static func defaultMeasurement(_ count: Int) -> [UInt8] {
        Array(repeating: 0x5A, count: count)
    }

    static func random(_ count: Int) -> [UInt8] { (0..<count).map { _ in UInt8.random(in: 0...255) } }

    static func littleEndian<T: FixedWidthInteger>(_ value: T) -> [UInt8] {
        withUnsafeBytes(of: value.littleEndian, Array.init)
    }

    /// `bytes` cut or zero-padded to `count`.
    static func fitted(_ bytes: [UInt8], _ count: Int) -> [UInt8] {
        bytes.count >= count ? Array(bytes.prefix(count)) : bytes + [UInt8](repeating: 0, count: count - bytes.count)
    }

    static func json(_ object: Any) throws(EvidenceError) -> [UInt8] {
        do { return Array(try JSONSerialization.data(withJSONObject: object, options: [.sortedKeys])) } catch {
            throw EvidenceError(.configuration, "simulator: cannot encode JSON")
        }
    }
}
