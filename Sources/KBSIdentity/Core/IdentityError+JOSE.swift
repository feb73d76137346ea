import KBSClaims
import KBSJOSE

extension IdentityError {
    /// The same refusal under this target's type: every JOSE reason is spelled as an identity reason.
    init(_ error: JOSEError) {
        let reason: Reason
        switch error.reason {
        case .malformed: reason = .malformed
        case .algorithm: reason = .algorithm
        case .untrustedKey: reason = .untrustedKey
        case .weakKey: reason = .weakKey
        case .invalidKey: reason = .invalidKey
        case .unsupported: reason = .unsupported
        case .signature: reason = .signature
        case .malleable: reason = .malleable
        case .critical: reason = .critical
        // Only signing and encryption fail this way, and a verifier does neither.
        case .failed: reason = .signature
        }
        self.init(reason, error.message)
    }
}
