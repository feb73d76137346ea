import Crypto
import Foundation
import KBSClaims

extension TestChain {
    /// A v2 CRL (DER) by `issuer`, current `thisUpdate…nextUpdate`, listing `revoking`: the CRLs a test's stand-in KDS
    /// or PCS serves for the simulator's chains (ECDSA with SHA-384 for a P-384 issuer, SHA-256 for P-256).
    static func revocationList(
        by issuer: Issued, revoking: [Certificate], thisUpdate: Date, nextUpdate: Date
    ) throws(EvidenceError) -> [UInt8] {
        let formatter = DateFormatter()
        formatter.locale = Locale(identifier: "en_US_POSIX")
        formatter.timeZone = TimeZone(identifier: "UTC")
        formatter.dateFormat = "yyMMddHHmmss'Z'"
        func time(_ date: Date) -> [UInt8] { DERWriter.tlv(0x17, Array(formatter.string(from: date).utf8)) }
        let algorithm = DERWriter.sequence([DERWriter.oid(issuer.key.usesSHA384 ? "1.2.840.10045.4.3.3" : "1.2.840.10045.4.3.2")])
        var fields = [DERWriter.integer(1), algorithm, try subjectName(issuer.certificate), time(thisUpdate), time(nextUpdate)]
        if !revoking.isEmpty {
            fields.append(DERWriter.sequence(revoking.map { DERWriter.sequence([DERWriter.tlv(0x02, $0.serial), time(thisUpdate)]) }))
        }
        let tbs = DERWriter.sequence(fields)
        let signature: [UInt8]
        do {
            switch issuer.key {
            case .p384(let key): signature = Array(try key.signature(for: tbs).derRepresentation)
            case .p256(let key): signature = Array(try key.signature(for: tbs).derRepresentation)
            }
        } catch {
            throw EvidenceError(.configuration, "simulator: cannot sign the CRL")
        }
        return DERWriter.sequence([tbs, algorithm, DERWriter.tlv(0x03, [0] + signature)])
    }

    /// The subject Name of `certificate` as DER: the sixth field of its TBSCertificate (after version, serial,
    /// signature algorithm, issuer and validity).
    static func subjectName(_ certificate: Certificate) throws(EvidenceError) -> [UInt8] {
        var outer = DERReader(certificate.der[...], what: "certificate")
        var certificateFields = DERReader(try outer.next(tag: 0x30).content, what: "certificate")
        var tbs = DERReader(try certificateFields.next(tag: 0x30).content, what: "TBSCertificate")
        for _ in 0..<5 { _ = try tbs.next() }
        return DERWriter.tlv(0x30, Array(try tbs.next(tag: 0x30).content))
    }
}
