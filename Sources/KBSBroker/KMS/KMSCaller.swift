package import Foundation
package import KBSClaims
package import KBSKeys

/// Who calls the KMS API: a verified identity, and the tier it reaches (1 for an identity alone; an attestation
/// token's tier when the request carries one as its session token).
package struct KMSCaller: Sendable {
    package let identity: CallerIdentity
    package let tier: Int
    /// The attested evidence behind the tier, when a session token carried one.
    let evidence: ClaimRecord?
    let appraisalID: String?

    /// The audit log's actor.
    var actor: String { "subject:\(identity.subject)" }

    /// What every audit record of this caller carries.
    var details: [String: AuditValue] {
        var details: [String: AuditValue] = ["tier": .integer(Int64(tier)), "method": .string(identity.method)]
        if let appraisalID { details["appraisal"] = .string(appraisalID) }
        return details
    }
}

/// A KMS key as the API shows it: its entry and its record in the key hierarchy (state, versions, tier, tags).
package struct KMSKeyView: Sendable {
    package let entry: KMSKeyEntry
    package let record: KeyRecord

    /// AWS's `KeyState`.
    package var state: String {
        switch record.state {
        case .enabled: "Enabled"
        case .disabled: "Disabled"
        case .pendingDeletion: "PendingDeletion"
        case .destroyed: "Unavailable"
        }
    }

    /// When a scheduled deletion takes effect.
    package var deletionDate: Date? {
        if case .pendingDeletion(let until) = record.state { return until }
        return nil
    }

    /// The key's tags: its labels in the hierarchy.
    package var tags: [String: String] { record.labels }

    /// When automatic rotation next happens, while it is on.
    package var nextRotation: Date? { entry.nextRotation }
}

extension KMSKeyEntry {
    /// When automatic rotation next happens, while it is on: the entry alone says, so a sweep finds the keys due without
    /// reading their records.
    package var nextRotation: Date? {
        guard let days = rotationPeriodDays, let start = rotationStartedAt else { return nil }
        return Date(timeIntervalSince1970: Double(start) / 1000 + Double(days) * 86_400)
    }
}
