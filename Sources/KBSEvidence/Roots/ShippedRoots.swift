/// A vendor's public root (or intermediate) certificate compiled into the binary, with where the vendor publishes it.
package struct ShippedRoot: Sendable {
    /// The vendor whose evidence it anchors (and only that vendor's).
    package var vendor: TrustVendor
    /// Where the vendor publishes it.
    package var source: String
    /// The certificate, PEM.
    package var pem: String
}

/// The vendor roots every `kbs` trusts without configuration, so hardware mode verifies real evidence on a fresh
/// install: AMD's ARK, ASK and ASVK for Milan, Genoa and Turin, the Intel SGX Root CA, NVIDIA's Device Identity CA
/// and RIM signing root. Each is pinned to its vendor's kinds (``TrustVendor``). docs/evidence.md lists their
/// SHA-256 fingerprints and sources; `kbs trust list` prints them.
package enum ShippedRoots {
    /// Every shipped root, by vendor.
    package static let all: [ShippedRoot] = [
        arkMilan, askMilan, asvkMilan, arkGenoa, askGenoa, asvkGenoa, arkTurin, askTurin, asvkTurin, sgxRoot, deviceIdentity,
        rimSigning,
    ]
}
