import KBSClaims

/// The requests verifiers make, one constructor per vendor document, and the shapes a fetcher agrees to send.
///
/// Paths follow the vendors' documented APIs: AMD KDS (`/vcek/v1/{product}/{hwid}?…SPL=…`, `/{vcek|vlek}/v1/{product}/crl`)
/// and Intel PCS v4 (`/{sgx|tdx}/certification/v4/tcb?fmspc=…`, `…/qe/identity`, `/sgx/certification/v4/pckcrl?ca=…`).
/// Every value put into a path is a known name or hex the verifier encoded itself.
extension CollateralRequest {
    /// The Intel CA that issued a PCK certificate, which decides the PCK CRL to ask for.
    package enum PCKIssuer: String, Sendable {
        case processor
        case platform

        /// The issuer for a PCK CA's common name (`Intel SGX PCK Processor CA` / `… Platform CA`), nil for another.
        package init?(commonName: String) {
            switch commonName {
            case "Intel SGX PCK Processor CA": self = .processor
            case "Intel SGX PCK Platform CA": self = .platform
            default: return nil
            }
        }
    }

    /// The VCEK AMD KDS serves for a chip at a TCB (Turin: an 8-byte hwid and `fmcSPL`).
    static func vcek(product: SNPProduct, hardwareID: [UInt8], tcb: SNPTCB) -> CollateralRequest {
        CollateralRequest(
            service: .amdKDS, path: "vcek/v1/\(product.rawValue)/\(Hex.encode(hardwareID))?\(tcb.kdsQuery)", item: .certificate)
    }

    /// The ARK-signed CRL listing revoked ASKs (`vcek`) or ASVKs (`vlek`) of a product.
    static func amdRevocationList(product: SNPProduct, signingKey: SNPReport.SigningKey) -> CollateralRequest {
        CollateralRequest(service: .amdKDS, path: "\(signingKey.rawValue)/v1/\(product.rawValue)/crl", item: .revocationList)
    }

    /// TCB info for an FMSPC, at the standard update cadence.
    static func tcbInfo(kind: EvidenceKind, fmspc: [UInt8]) -> CollateralRequest {
        CollateralRequest(
            service: .intelPCS, path: "\(pcsPrefix(kind))/certification/v4/tcb?fmspc=\(Hex.encode(fmspc))&update=standard", item: .tcbInfo)
    }

    /// The Quoting Enclave's identity (`TD_QE` for TDX, `QE` for SGX), at the standard update cadence.
    static func qeIdentity(kind: EvidenceKind) -> CollateralRequest {
        CollateralRequest(service: .intelPCS, path: "\(pcsPrefix(kind))/certification/v4/qe/identity?update=standard", item: .enclaveIdentity)
    }

    /// The CRL of PCK certificates a PCK CA issued, DER-encoded. PCS serves it under `sgx/` for TDX too.
    package static func pckRevocationList(_ issuer: PCKIssuer) -> CollateralRequest {
        CollateralRequest(service: .intelPCS, path: "sgx/certification/v4/pckcrl?ca=\(issuer.rawValue)&encoding=der", item: .revocationList)
    }

    /// The Intel SGX Root CA's CRL (the CRL distribution point of the PCK CAs).
    package static let intelRootRevocationList = CollateralRequest(service: .intelRootCRL, path: "IntelSGXRootCA.der", item: .revocationList)

    private static func pcsPrefix(_ kind: EvidenceKind) -> String { kind == .sgx ? "sgx" : "tdx" }

    /// Whether this is a request the constructors above make: a fetcher sends nothing else, so no value from evidence
    /// can steer it to another path, host or query.
    package var isWellFormed: Bool {
        let path = path
        switch (service, item) {
        case (.amdKDS, .certificate):
            let levels = "(fmcSPL|blSPL|teeSPL|snpSPL|ucodeSPL)=[0-9]{1,3}"
            guard let pattern = try? Regex("vcek/v1/(Milan|Genoa|Turin)/([0-9a-f]{16}|[0-9a-f]{128})\\?\(levels)(&\(levels)){3,4}") else {
                return false
            }
            return (try? pattern.wholeMatch(in: path)) != nil
        case (.amdKDS, .revocationList):
            return path.wholeMatch(of: #/(vcek|vlek)/v1/(Milan|Genoa|Turin)/crl/#) != nil
        case (.intelPCS, .tcbInfo):
            return path.wholeMatch(of: #/(sgx|tdx)/certification/v4/tcb\?fmspc=[0-9a-f]{12}&update=standard/#) != nil
        case (.intelPCS, .enclaveIdentity):
            return path.wholeMatch(of: #/(sgx|tdx)/certification/v4/qe/identity\?update=standard/#) != nil
        case (.intelPCS, .revocationList):
            return path.wholeMatch(of: #/sgx/certification/v4/pckcrl\?ca=(processor|platform)&encoding=der/#) != nil
        case (.intelRootCRL, .revocationList):
            return path == Self.intelRootRevocationList.path
        default:
            return false
        }
    }
}
