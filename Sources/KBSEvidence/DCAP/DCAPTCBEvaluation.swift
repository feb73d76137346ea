import Foundation
import KBSClaims

/// Intel's TCB evaluation: matches the platform (PCK), the QE and the TDX module against signed collateral.
///
/// A status other than Revoked is a claim for policy to judge, not a refusal: an OutOfDate platform still produced
/// a genuine quote. Revoked is refused; no matching level at all is a `tcb` error.
enum DCAPTCBEvaluation {
    /// The outcome for the platform and its parts.
    struct Result: Sendable {
        var status: String
        var platformLevel: DCAPTCBLevel
        var qeStatus: String?
        var moduleStatus: String?
        /// The TCB info's tcbEvaluationDataNumber (Intel's TCB recovery generation).
        var evaluationDataNumber: Int64?
        var advisoryIDs: [String]
    }

    static let knownStatuses: Set<String> = [
        "UpToDate", "SWHardeningNeeded", "ConfigurationNeeded", "ConfigurationAndSWHardeningNeeded", "OutOfDate",
        "OutOfDateConfigurationNeeded", "Revoked",
    ]

    /// The QE's status: its identity must match, then the first level whose isvsvn ≤ the QE's.
    static func evaluateQE(_ identity: DCAPQEIdentity, report: SGXReportBody) throws(EvidenceError) -> DCAPTCBLevel {
        let name = identity.collateral.name
        guard report.mrSigner == identity.mrSigner else {
            throw EvidenceError(.collateral, "\(name): QE MRSIGNER \(Hex.encode(report.mrSigner)) is not \(Hex.encode(identity.mrSigner))")
        }
        guard Int64(report.isvProdID) == identity.isvProdID else {
            throw EvidenceError(.collateral, "\(name): QE ISVPRODID \(report.isvProdID) is not \(identity.isvProdID)")
        }
        guard masked(report.miscSelectBytes, identity.miscSelectMask) == masked(identity.miscSelect, identity.miscSelectMask) else {
            throw EvidenceError(.collateral, "\(name): QE MISCSELECT does not match")
        }
        guard masked(report.attributes, identity.attributesMask) == masked(identity.attributes, identity.attributesMask) else {
            throw EvidenceError(.collateral, "\(name): QE ATTRIBUTES do not match")
        }
        guard let level = identity.levels.first(where: { $0.isvSVN <= Int64(report.isvSVN) }) else {
            throw EvidenceError(.tcb, "\(name): no QE TCB level for ISVSVN \(report.isvSVN)")
        }
        return level
    }

    /// The platform's TCB level: PCK SGX components and PCESVN, then (TDX) the TEE_TCB_SVN.
    static func platformLevel(_ info: DCAPTCBInfo, pck: PCKExtension, teeTCBSVN: [UInt8]?) throws(EvidenceError) -> DCAPTCBLevel {
        let skipModule = (teeTCBSVN?.count ?? 0) == 16 && (teeTCBSVN?[1] ?? 0) > 0
        for level in info.levels {
            guard level.sgxComponents.count == 16, pck.sgxComponents.count == 16 else { continue }
            guard zip(pck.sgxComponents, level.sgxComponents).allSatisfy({ $0 >= $1 }), pck.pceSVN >= level.pceSVN else { continue }
            if let teeTCBSVN {
                guard let tdx = level.tdxComponents, tdx.count == 16, teeTCBSVN.count == 16 else { continue }
                let start = skipModule ? 2 : 0
                guard (start..<16).allSatisfy({ Int64(teeTCBSVN[$0]) >= tdx[$0] }) else { continue }
            }
            return level
        }
        throw EvidenceError(
            .tcb,
            "\(info.collateral.name): no TCB level matches the platform (PCK SVNs \(pck.sgxComponents), PCESVN \(pck.pceSVN)\(teeTCBSVN.map { ", TEE_TCB_SVN " + Hex.encode($0) } ?? ""))"
        )
    }

    /// The TDX module's identity and, for a module major version above 0, its TCB level (Intel QVL's TDX module
    /// check).
    ///
    /// TEE_TCB_SVN[1], the module's major version, picks the identity the quote's MRSIGNERSEAM and SEAMATTRIBUTES must
    /// match: TCB info's `tdxModule` when it is 0, else the `tdxModuleIdentities` entry `TDX_<version as 2 hex
    /// digits>`, whose levels then give the module's own status from TEE_TCB_SVN[0]. Version 0 modules have no levels
    /// of their own: the platform level compares all of TEE_TCB_SVN instead.
    static func moduleLevel(_ info: DCAPTCBInfo, body: TDReportBody) throws(EvidenceError) -> DCAPTCBLevel? {
        let svn = body.teeTCBSVN
        let name = info.collateral.name
        guard svn[1] > 0 else {
            guard let module = info.module else { throw EvidenceError(.collateral, "\(name): TDX TCB info has no tdxModule identity") }
            try checkModule(body, matches: module, in: name)
            return nil
        }
        let id = "TDX_" + Hex.encode([svn[1]]).uppercased()
        guard let module = info.moduleIdentities.first(where: { $0.id.uppercased() == id }) else {
            throw EvidenceError(.tcb, "\(name): no TDX module identity \(id)")
        }
        try checkModule(body, matches: module, in: name)
        guard let level = module.tcbLevels.first(where: { $0.isvSVN <= Int64(svn[0]) }) else {
            throw EvidenceError(.tcb, "\(name): no \(id) TCB level for module SVN \(svn[0])")
        }
        return level
    }

    /// Refuses a TD quote whose TDX module is not the one `module` names: MRSIGNERSEAM must equal its mrsigner, and
    /// SEAMATTRIBUTES its attributes under attributesMask.
    static func checkModule(_ body: TDReportBody, matches module: DCAPModuleIdentity, in name: String) throws(EvidenceError) {
        guard body.mrSignerSeam == module.mrSigner else {
            throw EvidenceError(
                .tcb,
                "\(name): MRSIGNERSEAM \(Hex.encode(body.mrSignerSeam)) is not the TDX module signer \(Hex.encode(module.mrSigner)) of \(module.id)")
        }
        guard masked(body.seamAttributes, module.attributesMask) == masked(module.attributes, module.attributesMask) else {
            throw EvidenceError(
                .tcb,
                "\(name): SEAMATTRIBUTES \(Hex.encode(body.seamAttributes)) do not match \(module.id) attributes \(Hex.encode(module.attributes)) under mask \(Hex.encode(module.attributesMask))"
            )
        }
    }

    /// Combines the platform status with the QE's or module's (Intel QVL's convergence): a part that is OutOfDate
    /// makes an otherwise current platform OutOfDate; Revoked anywhere is refused by the caller.
    static func converge(_ platform: String, with part: String?) -> String {
        guard let part, part == "OutOfDate" || part == "OutOfDateConfigurationNeeded" else { return platform }
        switch platform {
        case "UpToDate", "SWHardeningNeeded": return "OutOfDate"
        case "ConfigurationNeeded", "ConfigurationAndSWHardeningNeeded": return "OutOfDateConfigurationNeeded"
        default: return platform
        }
    }

    static func masked(_ value: [UInt8], _ mask: [UInt8]) -> [UInt8] {
        zip(value, mask).map { $0 & $1 }
    }
}
