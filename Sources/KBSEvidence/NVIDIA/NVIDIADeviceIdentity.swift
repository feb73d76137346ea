import Foundation
import KBSClaims

/// The device side of NVIDIA evidence: the 5-certificate device chain and the FWID its leaf carries.
enum NVIDIADeviceIdentity {
    /// Device chains are leaf (`… FMC LF`), BROM, Provisioner ICA, `G?100 Identity`, NVIDIA Device Identity CA.
    static let chainLength = 5

    /// The TCG DICE TcbInfo extension: Hopper and NVSwitch leaves use 2.23.133.5.4.1, Blackwell 2.23.133.5.4.1.1.
    static let tcbInfoOIDs = ["2.23.133.5.4.1", "2.23.133.5.4.1.1"]

    /// Verifies `chain` (leaf first) to one of `anchors` at `time`; `chain` unless it has exactly five certificates.
    static func verifyChain(_ chain: [Certificate], anchors: [Certificate], at time: Date, what: String) throws(EvidenceError) {
        guard chain.count == chainLength else {
            throw EvidenceError(.chain, "\(what): device chain has \(chain.count) certificates, expected \(chainLength) (leaf to Device Identity CA)")
        }
        try CertificateChain.verify(chain, anchors: anchors, at: time, what: what)
    }

    /// The first 48-byte FWID digest of the leaf's TcbInfo extension; nil when the leaf has no such extension.
    ///
    /// Hopper leaves encode `SEQUENCE {version, SubjectPublicKeyInfo, FWID}`, Blackwell leaves a DICE TcbInfo whose
    /// `fwids [6]` holds FWIDs; both put the digest in an `FWID ::= SEQUENCE {hashAlg OID, digest OCTET STRING}`, so
    /// the first such pair with a 48-byte digest, depth first, is the FWID.
    static func fwid(of leaf: Certificate) throws(EvidenceError) -> [UInt8]? {
        try fwids.value(of: leaf, domain: "NVIDIA FWID") { () throws(EvidenceError) in try readFWID(of: leaf) }
    }

    /// Leaves' FWIDs (or their absence) by certificate fingerprint: a known device's leaf is read once.
    static let fwids = ParsedCache<[UInt8]?>(capacity: 1024)

    private static func readFWID(of leaf: Certificate) throws(EvidenceError) -> [UInt8]? {
        for oid in tcbInfoOIDs {
            guard let value = try leaf.extensionValue(oid) else { continue }
            guard let digest = try TcbInfoDER.firstDigest(in: value, length: 48) else {
                throw EvidenceError(.malformed, "leaf TcbInfo extension \(oid) holds no 48-byte FWID")
            }
            return digest
        }
        return nil
    }
}

/// Just enough DER to walk a TcbInfo extension: bounded, depth-limited, never traps.
enum TcbInfoDER {
    struct Element {
        var tag: UInt8
        var content: [UInt8]
        var constructed: Bool { tag & 0x20 != 0 }
    }

    /// The elements that `bytes` consists of, in order.
    static func elements(_ bytes: [UInt8]) throws(EvidenceError) -> [Element] {
        var reader = DERReader(bytes[...], what: "DICE TcbInfo")
        var result: [Element] = []
        while !reader.isAtEnd {
            let element = try reader.next()
            result.append(Element(tag: element.tag, content: Array(element.content)))
        }
        return result
    }

    /// The digest of the first `SEQUENCE {OBJECT IDENTIFIER, OCTET STRING}` whose octet string is `length` bytes.
    static func firstDigest(in bytes: [UInt8], length: Int, depth: Int = 0) throws(EvidenceError) -> [UInt8]? {
        guard depth < 8 else { return nil }
        for element in try elements(bytes) where element.constructed {
            if element.tag == 0x30, let children = try? elements(element.content), children.count == 2,
                children[0].tag == 0x06, children[1].tag == 0x04, children[1].content.count == length
            {
                return children[1].content
            }
            if let found = try firstDigest(in: element.content, length: length, depth: depth + 1) { return found }
        }
        return nil
    }
}
