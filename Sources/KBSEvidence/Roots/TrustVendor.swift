package import KBSClaims

/// Whose roots may anchor a kind of evidence: each vendor's roots anchor only its own kinds, so an AMD root never
/// ends an Intel PCK chain and a simulator root never ends a hardware chain.
package enum TrustVendor: String, Sendable, CaseIterable {
    /// AMD SEV-SNP: ARKs, ASKs and ASVKs.
    case amd
    /// Intel SGX and TDX: the SGX Root CA.
    case intel
    /// NVIDIA GPUs and NVSwitches: the Device Identity CA and the RIM signing root.
    case nvidia
    /// Arm CCA: platform attestation key (CPAK) stores; there is no vendor PKI.
    case cca
    /// Plain TPMs: pinned attestation keys.
    case tpm
    /// `kbs tee simulate`'s test roots (`O=Hanzo KBS TEE Simulator`); they anchor only `sim` evidence.
    case simulator

    /// The vendor whose roots anchor evidence of `kind`.
    package init(kind: EvidenceKind) {
        switch kind {
        case .snp, .azSNPvTPM: self = .amd
        case .tdx, .sgx, .azTDXvTPM: self = .intel
        case .nvidia: self = .nvidia
        case .cca: self = .cca
        case .tpm: self = .tpm
        case .sim: self = .simulator
        }
    }

    /// The kinds this vendor's roots anchor.
    package var kinds: [EvidenceKind] { EvidenceKind.allCases.filter { TrustVendor(kind: $0) == self } }

    /// The vendor whose organisation a certificate's subject names (`O=`), nil for any other.
    package init?(naming certificate: Certificate) {
        let organizations = certificate.subject.split(separator: ",").filter { $0.hasPrefix("O=") }.map { $0.dropFirst(2) }
        guard organizations.count == 1, let organization = organizations.first else { return nil }
        switch organization {
        case "Advanced Micro Devices": self = .amd
        case "Intel Corporation": self = .intel
        case "NVIDIA", "NVIDIA Corporation": self = .nvidia
        case Substring(TestChain.organization): self = .simulator
        default: return nil
        }
    }

    /// Whether this vendor signs with its own certificate PKI (so a certificate naming it is recognised by subject).
    var hasCertificates: Bool { [.amd, .intel, .nvidia].contains(self) }

    /// The trust-anchor files a verification of `kind` may use: a certificate naming another hardware vendor is taken
    /// out, whatever file it came in. Certificates of no known vendor (a deployment's own, the simulator's) and
    /// non-certificate anchors (CCA stores, pinned keys) pass; which of those apply is the configuration's choice.
    static func pinned(_ files: [EvidenceFile], to kind: EvidenceKind) -> [EvidenceFile] {
        let vendor = TrustVendor(kind: kind)
        return files.compactMap { file in
            guard let certificates = try? Certificate.parseAll(file.bytes), !certificates.isEmpty else { return file }
            let kept = certificates.filter { certificate in
                guard let named = TrustVendor(naming: certificate), named.hasCertificates else { return true }
                return named == vendor
            }
            if kept.count == certificates.count { return file }
            return kept.isEmpty ? nil : EvidenceFile(name: file.name, bytes: TestChain.pem(kept))
        }
    }
}
