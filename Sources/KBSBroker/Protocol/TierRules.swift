import Foundation
import KBSClaims
package import KBSPolicy

/// The tier rules: a policy bundle whose permit rules carry a `tier` obligation, decided on
/// `{"evidence": Attestation, "devices": [Attestation]}`. Rules are written highest tier first, and the first matching
/// rule's obligation wins (the language's merge), so the answer is the best tier the claims support.
package struct TierRules: Sendable {
    package let policy: PolicySet

    /// Wraps a compiled tier bundle.
    package init(policy: PolicySet) {
        self.policy = policy
    }

    /// The tier `evidence` (and `devices`) reach: 0 when no rule matches or any rule fails.
    func tier(evidence: ClaimRecord, devices: [ClaimRecord], now: Date) -> Int {
        let input = ClaimRecord([("evidence", .record(evidence)), ("devices", .list(devices.map { .record($0) }))])
        let decision = policy.decide(input: input, options: .init(now: Int64(now.timeIntervalSince1970 * 1e9), explain: false))
        guard decision.isPermitted, let value = decision.obligations.first(where: { $0.name == "tier" }).flatMap({ Int($0.json) }),
            (0...4).contains(value)
        else { return 0 }
        return value
    }
}
