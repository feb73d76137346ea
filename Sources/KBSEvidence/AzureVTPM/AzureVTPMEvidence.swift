import KBSClaims

/// Azure vTPM evidence as Trustee's attesters write it, in each version they have shipped.
///
/// * `az-snp-vtpm` v0: `{"quote": {"signature": [u8], "message": [u8], "pcrs": [[u8; 32]; 24]}, "report": [u8],
///   "vcek": "<PEM>"}`
/// * `az-snp-vtpm` v1 and v2: `{"version": 1|2, "tpm_quote": {"signature": hex, "message": hex, "pcrs": [hex]},
///   "hcl_report": base64url, "vcek": base64url DER}`; v2 also puts the report data in `var_data`'s `user-data`.
/// * `az-tdx-vtpm` v0: `{"tpm_quote": {…as SNP v0}, "hcl_report": [u8], "td_quote": [u8]}`
/// * `az-tdx-vtpm` v1: `{"version": 1, "tpm_quote": {…hex}, "hcl_report": base64url, "td_quote": base64url}`
struct AzureVTPMEvidence: Sendable {
    /// The largest HCL report, TD quote or VCEK accepted.
    static let maximumPart = 64 * 1024

    var version: Int
    var quote: TPMQuote
    var hclReport: [UInt8]
    /// The VCEK (PEM or DER) an SNP attester ships.
    var vcek: [UInt8]?
    /// The TD quote (with its PCK chain) a TDX attester ships.
    var tdQuote: [UInt8]?

    /// Parses `az-snp-vtpm` evidence.
    static func snp(_ bytes: [UInt8]) throws(EvidenceError) -> AzureVTPMEvidence {
        let what = "az-snp-vtpm evidence"
        let root = try TPMEvidenceJSON.parse(bytes, what: what)
        let version = try Self.version(root, supported: 0...2, what: what)
        if version == 0 {
            let quote = try Self.quote(TPMEvidenceJSON.member(root, "quote", in: what), .numbers, what: "quote")
            let report = try TPMEvidenceJSON.bytes(
                TPMEvidenceJSON.member(root, "report", in: what), .numbers, what: "report", limit: maximumPart)
            let pem = try TPMEvidenceJSON.string(TPMEvidenceJSON.member(root, "vcek", in: what), what: "vcek")
            guard pem.utf8.count <= maximumPart else { throw EvidenceError(.malformed, "vcek is larger than \(maximumPart) bytes") }
            return AzureVTPMEvidence(version: 0, quote: quote, hclReport: report, vcek: Array(pem.utf8))
        }
        let quote = try Self.quote(TPMEvidenceJSON.member(root, "tpm_quote", in: what), .hex, what: "tpm_quote")
        let report = try TPMEvidenceJSON.bytes(
            TPMEvidenceJSON.member(root, "hcl_report", in: what), .base64, what: "hcl_report", limit: maximumPart)
        let vcek = try TPMEvidenceJSON.bytes(TPMEvidenceJSON.member(root, "vcek", in: what), .base64, what: "vcek", limit: maximumPart)
        return AzureVTPMEvidence(version: version, quote: quote, hclReport: report, vcek: vcek)
    }

    /// Parses `az-tdx-vtpm` evidence.
    static func tdx(_ bytes: [UInt8]) throws(EvidenceError) -> AzureVTPMEvidence {
        let what = "az-tdx-vtpm evidence"
        let root = try TPMEvidenceJSON.parse(bytes, what: what)
        let version = try Self.version(root, supported: 0...1, what: what)
        let encoding: TPMEvidenceJSON.Encoding = version == 0 ? .numbers : .base64
        let quote = try Self.quote(
            TPMEvidenceJSON.member(root, "tpm_quote", in: what), version == 0 ? .numbers : .hex, what: "tpm_quote")
        let report = try TPMEvidenceJSON.bytes(
            TPMEvidenceJSON.member(root, "hcl_report", in: what), encoding, what: "hcl_report", limit: maximumPart)
        let tdQuote = try TPMEvidenceJSON.bytes(
            TPMEvidenceJSON.member(root, "td_quote", in: what), encoding, what: "td_quote", limit: maximumPart)
        return AzureVTPMEvidence(version: version, quote: quote, hclReport: report, tdQuote: tdQuote)
    }

    /// `version`, absent in v0.
    private static func version(_ root: JSONNode, supported: ClosedRange<Int>, what: String) throws(EvidenceError) -> Int {
        guard let node = root["version"] else { return 0 }
        guard case .number(let number?, _) = node.value else {
            throw EvidenceError(.malformed, "\(what) `version` is \(node.kindName), not an integer")
        }
        guard supported.contains(Int(clamping: number)) else {
            throw EvidenceError(.unsupported, "\(what) version \(number) is not supported (\(supported.lowerBound)…\(supported.upperBound))")
        }
        return Int(number)
    }

    /// A quote whose byte fields are written as `encoding`. Azure ships the bare RSA signature; a marshalled
    /// `TPMT_SIGNATURE` is unwrapped too.
    private static func quote(_ node: JSONNode, _ encoding: TPMEvidenceJSON.Encoding, what: String) throws(EvidenceError) -> TPMQuote {
        let message = try TPMEvidenceJSON.bytes(
            TPMEvidenceJSON.member(node, "message", in: what), encoding, what: "\(what).message", limit: TPMAttest.maximumSize)
        var signature = try TPMEvidenceJSON.bytes(
            TPMEvidenceJSON.member(node, "signature", in: what), encoding, what: "\(what).signature", limit: 1024)
        let pcrs = try TPMEvidenceJSON.pcrs(TPMEvidenceJSON.member(node, "pcrs", in: what), encoding, what: "\(what).pcrs")
        if signature.count > 6, signature[0] == 0x00, signature[1] == 0x14,
            Int(signature[4]) << 8 | Int(signature[5]) == signature.count - 6
        {
            signature = try TPMSignature.rsaSignature(fromTPMT: signature)
        }
        return TPMQuote(message: message, signature: signature, pcrs: pcrs)
    }
}
