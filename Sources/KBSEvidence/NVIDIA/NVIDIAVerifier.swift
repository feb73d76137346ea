import Crypto
import Foundation
package import KBSClaims

/// Verifies NVIDIA GPU (Hopper, Blackwell) and NVSwitch (LS10) SPDM attestation evidence.
///
/// For every device: the SPDM GET_MEASUREMENTS report parses; its device chain has five certificates and ends at a
/// trust anchor (the NVIDIA Device Identity CA) at the context's time; the report's ECDSA P-384 signature verifies
/// with the chain's leaf; the FWID in the leaf's DICE TcbInfo extension equals the report's FWID where the report
/// carries one (older drivers do not: `fwid_checked` is then false); the request nonce equals the device's expected
/// nonce (SDK JSON) and the context's expected report data fitted to 32 bytes. RIMs among the endorsements (SWID
/// XML) are verified (XML-DSig and signing chain to a trust anchor, the NVIDIA CoRIM signing Root CA) and each
/// device's measurements are compared with the RIMs whose version is its driver or VBIOS version.
///
/// Every claim a tier rule reads comes from signed data: a device's `arch` from its leaf certificate's name (an `arch`
/// in the evidence JSON, which nothing signs, must agree, else `identity`), `sys_enable_status` and the versions from
/// the signed report, `rim_checked` and `debug` from the appraisal, `rims_configured` from the endorsements.
///
/// Normalised claims: `measurement` is the first device's FWID when it has one, else SHA-384 of its measurement
/// record (the DMTF blocks as reported); `debug` true unless every device's measurements matched RIMs for each of
/// its versions (driver and VBIOS; the VBIOS alone on an NVSwitch): no report field says whether debug is on, and
/// NVIDIA's own verifier reports debug disabled only after such a match; `tcb_svn` 0; `report_data` the first
/// device's nonce.
package struct NVIDIAVerifier: EvidenceVerifier {
    package init() {}

    package var kind: EvidenceKind { .nvidia }

    package var schema: ClaimSchema { NVIDIAClaims.schema }

    package func verify(_ evidence: [UInt8], context: VerificationContext) async throws(EvidenceError) -> VerifiedEvidence {
        let devices = try NVIDIAEvidenceInput.devices(evidence)
        let anchors = CertificateChain.anchors(from: context.trustAnchors)
        let rims = try Self.rims(context, anchors: anchors)
        var endorsedChain: [Certificate]?
        var records: [ClaimRecord] = []
        var used = Set<Int>()
        var measurement: [UInt8] = []
        var reportData: [UInt8] = []
        var debug = false
        for (position, device) in devices.enumerated() {
            let what = devices.count == 1 ? "NVIDIA evidence" : "NVIDIA device \(position)"
            let report = try SPDMMeasurementReport(device.report)
            let chain: [Certificate]
            if let carried = device.chain {
                chain = carried
            } else {
                if endorsedChain == nil { endorsedChain = Self.endorsedChain(context) }
                chain = endorsedChain ?? []
            }
            guard let leaf = chain.first else {
                throw EvidenceError(.chain, "\(what): no device certificate chain (give the PEM chain as an endorsement)")
            }
            try NVIDIADeviceIdentity.verifyChain(chain, anchors: anchors, at: context.time, what: "\(what) device chain")
            guard ECDSA.verify(report.signature, message: report.signedBytes, certificate: leaf, curve: .p384) else {
                throw EvidenceError(.signature, "\(what): SPDM measurement signature does not verify with \(leaf.commonName)")
            }
            let arch = NVIDIAClaims.arch(of: leaf)
            if let declared = device.arch, declared.uppercased() != arch {
                throw EvidenceError(
                    .identity, "\(what): the evidence says `\(declared)` but its signed device certificate (\(leaf.commonName)) is \(arch)")
            }
            let leafFWID = try NVIDIADeviceIdentity.fwid(of: leaf)
            let reportFWID = report.opaque[.fwid]
            if let reportFWID {
                guard let leafFWID, leafFWID == reportFWID else {
                    throw EvidenceError(
                        .identity,
                        "\(what): report FWID \(Hex.encode(reportFWID)) differs from the leaf certificate's \(leafFWID.map { Hex.encode($0) } ?? "(none)")"
                    )
                }
            }
            if let expected = device.expectedNonce, expected != report.requestNonce {
                throw EvidenceError(.binding, "\(what): nonce \(Hex.encode(report.requestNonce)) is not the expected \(Hex.encode(expected))")
            }
            try context.checkReportData(report.requestNonce, kind: .nvidia)
            // RIMs describe one driver or VBIOS version; a device is appraised against those matching its versions.
            let versions = [report.opaque.driverVersion, report.opaque.vbiosVersion].compactMap { $0?.lowercased() }
            let applicable = rims.indices.filter { versions.contains(rims[$0].version.lowercased()) }
            used.formUnion(applicable)
            var compared = 0
            if !applicable.isEmpty {
                compared = try NVIDIARIMAppraisal.appraise(
                    report.blocks, rims: applicable.map { rims[$0] }, nvdec0Status: report.opaque.byte(.nvdec0Status), what: what)
            }
            if position == 0 {
                measurement = reportFWID ?? Array(SHA384.hash(data: report.record))
                reportData = report.requestNonce
            }
            // Debug (or devtools) firmware measures differently, so matching RIMs for every version the device reports
            // is what shows debug off; with a version unappraised nothing signed does.
            let appraised = Set(applicable.map { rims[$0].version.lowercased() })
            let debugOff = !versions.isEmpty && versions.allSatisfy(appraised.contains)
            debug = debug || !debugOff
            records.append(
                NVIDIAClaims.device(
                    device, arch: arch, report: report, leaf: leaf, fwidChecked: reportFWID != nil,
                    rims: applicable.map { rims[$0] }, compared: compared, debug: !debugOff))
        }
        for (index, rim) in rims.enumerated() where !used.contains(index) {
            throw EvidenceError(.collateral, "RIM \(rim.version) (\(rim.tagID)) matches no device's driver or VBIOS version")
        }
        var details = ClaimRecord()
        details["arch"] = records.first?["arch"]
        details["device_count"] = .int(Int64(records.count))
        details["rims_configured"] = .bool(!rims.isEmpty)
        details["devices"] = .list(records.map { .record($0) })
        return VerifiedEvidence(
            kind: .nvidia, measurement: measurement, debug: debug, tcbSVN: 0, reportData: reportData, details: details)
    }

    /// Every certificate of the endorsement files that hold certificates, in order: a bare report's device chain.
    static func endorsedChain(_ context: VerificationContext) -> [Certificate] {
        context.endorsements.filter { !looksLikeXML($0.bytes) }.flatMap { (try? Certificate.parseAll($0.bytes)) ?? [] }
    }

    /// The endorsements that are XML, verified as RIMs.
    private static func rims(_ context: VerificationContext, anchors: [Certificate]) throws(EvidenceError) -> [NVIDIARIM] {
        var result: [NVIDIARIM] = []
        for file in context.endorsements where looksLikeXML(file.bytes) {
            result.append(try NVIDIARIM.verify(xml: file.bytes, anchors: anchors, at: context.time, what: "RIM \(file.name)"))
        }
        return result
    }

    static func looksLikeXML(_ bytes: [UInt8]) -> Bool {
        var body = bytes[...]
        if body.starts(with: [0xEF, 0xBB, 0xBF]) { body = body.dropFirst(3) }
        return body.first { $0 != 0x20 && $0 != 0x0A && $0 != 0x0D && $0 != 0x09 } == UInt8(ascii: "<")
    }
}
