import Foundation
package import KBSClaims

/// Kind `sim`: simulator evidence, named as such, trusted only where the simulator is allowed.
///
/// The evidence is `{"tee": "snp"|"tdx"|"nvidia", "evidence": "<base64 of the simulator's wire-format evidence>"}`. It is
/// refused unless the context allows the simulator and every trust anchor is a simulator root (`O=Hanzo KBS TEE
/// Simulator`); then the real verifier of that kind checks it, so a simulated report is held to the same parsing,
/// signature, chain and binding checks as hardware's. The claims say `kind: sim` and carry the inner kind's record.
package struct SimVerifier: EvidenceVerifier {
    package init() {}

    package var kind: EvidenceKind { .sim }

    package var schema: ClaimSchema {
        var fields: [RecordType.Field] = [.init("simulated_kind", .string, doc: "the TEE the simulator imitated: snp, tdx, nvidia")]
        for verifier in EvidenceVerifiers.all where TEESimulator.kinds.contains(verifier.kind) {
            fields.append(
                .init(
                    verifier.kind.claimKey, .record(verifier.schema.record), optional: true,
                    doc: "the simulated \(verifier.kind.rawValue) evidence's own claims"))
        }
        return ClaimSchema(typeName: "SimClaims", summary: "evidence from `kbs tee simulate`, accepted only in simulator mode", fields: fields)
    }

    /// The largest envelope read.
    static let maximumSize = 1 << 20

    package func verify(_ evidence: [UInt8], context: VerificationContext) async throws(EvidenceError) -> VerifiedEvidence {
        guard context.allowSimulator else {
            throw EvidenceError(.configuration, "simulator evidence is accepted only in simulator mode")
        }
        let anchors = CertificateChain.anchors(from: context.trustAnchors)
        guard !anchors.isEmpty, anchors.allSatisfy(Self.isSimulatorRoot) else {
            throw EvidenceError(.configuration, "simulator evidence verifies only against the simulator's own roots")
        }
        guard evidence.count <= Self.maximumSize else { throw EvidenceError(.malformed, "sim evidence is over 1 MiB") }
        let node: JSONNode
        do { node = try JSONNode.parse(evidence) } catch { throw EvidenceError(.malformed, "sim evidence: \(error.message)") }
        guard let tee = node["tee"]?.stringValue, let inner = EvidenceKind(rawValue: tee), TEESimulator.kinds.contains(inner) else {
            throw EvidenceError(.malformed, "sim evidence needs `tee`: one of \(TEESimulator.kinds.map(\.rawValue).joined(separator: ", "))")
        }
        guard let encoded = node["evidence"]?.stringValue, let bytes = Data(base64Encoded: encoded) else {
            throw EvidenceError(.malformed, "sim evidence needs `evidence`: base64")
        }
        let verified = try await EvidenceVerifiers.verify(Array(bytes), kind: inner, context: context)
        var details = ClaimRecord()
        details["simulated_kind"] = .string(inner.rawValue)
        details[inner.claimKey] = .record(verified.details)
        return VerifiedEvidence(
            kind: .sim, measurement: verified.measurement, debug: verified.debug, tcbSVN: verified.tcbSVN,
            reportData: verified.reportData, hostData: verified.hostData, tcbStatus: verified.tcbStatus, details: details)
    }

    /// Whether `certificate` is one of the simulator's (its subject names the simulator's organisation).
    static func isSimulatorRoot(_ certificate: Certificate) -> Bool {
        certificate.subject.contains("O=\(TestChain.organization)")
    }
}
