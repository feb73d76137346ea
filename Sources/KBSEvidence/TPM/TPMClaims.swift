import KBSClaims

/// The claims a verified TPM quote contributes, shared by `tpm` and the Azure vTPM kinds.
enum TPMClaims {
    /// The quote's fields, in the order ``record(_:)`` sets them.
    static let quoteFields: [RecordType.Field] = [
        .init("pcrs", .list(.hex), doc: "SHA-256 PCR values the quote covers, in selection order (PCR 0 first when all are selected)"),
        .init("pcr_selection", .list(.int), doc: "the PCR index of each entry of `pcrs`"),
        .init("pcr_digest", .hex, doc: "the quote's pcrDigest: SHA-256 over `pcrs` concatenated"),
        .init("nonce", .hex, doc: "the quote's extraData (the report data the verifier checked)"),
        .init("ak_public", .hex, doc: "the attestation key that signed the quote, DER SubjectPublicKeyInfo"),
        .init("ak_digest", .hex, doc: "SHA-256 of `ak_public`, for pinning the key in policy or reference values"),
        .init("qualified_signer", .hex, doc: "the quote's qualifiedSigner (TPM name of the signing hierarchy)"),
        .init("clock", .int, doc: "TPM clock in milliseconds"),
        .init("reset_count", .int, doc: "TPM resets since it was cleared"),
        .init("restart_count", .int, doc: "TPM restarts since the last reset"),
        .init("safe", .bool, doc: "whether the TPM clock never went backwards"),
        .init("firmware_version", .hex, doc: "vendor firmware version, 8 bytes big-endian"),
    ]

    /// The claims of `quote`, in ``quoteFields`` order.
    static func record(_ quote: TPMCheckedQuote) -> ClaimRecord {
        var record = ClaimRecord()
        let attest = quote.attest
        record["pcrs"] = .list(quote.pcrs.map { .hex($0) })
        record["pcr_selection"] = .list(attest.selectedIndices.map { .int(Int64($0)) })
        record["pcr_digest"] = .hex(attest.pcrDigest)
        record["nonce"] = .hex(attest.extraData)
        record["ak_public"] = .hex(quote.akPublic)
        record["ak_digest"] = .hex(quote.akDigest)
        record["qualified_signer"] = .hex(attest.qualifiedSigner)
        record["clock"] = .int(Int64(clamping: attest.clock))
        record["reset_count"] = .int(Int64(attest.resetCount))
        record["restart_count"] = .int(Int64(attest.restartCount))
        record["safe"] = .bool(attest.safe)
        record["firmware_version"] = .hex((0..<8).map { UInt8(truncatingIfNeeded: attest.firmwareVersion >> (56 - 8 * UInt64($0))) })
        return record
    }
}
