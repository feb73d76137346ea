import KBSClaims

/// An SNP TCB_VERSION: the security patch levels of the platform's firmware components.
///
/// The eight raw bytes are laid out per product: Milan and Genoa `[bl, tee, 0, 0, 0, 0, snp, ucode]`, Turin
/// `[fmc, bl, tee, snp, 0, 0, 0, ucode]`. `fmc` exists only on Turin.
struct SNPTCB: Sendable, Equatable {
    var bootloader: UInt8
    var tee: UInt8
    var snp: UInt8
    var microcode: UInt8
    var fmc: UInt8?

    init(bootloader: UInt8, tee: UInt8, snp: UInt8, microcode: UInt8, fmc: UInt8? = nil) {
        self.bootloader = bootloader
        self.tee = tee
        self.snp = snp
        self.microcode = microcode
        self.fmc = fmc
    }

    /// Decodes the eight bytes at `offset` of `bytes` (the caller checked the length).
    init(_ bytes: [UInt8], at offset: Int, product: SNPProduct) {
        let raw = Array(bytes[offset..<offset + 8])
        switch product {
        case .milan, .genoa:
            self.init(bootloader: raw[0], tee: raw[1], snp: raw[6], microcode: raw[7])
        case .turin:
            self.init(bootloader: raw[1], tee: raw[2], snp: raw[3], microcode: raw[7], fmc: raw[0])
        }
    }

    /// The eight bytes for `product` (used to pack Trustee's JSON form back into the ABI layout).
    func encoded(for product: SNPProduct) -> [UInt8] {
        switch product {
        case .milan, .genoa: [bootloader, tee, 0, 0, 0, 0, snp, microcode]
        case .turin: [fmc ?? 0, bootloader, tee, snp, 0, 0, 0, microcode]
        }
    }

    /// The KDS query string naming this TCB (`blSPL=…&teeSPL=…`, Turin with `fmcSPL` first).
    var kdsQuery: String {
        var parts: [String] = []
        if let fmc { parts.append("fmcSPL=\(fmc)") }
        parts += ["blSPL=\(bootloader)", "teeSPL=\(tee)", "snpSPL=\(snp)", "ucodeSPL=\(microcode)"]
        return parts.joined(separator: "&")
    }

    var claim: ClaimValue {
        var record = ClaimRecord()
        record["bootloader"] = .int(Int64(bootloader))
        record["tee"] = .int(Int64(tee))
        record["snp"] = .int(Int64(snp))
        record["microcode"] = .int(Int64(microcode))
        if let fmc { record["fmc"] = .int(Int64(fmc)) }
        return .record(record)
    }

    var description: String {
        "bl \(bootloader) tee \(tee) snp \(snp) ucode \(microcode)" + (fmc.map { " fmc \($0)" } ?? "")
    }
}
