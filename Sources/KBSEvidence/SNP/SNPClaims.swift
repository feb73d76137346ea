import KBSClaims

/// The `snp` record of verified SEV-SNP evidence (`evidence.snp.…`): every report field a policy may judge.
///
/// Policy-level facts — VMPL, DEBUG, TCB levels, SMT — are claims, not verifier refusals: the verifier only proves
/// that AMD hardware signed them.
enum SNPClaims {
    static let tcbRecord = RecordType(
        name: "SNPTCB",
        fields: [
            .init("bootloader", .int, doc: "boot loader SPL"),
            .init("tee", .int, doc: "PSP OS (TEE) SPL"),
            .init("snp", .int, doc: "SNP firmware SPL"),
            .init("microcode", .int, doc: "microcode SPL"),
            .init("fmc", .int, optional: true, doc: "FMC SPL (Turin only)"),
        ])

    static let schema = ClaimSchema(
        typeName: "SNPClaims",
        summary: "AMD SEV-SNP attestation report, verified with a VCEK or VLEK chained to an AMD ARK",
        fields: [
            .init("version", .int, doc: "report version (2, 3 or 5)"),
            .init("product", .string, doc: "Milan, Genoa or Turin"),
            .init("signing_key", .string, doc: "vcek or vlek"),
            .init("guest_svn", .int, doc: "guest SVN from the ID block"),
            .init("policy", .int, doc: "guest policy, raw 64-bit value"),
            .init("abi_major", .int, doc: "policy: minimum ABI major version"),
            .init("abi_minor", .int, doc: "policy: minimum ABI minor version"),
            .init("smt_allowed", .bool, doc: "policy bit 16: SMT allowed"),
            .init("migrate_ma", .bool, doc: "policy bit 18: migration agent allowed"),
            .init("debug_allowed", .bool, doc: "policy bit 19: host may debug the guest (a production policy rejects this)"),
            .init("single_socket", .bool, doc: "policy bit 20: single socket only"),
            .init("cxl_allowed", .bool, doc: "policy bit 21: CXL memory allowed"),
            .init("mem_aes_256_xts", .bool, doc: "policy bit 22: AES-256-XTS required"),
            .init("rapl_dis", .bool, doc: "policy bit 23: RAPL must be disabled"),
            .init("ciphertext_hiding", .bool, doc: "policy bit 24: ciphertext hiding required"),
            .init("page_swap_disable", .bool, doc: "policy bit 25: page swap disabled"),
            .init("vmpl", .int, doc: "VMPL the report was requested from (0 is the most privileged)"),
            .init("signature_algo", .int, doc: "1 = ECDSA P-384 with SHA-384"),
            .init("author_key_en", .bool, doc: "key info bit 0: author key digest present"),
            .init("mask_chip_key", .bool, doc: "key info bit 1: chip id masked"),
            .init("family_id", .hex, doc: "family id from the ID block (16 bytes)"),
            .init("image_id", .hex, doc: "image id from the ID block (16 bytes)"),
            .init("id_key_digest", .hex, doc: "SHA-384 of the ID key (48 bytes)"),
            .init("author_key_digest", .hex, doc: "SHA-384 of the author key (48 bytes)"),
            .init("report_id", .hex, doc: "report id of the guest (32 bytes)"),
            .init("report_id_ma", .hex, doc: "report id of the migration agent (32 bytes)"),
            .init("chip_id", .hex, doc: "chip identifier (64 bytes; zero when masked or VLEK-signed)"),
            .init("current_tcb", .record(tcbRecord), doc: "TCB the platform runs now"),
            .init("reported_tcb", .record(tcbRecord), doc: "TCB the VCEK/VLEK was derived from (matched against the certificate)"),
            .init("committed_tcb", .record(tcbRecord), doc: "TCB the platform cannot roll back below"),
            .init("launch_tcb", .record(tcbRecord), doc: "TCB at guest launch"),
            .init("platform_info", .int, doc: "platform info, raw 64-bit value"),
            .init("smt_enabled", .bool, doc: "platform info bit 0: SMT enabled"),
            .init("tsme_enabled", .bool, doc: "platform info bit 1: TSME enabled"),
            .init("ecc_enabled", .bool, doc: "platform info bit 2: ECC memory"),
            .init("rapl_disabled", .bool, doc: "platform info bit 3: RAPL disabled"),
            .init("ciphertext_hiding_enabled", .bool, doc: "platform info bit 4: ciphertext hiding enabled"),
            .init("cpuid_fam_id", .int, optional: true, doc: "CPUID family (report v3+)"),
            .init("cpuid_mod_id", .int, optional: true, doc: "CPUID model (report v3+)"),
            .init("cpuid_step", .int, optional: true, doc: "CPUID stepping (report v3+)"),
            .init("current_firmware", .string, doc: "SNP firmware running, major.minor.build"),
            .init("committed_firmware", .string, doc: "SNP firmware committed, major.minor.build"),
            .init("launch_mit_vector", .int, optional: true, doc: "mitigation vector at launch (report v5)"),
            .init("current_mit_vector", .int, optional: true, doc: "mitigation vector now (report v5)"),
            .init("vek_product_name", .string, optional: true, doc: "productName extension of the VCEK/VLEK (\"Milan-B0\")"),
        ])

    static func details(report: SNPReport, product: SNPProduct, vekProductName: String?) -> ClaimRecord {
        var record = ClaimRecord()
        let policy = report.policy
        func bit(_ value: UInt64, _ index: UInt64) -> ClaimValue { .bool(value & (1 << index) != 0) }
        record["version"] = .int(Int64(report.version))
        record["product"] = .string(product.rawValue)
        record["signing_key"] = .string(report.signingKey.rawValue)
        record["guest_svn"] = .int(Int64(report.guestSVN))
        record["policy"] = .int(Int64(bitPattern: policy))
        record["abi_major"] = .int(Int64((policy >> 8) & 0xFF))
        record["abi_minor"] = .int(Int64(policy & 0xFF))
        record["smt_allowed"] = bit(policy, 16)
        record["migrate_ma"] = bit(policy, 18)
        record["debug_allowed"] = bit(policy, 19)
        record["single_socket"] = bit(policy, 20)
        record["cxl_allowed"] = bit(policy, 21)
        record["mem_aes_256_xts"] = bit(policy, 22)
        record["rapl_dis"] = bit(policy, 23)
        record["ciphertext_hiding"] = bit(policy, 24)
        record["page_swap_disable"] = bit(policy, 25)
        record["vmpl"] = .int(Int64(report.vmpl))
        record["signature_algo"] = .int(Int64(report.signatureAlgorithm))
        record["author_key_en"] = .bool(report.keyInfo & 1 != 0)
        record["mask_chip_key"] = .bool(report.keyInfo & 2 != 0)
        record["family_id"] = .hex(report.familyID)
        record["image_id"] = .hex(report.imageID)
        record["id_key_digest"] = .hex(report.idKeyDigest)
        record["author_key_digest"] = .hex(report.authorKeyDigest)
        record["report_id"] = .hex(report.reportID)
        record["report_id_ma"] = .hex(report.reportIDMA)
        record["chip_id"] = .hex(report.chipID)
        record["current_tcb"] = report.currentTCB(product).claim
        record["reported_tcb"] = report.reportedTCB(product).claim
        record["committed_tcb"] = report.committedTCB(product).claim
        record["launch_tcb"] = report.launchTCB(product).claim
        let platform = report.platformInfo
        record["platform_info"] = .int(Int64(bitPattern: platform))
        record["smt_enabled"] = bit(platform, 0)
        record["tsme_enabled"] = bit(platform, 1)
        record["ecc_enabled"] = bit(platform, 2)
        record["rapl_disabled"] = bit(platform, 3)
        record["ciphertext_hiding_enabled"] = bit(platform, 4)
        if let cpuid = report.cpuid {
            record["cpuid_fam_id"] = .int(Int64(cpuid.family))
            record["cpuid_mod_id"] = .int(Int64(cpuid.model))
            record["cpuid_step"] = .int(Int64(cpuid.stepping))
        }
        record["current_firmware"] = .string(report.currentFirmware)
        record["committed_firmware"] = .string(report.committedFirmware)
        if let vectors = report.mitigationVectors {
            record["launch_mit_vector"] = .int(Int64(bitPattern: vectors.launch))
            record["current_mit_vector"] = .int(Int64(bitPattern: vectors.current))
        }
        if let vekProductName { record["vek_product_name"] = .string(vekProductName) }
        return record
    }
}
