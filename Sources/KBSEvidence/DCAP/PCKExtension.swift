import KBSClaims

/// What Intel's PCK certificate vouches for, from its SGX extension (OID 1.2.840.113741.1.13.1).
struct PCKExtension: Sendable, Equatable {
    static let oid = "1.2.840.113741.1.13.1"

    /// The 16 SGX TCB component SVNs (`.2.1`–`.2.16`).
    var sgxComponents: [Int64]
    /// `.2.17`.
    var pceSVN: Int64
    /// `.2.18`, 16 bytes.
    var cpuSVN: [UInt8]
    /// `.3`, 2 bytes.
    var pceID: [UInt8]
    /// `.4`, 6 bytes: the platform family the TCB info is looked up by.
    var fmspc: [UInt8]
    /// `.5`: 0 standard, 1 scalable, 2 scalable with integrity.
    var sgxType: Int64?

    /// Parses the extension's DER value: a SEQUENCE of SEQUENCE { OID, value }.
    /// PCK certificates' SGX extensions by certificate fingerprint: a known platform's PCK is read once.
    static let parsed = ParsedCache<PCKExtension>(capacity: 1024)

    /// The SGX extension of the PCK certificate `leaf`, read once per distinct certificate (``parsed``).
    static func of(_ leaf: Certificate) throws(EvidenceError) -> PCKExtension {
        try parsed.value(of: leaf, domain: "PCK SGX extension") { () throws(EvidenceError) in
            guard let der = try leaf.extensionValue(oid) else {
                throw EvidenceError(.malformed, "PCK certificate has no SGX extension \(oid)")
            }
            return try PCKExtension(der: der)
        }
    }

    init(der: [UInt8]) throws(EvidenceError) {
        let what = "PCK SGX extension"
        var outer = DERReader(der[...], what: what)
        let top = try outer.next(tag: DERReader.sequence)
        guard outer.isAtEnd else { throw EvidenceError(.malformed, "\(what): trailing bytes") }
        var components = [Int64?](repeating: nil, count: 16)
        var pceSVN: Int64?
        var cpuSVN: [UInt8]?
        var pceID: [UInt8]?
        var fmspc: [UInt8]?
        var sgxType: Int64?
        var entries = DERReader(top.content, what: what)
        var count = 0
        while !entries.isAtEnd {
            count += 1
            guard count <= 64 else { throw EvidenceError(.malformed, "\(what): too many entries") }
            let entry = try entries.next(tag: DERReader.sequence)
            var pair = DERReader(entry.content, what: what)
            let oid = try DERReader.oid(try pair.next(tag: DERReader.objectIdentifier).content, what: what)
            let value = try pair.next()
            switch oid {
            case Self.oid + ".2":
                guard value.tag == DERReader.sequence else { throw EvidenceError(.malformed, "\(what): TCB is not a SEQUENCE") }
                var tcb = DERReader(value.content, what: what)
                var tcbCount = 0
                while !tcb.isAtEnd {
                    tcbCount += 1
                    guard tcbCount <= 64 else { throw EvidenceError(.malformed, "\(what): too many TCB entries") }
                    var item = DERReader(try tcb.next(tag: DERReader.sequence).content, what: what)
                    let itemOID = try DERReader.oid(try item.next(tag: DERReader.objectIdentifier).content, what: what)
                    let itemValue = try item.next()
                    let prefix = Self.oid + ".2."
                    guard itemOID.hasPrefix(prefix), let index = Int(itemOID.dropFirst(prefix.count)) else { continue }
                    switch index {
                    case 1...16:
                        guard itemValue.tag == DERReader.integer else { throw EvidenceError(.malformed, "\(what): component SVN is not an INTEGER") }
                        components[index - 1] = try DERReader.unsigned(itemValue.content, what: what)
                    case 17:
                        guard itemValue.tag == DERReader.integer else { throw EvidenceError(.malformed, "\(what): PCESVN is not an INTEGER") }
                        pceSVN = try DERReader.unsigned(itemValue.content, what: what)
                    case 18:
                        guard itemValue.tag == DERReader.octetString else {
                            throw EvidenceError(.malformed, "\(what): CPUSVN is not an OCTET STRING")
                        }
                        cpuSVN = Array(itemValue.content)
                    default: continue
                    }
                }
            case Self.oid + ".3":
                guard value.tag == DERReader.octetString else { throw EvidenceError(.malformed, "\(what): PCE-ID is not an OCTET STRING") }
                pceID = Array(value.content)
            case Self.oid + ".4":
                guard value.tag == DERReader.octetString else { throw EvidenceError(.malformed, "\(what): FMSPC is not an OCTET STRING") }
                fmspc = Array(value.content)
            case Self.oid + ".5":
                guard value.tag == DERReader.enumerated || value.tag == DERReader.integer else {
                    throw EvidenceError(.malformed, "\(what): SGX type is not ENUMERATED")
                }
                sgxType = try DERReader.unsigned(value.content, what: what)
            default:
                continue  // PPID, platform instance, configuration: not needed for TCB evaluation.
            }
        }
        let found = components.compactMap { $0 }
        guard found.count == 16, let pceSVN, let cpuSVN, cpuSVN.count == 16, let pceID, pceID.count == 2, let fmspc, fmspc.count == 6 else {
            throw EvidenceError(.malformed, "\(what): TCB components, PCESVN, CPUSVN, PCE-ID or FMSPC missing or mis-sized")
        }
        self.sgxComponents = found
        self.pceSVN = pceSVN
        self.cpuSVN = cpuSVN
        self.pceID = pceID
        self.fmspc = fmspc
        self.sgxType = sgxType
    }
}
