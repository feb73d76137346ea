import Crypto
import Foundation
import KBSClaims

/// A TDX DCAP quote v4 (TD 1.0 body) signed by a simulated attestation key, whose QE report a simulated PCK
/// certificate signs, chained to a simulated "Intel SGX Root CA".
enum SimulatedTDX {
    static let sgxExtension = "1.2.840.113741.1.13.1"
    static let qeVendorID: [UInt8] = [0x93, 0x9a, 0x72, 0x33, 0xf7, 0x9c, 0x4c, 0xa9, 0x94, 0x0a, 0x0d, 0xb3, 0x95, 0x7f, 0x06, 0x07]
    static let fmspc: [UInt8] = [0x00, 0x90, 0x6e, 0xd5, 0x00, 0x00]

    /// The root and the PCK platform CA, root first.
    static func authorities(now: Date) throws(EvidenceError) -> [TestChain.Issued] {
        try TestChain.authorityPair(
            root: "Intel SGX Root CA", intermediate: "Intel SGX PCK Platform CA", key: { .p256(P256.Signing.PrivateKey()) },
            now: now)
    }

    static func make(
        reportData: [UInt8], measurement: [UInt8]?, debug: Bool, now: Date, authorities given: [TestChain.Issued]?
    ) throws(EvidenceError) -> SimulatedEvidence {
        let year: TimeInterval = 365 * 86400
        var authorities = given ?? []
        if given == nil { authorities = try Self.authorities(now: now) }
        let (root, platformCA) = (authorities[0], authorities[1])
        let pckKey = P256.Signing.PrivateKey()
        let pck = try TestChain.issue(
            commonName: "Intel SGX PCK Certificate", key: .p256(pckKey), issuer: platformCA, serial: TestChain.randomSerial(),
            isCA: false, extensions: [.init(oid: sgxExtension, value: sgxExtensionValue())],
            notBefore: now - 86400, notAfter: now + 7 * year)

        var header: [UInt8] = []
        header += TEESimulator.littleEndian(UInt16(4))  // version
        header += TEESimulator.littleEndian(UInt16(2))  // attestation key type: ECDSA P-256
        header += TEESimulator.littleEndian(UInt32(0x81))  // TEE type: TDX
        header += [0, 0, 0, 0]  // reserved
        header += qeVendorID
        header += [UInt8](repeating: 0, count: 20)  // user data

        let tdAttributes: UInt64 = debug ? 1 : 1 << 28  // DEBUG, else SEPT_VE_DISABLE
        var body: [UInt8] = []
        body += [3, 0, 5] + [UInt8](repeating: 0, count: 13)  // tee_tcb_svn
        body += TEESimulator.defaultMeasurement(48)  // mr_seam
        body += [UInt8](repeating: 0, count: 48)  // mr_signer_seam (Intel's module)
        body += [UInt8](repeating: 0, count: 8)  // seam_attributes
        body += TEESimulator.littleEndian(tdAttributes)
        body += TEESimulator.littleEndian(UInt64(0x0006_0000_0000_00e7))  // xfam
        body += TEESimulator.fitted(measurement ?? TEESimulator.defaultMeasurement(48), 48)  // mr_td
        body += [UInt8](repeating: 0, count: 48 * 3)  // mr_config_id, mr_owner, mr_owner_config
        body += [UInt8](repeating: 0, count: 48 * 4)  // rtmr0..3
        body += ReportDataFit.pad(64).apply(reportData)

        let attestationKey = P256.Signing.PrivateKey()
        let quoteSignature = try sign(attestationKey, header + body)
        let attestationPublic = Array(attestationKey.publicKey.rawRepresentation)
        let authData = Array("hanzo-kbs-simulator".utf8)
        var qeReport = [UInt8](repeating: 0, count: 384)
        qeReport.replaceSubrange(128..<160, with: [UInt8](repeating: 0xA5, count: 32))  // mrsigner
        qeReport.replaceSubrange(256..<258, with: TEESimulator.littleEndian(UInt16(2)))  // isvprodid: TD QE
        qeReport.replaceSubrange(258..<260, with: TEESimulator.littleEndian(UInt16(4)))  // isvsvn
        qeReport.replaceSubrange(320..<352, with: Array(SHA256.hash(data: attestationPublic + authData)))
        let qeSignature = try sign(pckKey, qeReport)

        let chain = TestChain.pem([pck.certificate, platformCA.certificate, root.certificate])
        var inner: [UInt8] = TEESimulator.littleEndian(UInt16(5)) + TEESimulator.littleEndian(UInt32(chain.count)) + chain
        inner = qeReport + qeSignature + TEESimulator.littleEndian(UInt16(authData.count)) + authData + inner
        let certification = TEESimulator.littleEndian(UInt16(6)) + TEESimulator.littleEndian(UInt32(inner.count)) + inner
        let signatureData = quoteSignature + attestationPublic + certification
        let quote = header + body + TEESimulator.littleEndian(UInt32(signatureData.count)) + signatureData

        let rcar = try TEESimulator.json(["quote": Data(quote).base64EncodedString()])
        return SimulatedEvidence(
            kind: .tdx, evidence: quote, rcarEvidence: rcar,
            endorsements: [EvidenceFile(name: "pck-chain.pem", bytes: chain)],
            trustAnchors: [EvidenceFile(name: "sgx-root.pem", bytes: TestChain.pem([root.certificate]))])
    }

    static func sign(_ key: P256.Signing.PrivateKey, _ bytes: [UInt8]) throws(EvidenceError) -> [UInt8] {
        do { return Array(try key.signature(for: bytes).rawRepresentation) } catch {
            throw EvidenceError(.configuration, "simulator: cannot sign the quote")
        }
    }

    /// Intel's SGX extension: PPID, TCB (16 component SVNs, PCESVN, CPUSVN), PCE-ID, FMSPC, SGX type.
    static func sgxExtensionValue() -> [UInt8] {
        func member(_ arc: String, _ value: [UInt8]) -> [UInt8] { DERWriter.sequence([DERWriter.oid(sgxExtension + "." + arc), value]) }
        var tcb: [[UInt8]] = (1...16).map { member("2.\($0)", DERWriter.integer($0 <= 2 ? 3 : 0)) }
        tcb.append(member("2.17", DERWriter.integer(13)))
        tcb.append(member("2.18", DERWriter.octetString([3, 3] + [UInt8](repeating: 0, count: 14))))
        return DERWriter.sequence([
            member("1", DERWriter.octetString(TEESimulator.random(16))),
            member("2", DERWriter.sequence(tcb)),
            member("3", DERWriter.octetString([0, 0])),
            member("4", DERWriter.octetString(fmspc)),
            member("5", DERWriter.enumerated(0)),
        ])
    }
}
