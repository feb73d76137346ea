package import KBSClaims

/// Verifies AMD SEV-SNP attestation reports (kind `snp`).
///
/// Evidence is either the raw 1184-byte ATTESTATION_REPORT or Trustee's JSON (`{"attestation_report":…,
/// "cert_chain":…}`, recognised by a leading `{`). The VCEK/VLEK comes from the endorsements (DER or PEM), else the
/// JSON certificate table, else AMD KDS through `context.collateral`. Checks: ARK ← ASK/ASVK ← VEK chain against the
/// trust anchors at `context.time`, the report's ECDSA P-384 signature, the VEK's TCB extensions against
/// REPORTED_TCB (`tcb`), the VCEK's hwID against CHIP_ID (`identity`), and the report data. Revocation: an ARK-signed
/// CRL among the endorsements, else the product's KDS CRL through `context.collateral`.
package struct SNPVerifier: EvidenceVerifier {
    package var kind: EvidenceKind { .snp }
    package var schema: ClaimSchema { SNPClaims.schema }

    /// Creates the verifier.
    package init() {}

    package func verify(_ evidence: [UInt8], context: VerificationContext) async throws(EvidenceError) -> VerifiedEvidence {
        if SNPTrusteeEvidence.looksLikeJSON(evidence) {
            let parsed = try SNPTrusteeEvidence(evidence)
            let embedded = parsed.certificates.filter { $0.type == "VCEK" || $0.type == "VLEK" }
                .compactMap { try? Certificate(der: $0.der) }
            return try await verifyReport(parsed.report, embedded: embedded, context: context)
        }
        return try await verifyReport(evidence, embedded: [], context: context)
    }

    /// Verifies a raw report; `embedded` are VEK candidates that came with the evidence (after the endorsements).
    func verifyReport(
        _ bytes: [UInt8], embedded: [Certificate], context: VerificationContext
    ) async throws(EvidenceError) -> VerifiedEvidence {
        let report = try SNPReport(bytes)
        let vek = try await endorsementKey(for: report, embedded: embedded, context: context)
        let extensions = try SNPVEKExtensions.of(vek)

        // The product decides chain and TCB layout: CPUID from v3 on, else the VEK's productName.
        let named = extensions.productName.flatMap(SNPProduct.init(productName:))
        if let fromCPUID = report.cpuidProduct, let named, named != fromCPUID {
            throw EvidenceError(.chain, "SNP: report CPUID says \(fromCPUID.rawValue) but the VEK is for \(named.rawValue)")
        }
        guard let product = report.cpuidProduct ?? named else {
            throw EvidenceError(.unsupported, "SNP: version \(report.version) report without CPUID and a VEK without a known productName")
        }

        let chain = try SNPChain.verify(vek: vek, signingKey: report.signingKey, product: product, context: context)

        let signature = try report.rawSignature()
        guard vek.p384PublicKey != nil else {
            throw EvidenceError(.signature, "SNP: \(report.signingKey.rawValue.uppercased()) key is not ECDSA P-384")
        }
        guard ECDSA.verify(signature, message: report.signedBytes, certificate: vek, curve: .p384) else {
            throw EvidenceError(.signature, "SNP report signature does not verify with the \(report.signingKey.rawValue.uppercased())")
        }

        try checkTCB(report.reportedTCB(product), extensions: extensions, product: product)
        if report.signingKey == .vcek { try checkHardwareID(report.chipID, extensions: extensions, product: product) }

        try context.checkReportData(report.reportData, kind: .snp)

        // Last, so that evidence failing a local check never makes the KBS fetch.
        var revocationChecked = chain.revocationChecked
        if !revocationChecked, let source = context.collateral {
            revocationChecked = try await SNPChain.checkRevocation(
                chain, product: product, signingKey: report.signingKey, source: source, context: context)
        }

        return VerifiedEvidence(
            kind: .snp, measurement: report.measurement, debug: report.debugAllowed,
            tcbSVN: Int64(report.reportedTCB(product).snp), reportData: report.reportData, hostData: report.hostData,
            revocationChecked: revocationChecked,
            details: SNPClaims.details(report: report, product: product, vekProductName: extensions.productName))
    }

    /// The VCEK/VLEK: from the endorsements, then the evidence's certificate table, then AMD KDS via the collateral.
    func endorsementKey(
        for report: SNPReport, embedded: [Certificate], context: VerificationContext
    ) async throws(EvidenceError) -> Certificate {
        let expectedName = report.signingKey == .vcek ? "SEV-VCEK" : "SEV-VLEK"
        let endorsed = context.endorsements.flatMap { (try? Certificate.parseAll($0.bytes)) ?? [] }
        for candidates in [endorsed, embedded] {
            let leaves = candidates.filter { $0.isCA != true }
            if let vek = leaves.first(where: { $0.commonName == expectedName }) ?? leaves.first { return vek }
        }
        guard let collateral = context.collateral else {
            throw EvidenceError(.collateral, "SNP: no \(expectedName) among the endorsements or the evidence, and no collateral source")
        }
        guard report.signingKey == .vcek else {
            throw EvidenceError(
                .collateral, "SNP: the VLEK must come with the endorsements or the evidence (KDS serves it only to the cloud provider)")
        }
        let chipID = report.chipID
        guard chipID.contains(where: { $0 != 0 }) else {
            throw EvidenceError(.collateral, "SNP: chip id is masked, so the VCEK cannot be fetched; pass it as an endorsement")
        }
        guard let product = report.cpuidProduct ?? SNPChain.onlyProduct(in: context.trustAnchors) else {
            throw EvidenceError(.collateral, "SNP: version 2 report without CPUID; pass the VCEK as an endorsement (product unknown)")
        }
        let hwID = product == .turin ? Array(chipID.prefix(8)) : chipID
        let request = CollateralRequest.vcek(product: product, hardwareID: hwID, tcb: report.reportedTCB(product))
        let bytes = try await collateral.collateral(request, at: context.time).body
        guard let vek = (try? Certificate.parseAll(bytes))?.first else {
            throw EvidenceError(.collateral, "SNP: KDS answer for \(request) is not a certificate")
        }
        return vek
    }

    /// The VEK's SPL extensions must equal REPORTED_TCB: the key is derived from exactly that TCB.
    func checkTCB(_ reported: SNPTCB, extensions: SNPVEKExtensions, product: SNPProduct) throws(EvidenceError) {
        guard let bootloader = extensions.bootloader, let tee = extensions.tee, let snp = extensions.snp,
            let microcode = extensions.microcode
        else { throw EvidenceError(.tcb, "SNP: the VEK lacks one of the blSPL/teeSPL/snpSPL/ucodeSPL extensions") }
        if product == .turin, extensions.fmc == nil { throw EvidenceError(.tcb, "SNP: the Turin VEK lacks fmcSPL") }
        let certified = SNPTCB(
            bootloader: bootloader, tee: tee, snp: snp, microcode: microcode, fmc: product == .turin ? extensions.fmc : nil)
        guard certified == reported else {
            throw EvidenceError(.tcb, "SNP: VEK certifies TCB \(certified.description), report claims \(reported.description)")
        }
    }

    /// A VCEK is bound to one chip: its hwID must be the report's CHIP_ID (Turin: its first 8 bytes).
    func checkHardwareID(_ chipID: [UInt8], extensions: SNPVEKExtensions, product: SNPProduct) throws(EvidenceError) {
        guard let hwID = extensions.hwID else { throw EvidenceError(.identity, "SNP: the VCEK has no hwID extension") }
        let matches = hwID == chipID || (product == .turin && hwID == Array(chipID.prefix(8)))
        guard matches else {
            throw EvidenceError(.identity, "SNP: VCEK hwID \(Hex.encode(hwID)) is not the report's chip id \(Hex.encode(chipID))")
        }
    }
}
