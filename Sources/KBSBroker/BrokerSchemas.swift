package import KBSClaims
import KBSEvidence
import KBSIdentity

/// The claim schemas release policies are checked against: the standard ones, every evidence verifier's
/// (`Attestation`, …) and every credential verifier's (`Principal`, …).
package enum BrokerSchemas {
    /// The registry the server, the command line and the tests load release bundles with.
    package static var registry: ClaimSchemaRegistry { EvidenceSchemas.register(into: IdentitySchemas.register(into: .standard)) }
}
