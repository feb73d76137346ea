package import KBSBroker
package import KBSEvidence

/// How the server gets vendor collateral the endorsements lack (`[collateral]` in the configuration file): fetched
/// from AMD KDS and Intel PCS, kept in `DATA_DIR/collateral` and fetched anew before it goes stale.
package struct CollateralConfiguration: Sendable, Equatable {
    /// Whether to fetch (`fetch`, `KBS_COLLATERAL_FETCH`); nil follows the TEE mode: on in hardware mode, so a fresh
    /// install verifies real evidence and checks revocation, off in simulator mode, whose evidence needs none.
    package var fetch: Bool?
    /// The services' URLs (`amd_kds_url`, `intel_pcs_url`, `intel_root_crl_url`).
    package var endpoints = VendorCollateralFetcher.Endpoints()
    /// Seconds to connect and between reads (`timeout_seconds`).
    package var timeoutSeconds = 10
    /// How long before an item's `nextUpdate` (or a certificate's `notAfter`) it is fetched anew
    /// (`refresh_margin_seconds`).
    package var refreshMarginSeconds = 86_400
    /// A PEM file of CA certificates trusted beside the system's, for a mirror or PCCS with a private CA (`ca_file`).
    package var certificateAuthorityFile: String?

    /// Creates the defaults.
    package init() {}

    /// Whether collateral is fetched in `mode`.
    package func fetches(in mode: BrokerConfiguration.TEEMode) -> Bool { fetch ?? (mode == .hardware) }

    /// The fetcher these settings describe; a bad URL or timeout is a `configuration` error.
    package func fetcher() throws(EvidenceError) -> VendorCollateralFetcher {
        try VendorCollateralFetcher(endpoints: endpoints, timeoutSeconds: Double(timeoutSeconds), certificateAuthorityFile: certificateAuthorityFile)
    }
}
