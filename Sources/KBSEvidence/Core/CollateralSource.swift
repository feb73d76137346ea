package import Foundation
import KBSClaims

/// A piece of vendor collateral a verifier may need beyond the endorsements it was handed.
///
/// Verifiers build requests only through the constructors in `CollateralRequest+Vendors.swift`, from values they
/// sanitised (hex identifiers, known product names); ``isWellFormed`` lets a fetcher refuse anything else.
package struct CollateralRequest: Hashable, Sendable, CustomStringConvertible {
    /// Who serves it.
    package enum Service: String, Sendable, CaseIterable {
        /// AMD Key Distribution Service: VCEKs, certificate chains, CRLs.
        case amdKDS = "amd-kds"
        /// Intel Provisioning Certification Service (or a PCCS with the same API): TCB info, QE identity, PCK CRLs.
        case intelPCS = "intel-pcs"
        /// The Intel SGX Root CA's CRL, published apart from the PCS API.
        case intelRootCRL = "intel-root-crl"
        /// NVIDIA RIM service: reference integrity manifests.
        case nvidiaRIM = "nvidia-rim"
    }

    /// What the answer holds, which decides how it is checked and how long a cached copy lasts.
    package enum Item: String, Sendable {
        /// One or more X.509 certificates (DER or PEM): kept until the earliest `notAfter`.
        case certificate
        /// An X.509 CRL (DER or PEM): kept until its `nextUpdate`.
        case revocationList
        /// Intel TCB info JSON: kept until its `nextUpdate`.
        case tcbInfo
        /// Intel enclave (QE) identity JSON: kept until its `nextUpdate`.
        case enclaveIdentity
    }

    package var service: Service
    /// The service-relative path, e.g. `vcek/v1/Milan/<hwid>?blSPL=3&…` or `tdx/certification/v4/tcb?fmspc=…`.
    package var path: String
    package var item: Item

    /// Creates a request.
    package init(service: Service, path: String, item: Item) {
        self.service = service
        self.path = path
        self.item = item
    }

    package var description: String { "\(service.rawValue)/\(path)" }
}

/// Collateral as a service answered it: the body exactly as served (signatures cover it) and the issuer chain the
/// service sent beside it, which Intel PCS puts in a response header.
package struct Collateral: Sendable, Equatable {
    /// The response body.
    package var body: [UInt8]
    /// PEM certificates that sign `body` (`TCB-Info-Issuer-Chain`, `SGX-Enclave-Identity-Issuer-Chain`,
    /// `SGX-PCK-CRL-Issuer-Chain`); empty when the service sent none. Untrusted: verifiers chain it to a pinned root.
    package var issuerChain: [UInt8]

    /// Creates collateral.
    package init(body: [UInt8], issuerChain: [UInt8] = []) {
        self.body = body
        self.issuerChain = issuerChain
    }
}

/// Where collateral comes from: an on-disk cache, a network fetcher, or a cache in front of one.
///
/// Verifiers ask only for what the evidence and the endorsements leave open, and never fetch themselves.
package protocol CollateralSource: Sendable {
    /// The collateral for `request`, needed current at `time` (the verification time): a cache uses it to decide
    /// whether its copy is near enough its `nextUpdate` to fetch anew.
    func collateral(_ request: CollateralRequest, at time: Date) async throws(EvidenceError) -> Collateral

    /// Forgets `request`'s answer: a verifier found that it does not verify, so the next request fetches anew rather
    /// than serve it until its `nextUpdate`. Sources that keep nothing do nothing.
    func discard(_ request: CollateralRequest) async
}
