/// How much protection the hardware behind a request achieves, from 0 (open) to 4.
///
/// Ordered: a key that needs tier 2 is released to tier 2, 3 or 4.
public enum PrivacyTier: Int, Comparable, Sendable, CaseIterable, Codable {
    /// No protection beyond the operating system.
    case open = 0
    /// Software encryption at rest and in transit.
    case encrypted = 1
    /// Keys held by a TPM or HSM, or a CPU TEE.
    case hsm = 2
    /// A CPU TEE with an NVIDIA H100 in confidential-computing mode.
    case gpuConfidentialComputing = 3
    /// A CPU TEE with an NVIDIA Blackwell GPU using TEE-I/O.
    case gpuTEEIO = 4

    /// The names a policy or a JSON input may use for a tier, besides its number.
    public static let names: [String: PrivacyTier] = [
        "open": .open, "encrypted": .encrypted, "hsm": .hsm, "gpu-cc": .gpuConfidentialComputing,
        "gpu-tee-io": .gpuTEEIO,
    ]

    /// Parses a tier from its number (`"2"`) or its name (`"hsm"`).
    public init?(text: String) {
        if let number = Int(text), let tier = PrivacyTier(rawValue: number) {
            self = tier
        } else if let tier = Self.names[text] {
            self = tier
        } else {
            return nil
        }
    }

    /// Orders tiers by their number.
    public static func < (lhs: PrivacyTier, rhs: PrivacyTier) -> Bool { lhs.rawValue < rhs.rawValue }
}
