/// The AMD EPYC generations whose SEV-SNP reports this verifier knows; each has its own ARK/ASK and TCB layout.
enum SNPProduct: String, Sendable, CaseIterable {
    case milan = "Milan"
    case genoa = "Genoa"
    case turin = "Turin"

    /// The product for a report's CPUID family and model (reports v3 and later), nil for an unknown part.
    init?(family: UInt8, model: UInt8) {
        switch (family, model) {
        case (0x19, 0x00...0x0F): self = .milan
        case (0x19, 0x10...0x1F), (0x19, 0xA0...0xAF): self = .genoa
        case (0x1A, 0x00...0x11): self = .turin
        default: return nil
        }
    }

    /// The product a VCEK/VLEK productName extension names ("Milan-B0", "Genoa", "Turin-C1"), nil when unknown.
    init?(productName: String) {
        // The stepping suffix after the dash is informational; the generation decides chain and layout.
        let base = productName.split(separator: "-", maxSplits: 1).first.map(String.init) ?? productName
        guard let product = SNPProduct.allCases.first(where: { $0.rawValue.lowercased() == base.lowercased() }) else { return nil }
        self = product
    }

    /// The common name of this product's AMD Root Key certificate.
    var arkName: String { "ARK-\(rawValue)" }
}
