import Crypto
import Foundation
package import KBSClaims
import KBSEvidence
import KBSKeys
package import KBSPolicy

/// The key broker: Trustee's RCAR protocol (auth → attest → resource) over the evidence verifiers, the key hierarchy
/// and the release policy, with every step audited. Its use cases live beside this file: attestation in
/// `Broker+Attestation.swift`, release in `Broker+Release.swift`, key administration in `Broker+Keys.swift`; what
/// they need from outside comes through ``BrokerPorts``.
///
/// Fail closed: a step that cannot finish — evidence that does not verify, a binding that does not match, a policy
/// error, a key that cannot be unwrapped, an audit record that cannot be written — releases nothing.
package final class Broker: Sendable {
    package let configuration: BrokerConfiguration
    let ports: BrokerPorts
    /// Resources and reference values.
    package let vault: ResourceVault
    /// Capability tokens for agents, over the same store and key hierarchy.
    package let capabilities: CapabilityAuthority
    let releasePolicy: @Sendable () -> PolicySet
    let tierRules: TierRules?
    let entities: @Sendable () -> (any EntityProvider)?
    let clock: @Sendable () -> Date
    package let signer: AttestationTokenSigner
    let metrics: BrokerMetrics
    /// Resources and reference values as releases read them, current by ``ReleaseRevisions``.
    let releaseInputs = ReleaseInputs()

    /// Creates a broker; `releasePolicy` returns the bundle in service for each decision (it may be swapped at any
    /// time), `entities` the entity snapshot role checks read.
    package init(
        configuration: BrokerConfiguration, ports: BrokerPorts, keys: KeySource, releasePolicy: @escaping @Sendable () -> PolicySet,
        tierRules: TierRules?, entities: @escaping @Sendable () -> (any EntityProvider)? = { nil }, metrics: BrokerMetrics = BrokerMetrics()
    ) {
        self.configuration = configuration
        self.ports = ports
        self.releasePolicy = releasePolicy
        self.tierRules = tierRules
        self.entities = entities
        self.clock = ports.clock
        self.metrics = metrics
        let vault = ResourceVault(ports: ports, keys: keys, onAuditFailure: { metrics.auditFailed() })
        self.vault = vault
        self.signer = AttestationTokenSigner(
            keys: TokenSigningKeys(
                repository: ports.tokenSigningKeys, sealing: .vault(vault), rotationPeriod: configuration.tokenKeyRotationPeriod,
                tokenLifetime: configuration.tokenLifetime, clock: ports.clock))
        self.capabilities = CapabilityAuthority(ports: ports, keys: keys, onAuditFailure: { metrics.auditFailed() })
    }

    // MARK: Helpers

    /// Appends to the audit log, or refuses the step as `audit_unavailable`.
    func audit(_ entry: AuditEntry) async throws(BrokerError) {
        try await vault.audit(entry)
    }

    /// SHA-384 of the JCS form of the runtime data the evidence binds (Trustee's built-in verifier hash):
    /// `{"tee-pubkey", "nonce", "additional-evidence"}` for the primary evidence, without `additional-evidence` for
    /// each device (`additionalEvidence` nil).
    package static func runtimeDigest(teePublicKey: JSONNode, nonce: String, additionalEvidence: String?) throws(BrokerError) -> [UInt8] {
        var members: [(key: String, value: JSONNode)] = [("tee-pubkey", teePublicKey), ("nonce", JSONNode(.string(nonce)))]
        if let additionalEvidence { members.append(("additional-evidence", JSONNode(.string(additionalEvidence)))) }
        do {
            return Array(SHA384.hash(data: try JCS.canonicalize(JSONNode(.object(members)))))
        } catch {
            throw .badRequest("invalid_request", "`runtime-data` cannot be canonicalised: \(error.message)")
        }
    }

    /// `repo/type/tag`, each part letters, digits, `.`, `_`, `-`, and none of them `.` or `..`.
    package static func validatePath(_ path: String) throws(BrokerError) {
        let parts = path.split(separator: "/", omittingEmptySubsequences: false)
        guard parts.count == 3,
            parts.allSatisfy({ part in
                !part.isEmpty && part.utf8.count <= 128 && part != "." && part != ".."
                    && part.utf8.allSatisfy {
                        ($0 >= 0x30 && $0 <= 0x39) || ($0 >= 0x41 && $0 <= 0x5A) || ($0 >= 0x61 && $0 <= 0x7A) || $0 == 0x2E || $0 == 0x5F
                            || $0 == 0x2D
                    }
            })
        else {
            throw .badRequest("invalid_path", "a resource path is repo/type/tag, each of letters, digits, `.`, `_`, `-` (at most 128)")
        }
    }
}
