import Dispatch
import Foundation
package import KBSClaims

/// What this machine offers to protect keys: TEE guest devices, a TPM, a PKCS#11 module, NVIDIA GPUs in
/// confidential-computing mode; and the privacy tier that adds up to.
package struct PlatformCapabilities: Sendable, Equatable {
    /// `/dev/sev-guest`: this is an SEV-SNP guest.
    package var sevSNPGuest = false
    /// `/dev/tdx_guest` (or `/dev/tdx-guest`): this is a TDX guest.
    package var tdxGuest = false
    /// `/sys/kernel/config/tsm/report`: the kernel's configfs TSM interface for attestation reports.
    package var configfsTSM = false
    /// `/dev/tpmrm0` or `/dev/tpm0`.
    package var tpm = false
    /// The configured PKCS#11 module, when its file exists.
    package var pkcs11Module: String?
    /// NVIDIA GPUs `nvidia-smi` lists, by name.
    package var gpus: [String] = []
    /// `nvidia-smi conf-compute -f` reports `CC status: ON`.
    package var gpuConfidentialComputing = false
    /// Confidential computing is on and a Blackwell GPU reports protected PCIe / TEE-I/O on.
    package var gpuTEEIO = false

    /// Creates an empty description (nothing detected).
    package init() {}

    /// A CPU TEE: this process runs inside a confidential VM.
    package var cpuTEE: Bool { sevSNPGuest || tdxGuest }

    /// The best tier keys created here can be held at: 4 a CPU TEE with a Blackwell GPU in TEE-I/O, 3 a CPU TEE with a
    /// GPU in CC mode, 2 a CPU TEE, a TPM or a PKCS#11 token, 1 software encryption (always available).
    package var tier: PrivacyTier {
        if cpuTEE && gpuTEEIO { return .gpuTEEIO }
        if cpuTEE && gpuConfidentialComputing { return .gpuConfidentialComputing }
        if cpuTEE || tpm || pkcs11Module != nil { return .hsm }
        return .encrypted
    }

    /// The facts as a JSON object (for `kbs tee detect` and logs).
    package var json: String {
        var object: [String: Any] = [
            "sev_snp_guest": sevSNPGuest, "tdx_guest": tdxGuest, "configfs_tsm": configfsTSM, "tpm": tpm,
            "gpus": gpus, "gpu_cc": gpuConfidentialComputing, "gpu_tee_io": gpuTEEIO, "tier": tier.rawValue,
        ]
        object["pkcs11_module"] = pkcs11Module
        let data = (try? JSONSerialization.data(withJSONObject: object, options: [.sortedKeys])) ?? Data("{}".utf8)
        return String(decoding: data, as: UTF8.self)
    }

    /// What a key asking for `requested` gets here: the best tier available at or below it, and whether that is less.
    package func fallback(for requested: PrivacyTier) -> (granted: PrivacyTier, degraded: Bool) {
        let granted = min(requested, tier)
        return (granted, granted < requested)
    }
}

/// A key's tier and labels once fallen back to what the platform offers (`createWithFallback`): the granted tier, and
/// the labels with `tier_requested` when it is lower than asked.
package struct TierFallback: Sendable {
    package let requested: PrivacyTier
    package let granted: PrivacyTier
    package let labels: [String: String]
    /// The platform's tier, when a platform was consulted.
    package let platformTier: PrivacyTier?

    /// Falls `requested` back on `platform`; without a platform the key gets what it asks for.
    package init(requested: PrivacyTier, labels: [String: String], platform: PlatformCapabilities?) {
        self.requested = requested
        self.granted = platform?.fallback(for: requested).granted ?? requested
        self.platformTier = platform?.tier
        var labels = labels
        if granted < requested { labels["tier_requested"] = String(requested.rawValue) }
        self.labels = labels
    }

    /// Whether the key got less than it asked for.
    package var degraded: Bool { granted < requested }
}

/// Finds out what this machine offers, from device files and `nvidia-smi`; every probe is injectable for tests.
package struct PlatformProbe: Sendable {
    /// Prefixed to every path looked at (tests point it at a fake tree).
    package var root: String
    /// Runs a command and returns its standard output, or nil when it cannot run or fails.
    package var run: @Sendable (_ executable: String, _ arguments: [String]) -> String?
    /// The PKCS#11 module configured, if any.
    package var pkcs11Module: String?

    /// A probe of this machine.
    package init(root: String = "", pkcs11Module: String? = nil, run: @escaping @Sendable (String, [String]) -> String? = PlatformProbe.runCommand) {
        self.root = root
        self.run = run
        self.pkcs11Module = pkcs11Module
    }

    /// Looks.
    package func detect() -> PlatformCapabilities {
        var found = PlatformCapabilities()
        func exists(_ path: String) -> Bool { FileManager.default.fileExists(atPath: root + path) }
        found.sevSNPGuest = exists("/dev/sev-guest")
        found.tdxGuest = exists("/dev/tdx_guest") || exists("/dev/tdx-guest")
        found.configfsTSM = exists("/sys/kernel/config/tsm/report")
        found.tpm = exists("/dev/tpmrm0") || exists("/dev/tpm0")
        if let module = pkcs11Module, FileManager.default.fileExists(atPath: module) { found.pkcs11Module = module }
        // nvidia-smi is there only with the driver; each GPU is one `name` line.
        if let names = run("nvidia-smi", ["--query-gpu=name", "--format=csv,noheader"]) {
            found.gpus = names.split(separator: "\n").map { $0.trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty }
        }
        if !found.gpus.isEmpty, let status = run("nvidia-smi", ["conf-compute", "-f"]) {
            found.gpuConfidentialComputing = Self.isOn(status, "CC status")
            let blackwell = found.gpus.contains { name in ["B100", "B200", "B300", "GB200", "GB300", "Blackwell"].contains { name.contains($0) } }
            found.gpuTEEIO =
                found.gpuConfidentialComputing && blackwell
                && (Self.isOn(status, "Multi-GPU Protected PCIe mode") || Self.isOn(status, "TEE-IO") || Self.isOn(status, "TDISP"))
        }
        return found
    }

    /// Whether a `Name: VALUE` line of `text` has VALUE `ON` (any case).
    static func isOn(_ text: String, _ name: String) -> Bool {
        for line in text.split(separator: "\n") {
            let parts = line.split(separator: ":", maxSplits: 1).map { $0.trimmingCharacters(in: .whitespaces) }
            if parts.count == 2, parts[0].caseInsensitiveCompare(name) == .orderedSame { return parts[1].uppercased() == "ON" }
        }
        return false
    }

    /// Runs `executable` from PATH with a 5-second limit; its output when it exits 0.
    package static let runCommand: @Sendable (String, [String]) -> String? = { executable, arguments in
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = [executable] + arguments
        let output = Pipe()
        process.standardOutput = output
        process.standardError = FileHandle.nullDevice
        do { try process.run() } catch { return nil }
        // A wedged driver can hang nvidia-smi: stop it, which also ends the read below.
        let watchdog = DispatchWorkItem { if process.isRunning { process.terminate() } }
        DispatchQueue.global().asyncAfter(deadline: .now() + 5, execute: watchdog)
        let data = output.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        watchdog.cancel()
        return process.terminationReason == .exit && process.terminationStatus == 0 ? String(decoding: data, as: UTF8.self) : nil
    }
}
