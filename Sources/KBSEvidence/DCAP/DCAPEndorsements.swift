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

    init(_ files: [EvidenceFile]) throws(EvidenceError) {
        for file in files {
            let bytes = file.bytes
            let firstText = bytes.first { ![0x20, 0x09, 0x0A, 0x0D].contains($0) }
            if firstText == UInt8(ascii: "{") {
                if let tcbInfo = try SignedCollateral.parse(bytes, member: "tcbInfo", name: file.name) {
                    tcbInfos.append(tcbInfo)
                } else if let identity = try SignedCollateral.parse(bytes, member: "enclaveIdentity", name: file.name) {
                    qeIdentities.append(identity)
                }
                // Other JSON is for other verifiers.
            } else if CCELTable.recognises(bytes) {
                ccelTables.append((file.name, try CCELTable(bytes)))
            } else if CCEventLog.recognises(bytes) {
                eventLogs.append((file.name, bytes))
            } else if let certificates = try? Certificate.parseAll(bytes) {
                self.certificates += certificates
            } else if let crl = try? RevocationList(bytes) {
                revocationLists.append((file.name, crl))
            }
            // Anything else is not DCAP collateral and is left to other verifiers.
        }
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
