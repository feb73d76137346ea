import KBSClaims

/// The endorsement files a DCAP verification was handed, sorted by what their content is.
struct DCAPEndorsements {
    var tcbInfos: [SignedCollateral] = []
    var qeIdentities: [SignedCollateral] = []
    /// Every certificate from certificate files (TCB Signing chain, PCK CRL issuer chain…).
    var certificates: [Certificate] = []
    var revocationLists: [(name: String, crl: RevocationList)] = []
    var eventLogs: [(name: String, bytes: [UInt8])] = []
    var ccelTables: [(name: String, table: CCELTable)] = []

    /// What one endorsement file holds, as parsed; a pure function of its bytes.
    enum Content: Sendable {
        case tcbInfo(SignedCollateral)
        case qeIdentity(SignedCollateral)
        case ccelTable(CCELTable)
        case eventLog
        case certificates([Certificate])
        case revocationList(RevocationList)
        /// Not DCAP collateral (other JSON, other files): left to other verifiers.
        case other
    }

    /// Endorsement files' contents by the SHA-256 of their bytes: the same collateral handed to every verification is
    /// parsed once per update. Its signature and window are still checked each call (``DCAPVerification``).
    static let parsed = ParsedCache<Content>(capacity: 256)

    init(_ files: [EvidenceFile]) throws(EvidenceError) {
        for file in files {
            let content = try Self.parsed.value(of: file.bytes, domain: "DCAP endorsement") { () throws(EvidenceError) in
                try Self.content(of: file)
            }
            switch content {
            case .tcbInfo(var collateral):
                collateral.name = file.name
                tcbInfos.append(collateral)
            case .qeIdentity(var collateral):
                collateral.name = file.name
                qeIdentities.append(collateral)
            case .ccelTable(let table): ccelTables.append((file.name, table))
            case .eventLog: eventLogs.append((file.name, file.bytes))
            case .certificates(let certificates): self.certificates += certificates
            case .revocationList(let crl): revocationLists.append((file.name, crl))
            case .other: break
            }
        }
    }

    /// Sorts and parses one file: JSON collateral, a CCEL table or event log, certificates, or a CRL.
    static func content(of file: EvidenceFile) throws(EvidenceError) -> Content {
        let bytes = file.bytes
        let firstText = bytes.first { ![0x20, 0x09, 0x0A, 0x0D].contains($0) }
        if firstText == UInt8(ascii: "{") {
            if let tcbInfo = try SignedCollateral.parse(bytes, member: "tcbInfo", name: file.name) { return .tcbInfo(tcbInfo) }
            if let identity = try SignedCollateral.parse(bytes, member: "enclaveIdentity", name: file.name) { return .qeIdentity(identity) }
            return .other
        }
        if CCELTable.recognises(bytes) { return .ccelTable(try CCELTable(bytes)) }
        if CCEventLog.recognises(bytes) { return .eventLog }
        if let certificates = try? Certificate.parseAll(bytes) { return .certificates(certificates) }
        if let crl = try? RevocationList(bytes) { return .revocationList(crl) }
        return .other
    }

    /// The Intel TCB Signing certificates given, in the order given (an old one and its renewal may both be here).
    var tcbSigners: [Certificate] {
        certificates.filter { $0.commonName.contains("TCB Signing") && $0.isCA != true }
    }

    /// Adds the certificates of an issuer chain a collateral service sent (untrusted: they still chain to an anchor).
    mutating func addIssuerChain(_ pem: [UInt8]) {
        guard !pem.isEmpty, let chain = try? Certificate.parseAll(pem) else { return }
        certificates += chain
    }
}
