import Crypto
import Foundation
import KBSClaims

/// One TCB level of Intel collateral: what a platform (or QE, or TDX module) must reach, and the status it then has.
struct DCAPTCBLevel: Sendable {
    var sgxComponents: [Int64] = []
    var pceSVN: Int64 = 0
    var tdxComponents: [Int64]?
    /// QE identity and TDX module levels.
    var isvSVN: Int64 = 0
    var tcbDate: Date?
    var tcbStatus: String
    var advisoryIDs: [String]
}

/// A TDX module identity of TDX TCB info: `tdxModule` (no levels), or one of `tdxModuleIdentities` (`TDX_01`,
/// `TDX_03`…).
struct DCAPModuleIdentity: Sendable {
    var id: String
    var mrSigner: [UInt8]
    var attributes: [UInt8]
    var attributesMask: [UInt8]
    var tcbLevels: [DCAPTCBLevel]
}

/// Signed Intel PCS collateral: TCB info or enclave (QE) identity, with the exact bytes its signature covers.
struct SignedCollateral: Sendable {
    var name: String
    /// The served bytes of the `tcbInfo` / `enclaveIdentity` member value.
    var signedBytes: [UInt8]
    var signature: [UInt8]
    var body: JSONNode
    /// SHA-256 of ``signedBytes`` then of ``signature``: the collateral's identity in ``VerifiedChainCache``.
    var fingerprints: [[UInt8]]
    /// `issueDate…nextUpdate`, read when parsed; nil when either is missing or malformed (``checkFreshness(at:)`` then
    /// reads them again and says which).
    var window: ClosedRange<Date>?

    /// Collateral a collateral source served, parsed by the SHA-256 of its bytes and the member read: the same answer,
    /// cached by the source and handed over each call, is parsed once. Its signature and window are still checked.
    static let parsed = ParsedCache<SignedCollateral?>(capacity: 256)

    /// ``parse(_:member:name:)`` once per distinct bytes and member (``parsed``); `name` is this call's.
    static func parseOnce(_ bytes: [UInt8], member: String, name: String) throws(EvidenceError) -> SignedCollateral? {
        var collateral = try parsed.value(of: bytes, domain: member) { () throws(EvidenceError) in
            try parse(bytes, member: member, name: name)
        }
        collateral?.name = name
        return collateral
    }

    /// Parses `{"<member>":{…},"signature":"hex"}`; nil when `bytes` is JSON without `member`.
    static func parse(_ bytes: [UInt8], member: String, name: String) throws(EvidenceError) -> SignedCollateral? {
        guard bytes.count <= 1 << 20 else { throw EvidenceError(.malformed, "\(name): collateral over 1 MiB") }
        let root: JSONNode
        do { root = try JSONNode.parse(bytes) } catch { throw EvidenceError(.malformed, "\(name): not JSON: \(error.message)") }
        guard let body = root[member] else { return nil }
        guard case .object = body.value, body.range.lowerBound >= 0, body.range.upperBound <= bytes.count else {
            throw EvidenceError(.malformed, "\(name): `\(member)` is not an object")
        }
        guard let signatureText = root["signature"]?.stringValue, let signature = Hex.decode(signatureText, prefix: .allowed), signature.count == 64
        else {
            throw EvidenceError(.malformed, "\(name): `signature` is not 64 bytes of hex")
        }
        let signed = Array(bytes[body.range])
        var window: ClosedRange<Date>?
        if let issued = try? date(body["issueDate"], "issueDate"), let next = try? date(body["nextUpdate"], "nextUpdate"), issued <= next {
            window = issued...next
        }
        return SignedCollateral(
            name: name, signedBytes: signed, signature: signature, body: body,
            fingerprints: [Array(SHA256.hash(data: signed)), Array(SHA256.hash(data: signature))], window: window)
    }

    /// What `parse` makes of this collateral, from `cache` when these signed bytes were parsed before; the value
    /// carries this collateral (its name is the current file's).
    func parsedOnce<Parsed: ParsedCollateral>(
        in cache: ParsedCache<Parsed>, parse: (SignedCollateral) throws(EvidenceError) -> Parsed
    ) throws(EvidenceError) -> Parsed {
        var parsed = try cache.value(of: fingerprints[0], domain: "signed collateral") { () throws(EvidenceError) in try parse(self) }
        parsed.collateral = self
        return parsed
    }

    /// Checks the signature with `signer` (the TCB Signing certificate).
    /// A pass is remembered (``VerifiedChainCache``) by the signed bytes', the signature's and the signer's
    /// fingerprints: the same collateral is checked once per update, not once per quote.
    func verifySignature(signer: Certificate) throws(EvidenceError) {
        let key = VerifiedChainCache.Key("collateral", fingerprints + [signer.fingerprint])
        if VerifiedChainCache.shared.contains(key, at: .distantPast) { return }
        guard ECDSA.verify(signature, message: signedBytes, certificate: signer, curve: .p256) else {
            throw EvidenceError(.signature, "\(name): collateral signature does not verify with \(signer.commonName)")
        }
        VerifiedChainCache.shared.insert(key, validFrom: .distantPast, validUntil: .distantFuture)
    }

    /// Requires `time` within issueDate…nextUpdate.
    func checkFreshness(at time: Date) throws(EvidenceError) {
        if let window, window.contains(time) { return }
        let issued = try Self.date(body["issueDate"], "\(name) issueDate")
        let next = try Self.date(body["nextUpdate"], "\(name) nextUpdate")
        guard issued <= time, time <= next else {
            throw EvidenceError(.expired, "\(name): collateral is current \(issued)…\(next), not at \(time)")
        }
    }

    // MARK: Field readers (all throw `malformed` on a missing or mistyped member)

    static func string(_ node: JSONNode?, _ what: String) throws(EvidenceError) -> String {
        guard let text = node?.stringValue else { throw EvidenceError(.malformed, "\(what) is missing or not a string") }
        return text
    }

    static func int(_ node: JSONNode?, _ what: String) throws(EvidenceError) -> Int64 {
        guard let node, case .number(let value?, _) = node.value else { throw EvidenceError(.malformed, "\(what) is missing or not an integer") }
        return value
    }

    static func hex(_ node: JSONNode?, _ what: String, count: Int) throws(EvidenceError) -> [UInt8] {
        guard let bytes = Hex.decode(try string(node, what), prefix: .allowed), bytes.count == count else {
            throw EvidenceError(.malformed, "\(what) is not \(count) bytes of hex")
        }
        return bytes
    }

    static func date(_ node: JSONNode?, _ what: String) throws(EvidenceError) -> Date {
        guard let nanos = Timestamp.nanoseconds(fromRFC3339: try string(node, what)) else {
            throw EvidenceError(.malformed, "\(what) is not an RFC 3339 time")
        }
        return Date(timeIntervalSince1970: Double(nanos) / 1e9)
    }

    static func array(_ node: JSONNode?, _ what: String) throws(EvidenceError) -> [JSONNode] {
        guard let node, case .array(let elements) = node.value else { throw EvidenceError(.malformed, "\(what) is missing or not an array") }
        guard elements.count <= 256 else { throw EvidenceError(.malformed, "\(what) has too many entries") }
        return elements
    }

    /// A TCB level's common members: tcbDate, tcbStatus, advisoryIDs.
    static func level(_ node: JSONNode, _ what: String) throws(EvidenceError) -> DCAPTCBLevel {
        let status = try string(node["tcbStatus"], "\(what) tcbStatus")
        var date: Date?
        if node["tcbDate"] != nil { date = try self.date(node["tcbDate"], "\(what) tcbDate") }
        var advisories: [String] = []
        if node["advisoryIDs"] != nil {
            for item in try array(node["advisoryIDs"], "\(what) advisoryIDs") { advisories.append(try string(item, "\(what) advisory ID")) }
        }
        return DCAPTCBLevel(tcbDate: date, tcbStatus: status, advisoryIDs: advisories)
    }

    /// The 16 `svn` values of an `sgxtcbcomponents` / `tdxtcbcomponents` array.
    static func components(_ node: JSONNode?, _ what: String) throws(EvidenceError) -> [Int64] {
        let items = try array(node, what)
        guard items.count == 16 else { throw EvidenceError(.malformed, "\(what) has \(items.count) components, not 16") }
        var values: [Int64] = []
        for item in items { values.append(try int(item["svn"], "\(what) svn")) }
        return values
    }
}

/// A value read from signed collateral, which keeps the collateral it came from.
protocol ParsedCollateral: Sendable {
    var collateral: SignedCollateral { get set }
}

/// Intel TCB info (`tcbInfo` v3, SGX or TDX).
struct DCAPTCBInfo: ParsedCollateral {
    var collateral: SignedCollateral
    var id: String
    var fmspc: [UInt8]
    var pceID: [UInt8]
    var evaluationDataNumber: Int64?
    var levels: [DCAPTCBLevel]
    /// `tdxModule`: the identity of a TDX module whose major version (TEE_TCB_SVN[1]) is 0.
    var module: DCAPModuleIdentity?
    /// `tdxModuleIdentities`: one per module major version from 1 on, with its own TCB levels.
    var moduleIdentities: [DCAPModuleIdentity]

    /// Parsed TCB infos by their signed bytes' fingerprint: a pure function of them, read once per update.
    static let parsed = ParsedCache<DCAPTCBInfo>(capacity: 256)

    /// `collateral` parsed, once per distinct signed bytes (``parsed``).
    static func of(_ collateral: SignedCollateral) throws(EvidenceError) -> DCAPTCBInfo {
        try collateral.parsedOnce(in: parsed, parse: DCAPTCBInfo.init)
    }

    init(_ collateral: SignedCollateral) throws(EvidenceError) {
        let body = collateral.body
        let name = collateral.name
        self.collateral = collateral
        let version = try SignedCollateral.int(body["version"], "\(name) version")
        guard version == 3 else { throw EvidenceError(.unsupported, "\(name): TCB info version \(version) (only 3 is handled)") }
        id = try SignedCollateral.string(body["id"], "\(name) id")
        fmspc = try SignedCollateral.hex(body["fmspc"], "\(name) fmspc", count: 6)
        pceID = try SignedCollateral.hex(body["pceId"], "\(name) pceId", count: 2)
        evaluationDataNumber = nil
        if body["tcbEvaluationDataNumber"] != nil {
            evaluationDataNumber = try SignedCollateral.int(body["tcbEvaluationDataNumber"], "\(name) tcbEvaluationDataNumber")
        }
        var levels: [DCAPTCBLevel] = []
        for node in try SignedCollateral.array(body["tcbLevels"], "\(name) tcbLevels") {
            var level = try SignedCollateral.level(node, "\(name) tcbLevel")
            let tcb = node["tcb"]
            level.sgxComponents = try SignedCollateral.components(tcb?["sgxtcbcomponents"], "\(name) sgxtcbcomponents")
            level.pceSVN = try SignedCollateral.int(tcb?["pcesvn"], "\(name) pcesvn")
            if tcb?["tdxtcbcomponents"] != nil {
                level.tdxComponents = try SignedCollateral.components(tcb?["tdxtcbcomponents"], "\(name) tdxtcbcomponents")
            }
            levels.append(level)
        }
        self.levels = levels
        module = nil
        if let node = body["tdxModule"] { module = try Self.moduleIdentity(node, id: "tdxModule", name: name) }
        var modules: [DCAPModuleIdentity] = []
        if body["tdxModuleIdentities"] != nil {
            for node in try SignedCollateral.array(body["tdxModuleIdentities"], "\(name) tdxModuleIdentities") {
                let id = try SignedCollateral.string(node["id"], "\(name) module id")
                var identity = try Self.moduleIdentity(node, id: id, name: name)
                for levelNode in try SignedCollateral.array(node["tcbLevels"], "\(name) \(id) tcbLevels") {
                    var level = try SignedCollateral.level(levelNode, "\(name) \(id) tcbLevel")
                    level.isvSVN = try SignedCollateral.int(levelNode["tcb"]?["isvsvn"], "\(name) \(id) isvsvn")
                    identity.tcbLevels.append(level)
                }
                modules.append(identity)
            }
        }
        moduleIdentities = modules
    }

    /// The signer and attributes of `tdxModule` or a `tdxModuleIdentities` entry, without levels.
    private static func moduleIdentity(_ node: JSONNode, id: String, name: String) throws(EvidenceError) -> DCAPModuleIdentity {
        DCAPModuleIdentity(
            id: id,
            mrSigner: try SignedCollateral.hex(node["mrsigner"], "\(name) \(id) mrsigner", count: 48),
            attributes: try SignedCollateral.hex(node["attributes"], "\(name) \(id) attributes", count: 8),
            attributesMask: try SignedCollateral.hex(node["attributesMask"], "\(name) \(id) attributesMask", count: 8),
            tcbLevels: [])
    }
}

/// Intel enclave identity of the Quoting Enclave (`TD_QE` for TDX, `QE` for SGX).
struct DCAPQEIdentity: ParsedCollateral {
    var collateral: SignedCollateral
    var id: String
    var miscSelect: [UInt8]
    var miscSelectMask: [UInt8]
    var attributes: [UInt8]
    var attributesMask: [UInt8]
    var mrSigner: [UInt8]
    var isvProdID: Int64
    var levels: [DCAPTCBLevel]

    /// Parsed QE identities by their signed bytes' fingerprint: a pure function of them, read once per update.
    static let parsed = ParsedCache<DCAPQEIdentity>(capacity: 256)

    /// `collateral` parsed, once per distinct signed bytes (``parsed``).
    static func of(_ collateral: SignedCollateral) throws(EvidenceError) -> DCAPQEIdentity {
        try collateral.parsedOnce(in: parsed, parse: DCAPQEIdentity.init)
    }

    init(_ collateral: SignedCollateral) throws(EvidenceError) {
        let body = collateral.body
        let name = collateral.name
        self.collateral = collateral
        id = try SignedCollateral.string(body["id"], "\(name) id")
        miscSelect = try SignedCollateral.hex(body["miscselect"], "\(name) miscselect", count: 4)
        miscSelectMask = try SignedCollateral.hex(body["miscselectMask"], "\(name) miscselectMask", count: 4)
        attributes = try SignedCollateral.hex(body["attributes"], "\(name) attributes", count: 16)
        attributesMask = try SignedCollateral.hex(body["attributesMask"], "\(name) attributesMask", count: 16)
        mrSigner = try SignedCollateral.hex(body["mrsigner"], "\(name) mrsigner", count: 32)
        isvProdID = try SignedCollateral.int(body["isvprodid"], "\(name) isvprodid")
        var levels: [DCAPTCBLevel] = []
        for node in try SignedCollateral.array(body["tcbLevels"], "\(name) tcbLevels") {
            var level = try SignedCollateral.level(node, "\(name) tcbLevel")
            level.isvSVN = try SignedCollateral.int(node["tcb"]?["isvsvn"], "\(name) isvsvn")
            levels.append(level)
        }
        self.levels = levels
    }
}
