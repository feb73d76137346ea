import Crypto
import Foundation
import KBSClaims

/// A SEV-SNP attestation report (ABI v3, Milan) signed by a simulated VCEK ← ASK ← ARK.
enum SimulatedSNP {
    static let reportSize = 0x4A0
    static let signedSize = 0x2A0
    /// Milan TCB_VERSION bytes: bootloader, tee, 4 reserved, snp, microcode.
    static let tcb: [UInt8] = [3, 0, 0, 0, 0, 0, 8, 115]

    /// The ARK and ASK, root first.
    static func authorities(now: Date) throws(EvidenceError) -> [TestChain.Issued] {
        try TestChain.authorityPair(root: "ARK-Milan", intermediate: "SEV-Milan", key: { .p384(P384.Signing.PrivateKey()) }, now: now)
    }

    static func make(
        reportData: [UInt8], measurement: [UInt8]?, debug: Bool, now: Date, authorities given: [TestChain.Issued]?
    ) throws(EvidenceError) -> SimulatedEvidence {
        let year: TimeInterval = 365 * 86400
        var authorities = given ?? []
        if given == nil { authorities = try Self.authorities(now: now) }
        let (ark, ask) = (authorities[0], authorities[1])
        let chipID = TEESimulator.random(64)
        let vcekKey = P384.Signing.PrivateKey()
        let amd = "1.3.6.1.4.1.3704.1"
        let vcek = try TestChain.issue(
            commonName: "SEV-VCEK", key: .p384(vcekKey), issuer: ask, serial: [0], isCA: false,
            extensions: [
                .init(oid: amd + ".1", value: DERWriter.integer(1)),
                .init(oid: amd + ".2", value: DERWriter.ia5String("Milan-B0")),
                .init(oid: amd + ".3.1", value: DERWriter.integer(Int(tcb[0]))),
                .init(oid: amd + ".3.2", value: DERWriter.integer(Int(tcb[1]))),
                .init(oid: amd + ".3.3", value: DERWriter.integer(Int(tcb[6]))),
                .init(oid: amd + ".3.8", value: DERWriter.integer(Int(tcb[7]))),
                .init(oid: amd + ".4", value: chipID),
            ],
            notBefore: now - 86400, notAfter: now + 7 * year)

        var report = [UInt8](repeating: 0, count: reportSize)
        func put(_ bytes: [UInt8], at offset: Int) { report.replaceSubrange(offset..<offset + bytes.count, with: bytes) }
        let policy: UInt64 = 0x30000 | (debug ? 1 << 19 : 0)
        let launchMeasurement = TEESimulator.fitted(measurement ?? TEESimulator.defaultMeasurement(48), 48)
        let fitted = ReportDataFit.pad(64).apply(reportData)
        put(TEESimulator.littleEndian(UInt32(3)), at: 0x00)  // version
        put(TEESimulator.littleEndian(policy), at: 0x08)
        put(TEESimulator.littleEndian(UInt32(1)), at: 0x34)  // ECDSA P-384 with SHA-384
        put(tcb, at: 0x38)  // current_tcb
        put(TEESimulator.littleEndian(UInt64(1)), at: 0x40)  // platform_info: SMT enabled
        put(fitted, at: 0x50)
        put(launchMeasurement, at: 0x90)
        let reportID = TEESimulator.random(32)
        put(reportID, at: 0x140)
        put(tcb, at: 0x180)  // reported_tcb
        put([0x19, 0x01, 0x01], at: 0x188)  // CPUID family, model, stepping: Milan
        put(chipID, at: 0x1A0)
        put(tcb, at: 0x1E0)  // committed_tcb
        put([4, 52, 1], at: 0x1E8)  // current build, minor, major
        put([4, 52, 1], at: 0x1EC)  // committed
        put(tcb, at: 0x1F0)  // launch_tcb
        let signature: P384.Signing.ECDSASignature
        do { signature = try vcekKey.signature(for: report[0..<signedSize]) } catch {
            throw EvidenceError(.configuration, "simulator: cannot sign the report")
        }
        let raw = Array(signature.rawRepresentation)
        let r = Array(raw[0..<48].reversed()) + [UInt8](repeating: 0, count: 24)
        let s = Array(raw[48..<96].reversed()) + [UInt8](repeating: 0, count: 24)
        put(r, at: 0x2A0)
        put(s, at: 0x2E8)

        let tcbObject: [String: Any] = ["fmc": NSNull(), "bootloader": Int(tcb[0]), "tee": Int(tcb[1]), "snp": Int(tcb[6]), "microcode": Int(tcb[7])]
        let version: [String: Any] = ["major": 1, "minor": 52, "build": 4]
        func list(_ bytes: ArraySlice<UInt8>) -> [Int] { bytes.map(Int.init) }
        let attestationReport: [String: Any] = [
            "version": 3, "guest_svn": 0, "policy": Int(policy), "family_id": list(report[0x10..<0x20]),
            "image_id": list(report[0x20..<0x30]), "vmpl": 0, "sig_algo": 1, "current_tcb": tcbObject, "plat_info": 1,
            "key_info": 0, "report_data": list(report[0x50..<0x90]), "measurement": list(report[0x90..<0xC0]),
            "host_data": list(report[0xC0..<0xE0]), "id_key_digest": list(report[0xE0..<0x110]),
            "author_key_digest": list(report[0x110..<0x140]), "report_id": list(report[0x140..<0x160]),
            "report_id_ma": list(report[0x160..<0x180]), "reported_tcb": tcbObject, "cpuid_fam_id": 0x19,
            "cpuid_mod_id": 0x01, "cpuid_step": 0x01, "chip_id": list(report[0x1A0..<0x1E0]), "committed_tcb": tcbObject,
            "current": version, "committed": version, "launch_tcb": tcbObject,
            "signature": ["r": list(report[0x2A0..<0x2E8]), "s": list(report[0x2E8..<0x330])],
        ]
        let rcar = try TEESimulator.json([
            "attestation_report": attestationReport,
            "cert_chain": [["cert_type": "VCEK", "data": vcek.certificate.der.map(Int.init)]],
        ])
        return SimulatedEvidence(
            kind: .snp, evidence: report, rcarEvidence: rcar,
            endorsements: [EvidenceFile(name: "vcek.der", bytes: vcek.certificate.der)],
            trustAnchors: [EvidenceFile(name: "ask_ark.pem", bytes: TestChain.pem([ask.certificate, ark.certificate]))])
    }
}
