import Crypto
import Foundation
import KBSClaims

/// An H100 SPDM 1.1 measurement report (GET_MEASUREMENTS request ‖ signed response) from a simulated GPU whose
/// five-certificate chain ends at a simulated "NVIDIA Device Identity CA"; the leaf carries the FWID.
///
/// Tests may ask for another chip (`GB100`: a Blackwell, by its leaf's name), another `arch` in the unsigned JSON than
/// the leaf implies (a relabelling), and a signed `sys_enable_status` (opaque type 33, which Blackwell reports).
enum SimulatedNVIDIA {
    static let blockCount = 8
    static let diceTcbInfo = "2.23.133.5.4.1"

    /// The root, identity and provisioner CAs, root first.
    static func authorities(now: Date) throws(EvidenceError) -> [TestChain.Issued] {
        let validity = (now - 86400, Date(timeIntervalSince1970: 253_402_300_799))  // device certificates: to 9999-12-31
        func key() -> TestChain.Key { .p384(P384.Signing.PrivateKey()) }
        let root = try TestChain.issue(
            commonName: "NVIDIA Device Identity CA", key: key(), issuer: nil,
            serial: TestChain.randomSerial(), isCA: true, notBefore: validity.0, notAfter: validity.1)
        let identity = try TestChain.issue(
            commonName: "NVIDIA GH100 Identity", key: key(), issuer: root,
            serial: TestChain.randomSerial(), isCA: true, notBefore: validity.0, notAfter: validity.1)
        let provisioner = try TestChain.issue(
            commonName: "NVIDIA GH100 Provisioner ICA 1", key: key(), issuer: identity,
            serial: TestChain.randomSerial(), isCA: true, notBefore: validity.0, notAfter: validity.1)
        return [root, identity, provisioner]
    }

    static func make(
        reportData: [UInt8], measurement: [UInt8]?, now: Date, authorities given: [TestChain.Issued]?, chip: String = "GH100",
        arch: String = "HOPPER", sysEnableStatus: [UInt8]? = nil
    ) throws(EvidenceError) -> SimulatedEvidence {
        let validity = (now - 86400, Date(timeIntervalSince1970: 253_402_300_799))
        func key() -> TestChain.Key { .p384(P384.Signing.PrivateKey()) }
        var authorities = given ?? []
        if given == nil { authorities = try Self.authorities(now: now) }
        let (root, identity, provisioner) = (authorities[0], authorities[1], authorities[2])
        let brom = try TestChain.issue(
            commonName: "\(chip) A01 GSP BROM", key: key(), issuer: provisioner,
            serial: TestChain.randomSerial(), isCA: true, notBefore: validity.0, notAfter: validity.1)
        let fwid = TEESimulator.fitted(measurement ?? TEESimulator.defaultMeasurement(48), 48)
        let tcbInfo = DERWriter.sequence([
            DERWriter.context(0, constructed: false, Array("NVIDIA".utf8)),
            DERWriter.context(1, constructed: false, Array(chip.utf8)),
            DERWriter.context(6, constructed: true, DERWriter.sequence([DERWriter.oid("2.16.840.1.101.3.4.2.2"), DERWriter.octetString(fwid)])),
        ])
        let leafKey = P384.Signing.PrivateKey()
        let leaf = try TestChain.issue(
            commonName: "\(chip) A01 GSP FMC LF", key: .p384(leafKey), issuer: brom,
            serial: TestChain.randomSerial(), isCA: false, extensions: [.init(oid: diceTcbInfo, value: tcbInfo)],
            notBefore: validity.0, notAfter: validity.1)

        let nonce = ReportDataFit.truncate(32).apply(reportData)
        let request: [UInt8] = [0x11, 0xE0, 0x01, 0xFF] + nonce + [0x00]
        var record: [UInt8] = []
        for index in 1...blockCount {
            let value = index == 1 ? fwid : Array(SHA384.hash(data: fwid + [UInt8(index)]))
            record += [UInt8(index), 0x01] + TEESimulator.littleEndian(UInt16(3 + value.count))
            record += [0x01] + TEESimulator.littleEndian(UInt16(value.count)) + value
        }
        var opaque: [UInt8] = []
        func field(_ type: UInt16, _ value: [UInt8]) {
            opaque += TEESimulator.littleEndian(type) + TEESimulator.littleEndian(UInt16(value.count)) + value
        }
        field(3, Array("570.00.00".utf8) + [0])  // driver version
        field(6, [0x01, 0x00, 0x00, 0x96, 0x01, 0, 0, 0])  // VBIOS 96.00.00.01.01
        field(15, Array("882".utf8) + [0])  // chip SKU
        field(17, Array("1010".utf8) + [0])  // project
        field(18, Array("0200".utf8) + [0])  // project SKU
        field(20, fwid)
        if let sysEnableStatus { field(33, sysEnableStatus) }
        var response: [UInt8] = [0x11, 0x60, 0x00, 0x00, UInt8(blockCount)]
        response += Array(TEESimulator.littleEndian(UInt32(record.count)).prefix(3)) + record
        response += TEESimulator.random(32)  // responder nonce
        response += TEESimulator.littleEndian(UInt16(opaque.count)) + opaque
        let signed = request + response
        let signature: [UInt8]
        do { signature = Array(try leafKey.signature(for: signed).rawRepresentation) } catch {
            throw EvidenceError(.configuration, "simulator: cannot sign the measurement report")
        }
        let report = signed + signature

        let chain = TestChain.pem([leaf.certificate, brom.certificate, provisioner.certificate, identity.certificate, root.certificate])
        let rcar = try TEESimulator.json([
            "device_evidence_list": [
                [
                    "arch": arch, "uuid": "GPU-simulated-" + Hex.encode(TEESimulator.random(8)),
                    "evidence": Data(report).base64EncodedString(), "certificate": Data(chain).base64EncodedString(),
                ]
            ]
        ])
        return SimulatedEvidence(
            kind: .nvidia, evidence: report, rcarEvidence: rcar,
            endorsements: [EvidenceFile(name: "gpu-chain.pem", bytes: chain)],
            trustAnchors: [EvidenceFile(name: "nvidia-device-root.pem", bytes: TestChain.pem([root.certificate]))])
    }
}
