import Crypto
import Foundation
import KBSClaims

/// The checks TDX and SGX quotes share: quote and QE signatures, the attestation-key binding, the PCK chain and its
/// CRLs, the PCK's SGX extension, and (when collateral is at hand) Intel's TCB evaluation.
enum DCAPVerification {
    /// What a verified quote establishes.
    struct Outcome {
        var quote: DCAPQuote
        var pck: PCKExtension
        var qeReport: SGXReportBody
        var tcb: DCAPTCBEvaluation.Result?
        /// The QE's status when QE identity collateral was at hand (even without TCB info).
        var qeLevel: DCAPTCBLevel?
        var rtmrReplayed: Bool
        /// Whether CRLs covered every PCK-chain link: the root CA's for the intermediate, the intermediate's for the
        /// PCK.
        var revocationChecked: Bool
    }

    static func verify(_ evidence: [UInt8], kind: EvidenceKind, context: VerificationContext) async throws(EvidenceError) -> Outcome {
        let quote = try DCAPQuote(evidence)
        switch (kind, quote.body) {
        case (.tdx, .td), (.sgx, .sgx): break
        default:
            throw EvidenceError(
                .unsupported, "a DCAP quote v\(quote.version) with TEE type 0x\(String(quote.teeType, radix: 16)) is not \(kind.rawValue) evidence")
        }
        var endorsements = try DCAPEndorsements(context.endorsements)

        // 1. The attestation key signs header ‖ body.
        guard ECDSA.verify(quote.signature, message: Array(quote.signedRegion), publicKey: quote.attestationKey, curve: .p256) else {
            throw EvidenceError(.signature, "quote signature does not verify with its attestation key")
        }
        // 2. The PCK chain, leaf first, to a pinned Intel root.
        let chain = try Certificate.parseAll(quote.pckChainPEM)
        guard chain.count >= 2, chain.count <= 4 else { throw EvidenceError(.chain, "PCK chain has \(chain.count) certificates") }
        let anchors = CertificateChain.anchors(from: context.trustAnchors)
        let anchor = try CertificateChain.verify(chain, anchors: anchors, at: context.time, what: "PCK chain")
        let leaf = chain[0]
        // 3. The PCK key signs the QE report, whose report data binds the attestation key.
        let qeReport = try SGXReportBody(quote.qeReport)
        guard ECDSA.verify(quote.qeReportSignature, message: quote.qeReport, certificate: leaf, curve: .p256) else {
            throw EvidenceError(.signature, "QE report signature does not verify with the PCK certificate \(leaf.commonName)")
        }
        let expected = Array(SHA256.hash(data: quote.attestationKey + quote.qeAuthData))
        let qeData = qeReport.reportData
        guard Array(qeData[0..<32]) == expected, qeData[32..<64].allSatisfy({ $0 == 0 }) else {
            throw EvidenceError(.signature, "QE report data does not bind the attestation key (SHA-256(key ‖ QE auth data))")
        }
        // 4. CRLs, where given: each is checked against the certificate its issuer signed. Revocation was checked
        //    only if every link below the root (root CA → intermediate, intermediate → PCK) had its issuer's CRL.
        let path = chain.last?.der == anchor.der ? chain : chain + [anchor]
        var covered = Set<Int>()
        for (name, crl) in endorsements.revocationLists {
            guard let issuerIndex = path.firstIndex(where: { $0.subject == crl.issuer }), issuerIndex > 0 else { continue }
            try crl.check(path[issuerIndex - 1], issuer: path[issuerIndex], at: context.time, what: "CRL \(name)")
            covered.insert(issuerIndex - 1)
        }
        let pck = try PCKExtension.of(leaf)

        // 5. Collateral: from the endorsements, else from the collateral source (with the signing chain PCS sent).
        var tcbInfos = endorsements.tcbInfos
        var qeIdentities = endorsements.qeIdentities
        var fetchedTCBInfo: CollateralRequest?
        var fetchedQEIdentity: CollateralRequest?
        if tcbInfos.isEmpty, let source = context.collateral {
            let request = CollateralRequest.tcbInfo(kind: kind, fmspc: pck.fmspc)
            let answer = try await source.collateral(request, at: context.time)
            guard let parsed = try SignedCollateral.parseOnce(answer.body, member: "tcbInfo", name: request.description) else {
                throw EvidenceError(.collateral, "\(request) holds no tcbInfo")
            }
            endorsements.addIssuerChain(answer.issuerChain)
            tcbInfos = [parsed]
            fetchedTCBInfo = request
        }
        if qeIdentities.isEmpty, let source = context.collateral {
            let request = CollateralRequest.qeIdentity(kind: kind)
            let answer = try await source.collateral(request, at: context.time)
            guard let parsed = try SignedCollateral.parseOnce(answer.body, member: "enclaveIdentity", name: request.description) else {
                throw EvidenceError(.collateral, "\(request) holds no enclaveIdentity")
            }
            endorsements.addIssuerChain(answer.issuerChain)
            qeIdentities = [parsed]
            fetchedQEIdentity = request
        }
        var tdBody: TDReportBody?
        if case .td(let body) = quote.body { tdBody = body }

        var qeLevel: DCAPTCBLevel?
        if let identityCollateral = qeIdentities.first {
            try await verifyCollateral(
                identityCollateral, fetched: fetchedQEIdentity, endorsements: endorsements, anchors: anchors, context: context)
            let identity = try DCAPQEIdentity.of(identityCollateral)
            let expectedID = kind == .tdx ? "TD_QE" : "QE"
            guard identity.id == expectedID else {
                throw EvidenceError(.collateral, "\(identityCollateral.name): enclave identity is \(identity.id), not \(expectedID)")
            }
            qeLevel = try DCAPTCBEvaluation.evaluateQE(identity, report: qeReport)
            if qeLevel?.tcbStatus == "Revoked" { throw EvidenceError(.revoked, "\(identityCollateral.name): the QE's TCB is revoked") }
        }

        var result: DCAPTCBEvaluation.Result?
        if !tcbInfos.isEmpty {
            // Several TCB infos may be handed in; the one for this platform family is used.
            var info: DCAPTCBInfo?
            for candidate in tcbInfos {
                let parsed = try DCAPTCBInfo.of(candidate)
                if parsed.fmspc == pck.fmspc {
                    info = parsed
                    break
                }
            }
            guard let info else {
                throw EvidenceError(.collateral, "no TCB info for FMSPC \(Hex.encode(pck.fmspc)) among \(tcbInfos.map(\.name))")
            }
            try await verifyCollateral(info.collateral, fetched: fetchedTCBInfo, endorsements: endorsements, anchors: anchors, context: context)
            let expectedID = kind == .tdx ? "TDX" : "SGX"
            guard info.id == expectedID else {
                throw EvidenceError(.collateral, "\(info.collateral.name): TCB info id is \(info.id), not \(expectedID)")
            }
            guard info.pceID == pck.pceID else {
                throw EvidenceError(
                    .collateral, "\(info.collateral.name): PCE-ID \(Hex.encode(info.pceID)) is not the PCK's \(Hex.encode(pck.pceID))")
            }
            let platform = try DCAPTCBEvaluation.platformLevel(info, pck: pck, teeTCBSVN: tdBody?.teeTCBSVN)
            var module: DCAPTCBLevel?
            if let tdBody { module = try DCAPTCBEvaluation.moduleLevel(info, body: tdBody) }
            for (what, status) in [("platform", platform.tcbStatus), ("TDX module", module?.tcbStatus)] {
                if status == "Revoked" { throw EvidenceError(.revoked, "\(info.collateral.name): the \(what) TCB is revoked") }
                if let status, !DCAPTCBEvaluation.knownStatuses.contains(status) {
                    throw EvidenceError(.tcb, "\(info.collateral.name): unrecognised \(what) TCB status \(status)")
                }
            }
            var status = DCAPTCBEvaluation.converge(platform.tcbStatus, with: module?.tcbStatus)
            status = DCAPTCBEvaluation.converge(status, with: qeLevel?.tcbStatus)
            result = DCAPTCBEvaluation.Result(
                status: status, platformLevel: platform, qeStatus: qeLevel?.tcbStatus, moduleStatus: module?.tcbStatus,
                evaluationDataNumber: info.evaluationDataNumber,
                advisoryIDs: platform.advisoryIDs + (module?.advisoryIDs ?? []) + (qeLevel?.advisoryIDs ?? []))
        }

        // 6. The CC event log, where given, must replay to the quote's RTMRs.
        var replayed = false
        if let log = endorsements.eventLogs.first {
            guard let tdBody else { throw EvidenceError(.unsupported, "\(log.name): an event log goes with TDX quotes only") }
            if let table = endorsements.ccelTables.first?.table, UInt64(log.bytes.count) > table.logLength {
                throw EvidenceError(.malformed, "\(log.name) is longer than the CCEL table's log area (\(table.logLength) bytes)")
            }
            let replay = try CCEventLog.replay(log.bytes)
            for index in 0..<4 where replay.rtmrs[index] != tdBody.rtmrs[index] {
                throw EvidenceError(
                    .measurement,
                    "\(log.name): replayed RTMR\(index) \(Hex.encode(replay.rtmrs[index])) is not the quote's \(Hex.encode(tdBody.rtmrs[index]))")
            }
            replayed = true
        }
        // 7. CRLs the endorsements left out, from the collateral source; last, so that a quote failing a local check
        //    never makes the KBS fetch.
        if !covered.isSuperset(of: 0..<path.count - 1), let source = context.collateral {
            covered.formUnion(try await DCAPRevocation.fetchMissing(path: path, covered: covered, source: source, context: context))
        }
        return Outcome(
            quote: quote, pck: pck, qeReport: qeReport, tcb: result, qeLevel: qeLevel, rtmrReplayed: replayed,
            revocationChecked: covered.isSuperset(of: 0..<path.count - 1))
    }

    /// Verifies signed collateral: a TCB Signing certificate (from the endorsements or the chain PCS sent) chains to a
    /// trust anchor and signs the exact served bytes, and the collateral is current. Fetched collateral that fails the
    /// signature or chain check is discarded from the source, so the next verification fetches it anew.
    static func verifyCollateral(
        _ collateral: SignedCollateral, fetched: CollateralRequest?, endorsements: DCAPEndorsements, anchors: [Certificate],
        context: VerificationContext
    ) async throws(EvidenceError) {
        do {
            try verifyCollateral(collateral, endorsements: endorsements, anchors: anchors, context: context)
        } catch {
            if let fetched, let source = context.collateral, error.reason == .signature || error.reason == .chain {
                await source.discard(fetched)
            }
            throw error
        }
    }

    /// The checks of the function above, without the source: a renewed TCB Signing certificate may sit beside an
    /// expired one, so each candidate is tried.
    static func verifyCollateral(
        _ collateral: SignedCollateral, endorsements: DCAPEndorsements, anchors: [Certificate], context: VerificationContext
    ) throws(EvidenceError) {
        let signers = endorsements.tcbSigners
        guard !signers.isEmpty else {
            throw EvidenceError(.collateral, "\(collateral.name): no Intel TCB Signing certificate among the endorsements or from the PCS")
        }
        // The first signer that chains and verifies wins; otherwise the first one's failure is the reason.
        var failure: EvidenceError?
        for signer in signers {
            do {
                try verifySigner(signer, endorsements: endorsements, anchors: anchors, context: context)
                try collateral.verifySignature(signer: signer)
                failure = nil
                break
            } catch {
                failure = failure ?? error
            }
        }
        if let failure { throw failure }
        try collateral.checkFreshness(at: context.time)
    }

    /// The TCB Signing certificate must chain to a trust anchor; its expiry is tolerated only when the context says so
    /// (Intel renewed it in 2025 with the same key).
    static func verifySigner(
        _ signer: Certificate, endorsements: DCAPEndorsements, anchors: [Certificate], context: VerificationContext
    ) throws(EvidenceError) {
        let what = "TCB Signing chain"
        guard signer.notBefore <= context.time else {
            throw EvidenceError(.expired, "\(what): \(signer.commonName) is not valid before \(signer.notBefore)")
        }
        if context.time > signer.notAfter, !context.ignoresCollateralSignerExpiry {
            throw EvidenceError(.expired, "\(what): \(signer.commonName) expired \(signer.notAfter) (before \(context.time))")
        }
        // Walk issuers from the endorsements until a pinned anchor; at most a few links.
        var current = signer
        for _ in 0..<4 {
            if anchors.contains(where: { $0.der == current.der }) { return }
            if let anchor = anchors.first(where: { $0.subject == current.issuer }) {
                guard anchor.isValid(at: context.time) else {
                    throw EvidenceError(.expired, "\(what): trust anchor \(anchor.commonName) is not valid at \(context.time)")
                }
                try CertificateChain.link(current, issuedBy: anchor, what: what)
                return
            }
            guard let issuer = endorsements.certificates.first(where: { $0.subject == current.issuer && $0.der != current.der }) else { break }
            guard issuer.isValid(at: context.time) else {
                throw EvidenceError(.expired, "\(what): \(issuer.commonName) is not valid at \(context.time)")
            }
            try CertificateChain.link(current, issuedBy: issuer, what: what)
            current = issuer
        }
        throw EvidenceError(.chain, "\(what): \(signer.commonName) does not chain to a configured trust anchor")
    }
}
