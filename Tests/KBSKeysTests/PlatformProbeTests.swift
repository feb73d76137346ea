import Foundation
import KBSClaims
import Testing

@testable import KBSKeys

/// Platform detection over fake device trees and recorded `nvidia-smi` answers (this machine has no TEE or GPU).
struct PlatformProbeTests {
    static func tree(_ paths: [String]) throws -> String {
        let root = FileManager.default.temporaryDirectory.appendingPathComponent("kbs-platform-\(UUID())").path
        for path in paths {
            let full = root + path
            try FileManager.default.createDirectory(atPath: (full as NSString).deletingLastPathComponent, withIntermediateDirectories: true)
            _ = FileManager.default.createFile(atPath: full, contents: nil)
        }
        return root
    }

    static func smi(names: String?, status: String?) -> @Sendable (String, [String]) -> String? {
        { executable, arguments in
            guard executable == "nvidia-smi" else { return nil }
            return arguments.first == "conf-compute" ? status : names
        }
    }

    @Test("nothing found: software tier 1; a fallback from 3 is degraded to 1")
    func bare() throws {
        let found = PlatformProbe(root: try Self.tree([]), run: { _, _ in nil }).detect()
        #expect(found == PlatformCapabilities())
        #expect(found.tier == .encrypted)
        #expect(found.fallback(for: .gpuConfidentialComputing) == (.encrypted, true))
        #expect(found.fallback(for: .open) == (.open, false))
    }

    @Test("device files: SNP or TDX guest, configfs TSM, TPM, and a PKCS#11 module give tier 2")
    func devices() throws {
        let snp = PlatformProbe(root: try Self.tree(["/dev/sev-guest", "/sys/kernel/config/tsm/report/x"]), run: { _, _ in nil }).detect()
        #expect(snp.sevSNPGuest && snp.configfsTSM && !snp.tdxGuest && snp.tier == .hsm)
        #expect(PlatformProbe(root: try Self.tree(["/dev/tdx_guest"]), run: { _, _ in nil }).detect().tdxGuest)
        #expect(PlatformProbe(root: try Self.tree(["/dev/tdx-guest"]), run: { _, _ in nil }).detect().tdxGuest)
        let tpm = PlatformProbe(root: try Self.tree(["/dev/tpmrm0"]), run: { _, _ in nil }).detect()
        #expect(tpm.tpm && tpm.tier == .hsm && !tpm.cpuTEE)
        let module = try Self.tree(["/lib/libsofthsm2.so"]) + "/lib/libsofthsm2.so"
        let hsm = PlatformProbe(root: try Self.tree([]), pkcs11Module: module, run: { _, _ in nil }).detect()
        #expect(hsm.pkcs11Module == module && hsm.tier == .hsm)
        #expect(PlatformProbe(root: try Self.tree([]), pkcs11Module: "/nonexistent.so", run: { _, _ in nil }).detect().pkcs11Module == nil)
    }

    @Test("GPUs: CC mode needs a CPU TEE for tier 3; Blackwell with protected PCIe gives tier 4; CC off gives nothing")
    func gpus() throws {
        let guest = try Self.tree(["/dev/sev-guest"])
        let hopper = PlatformProbe(root: guest, run: Self.smi(names: "NVIDIA H100 80GB HBM3\n", status: "CC status: ON\nCC Dev Tools mode: OFF\n"))
            .detect()
        #expect(hopper.gpus == ["NVIDIA H100 80GB HBM3"] && hopper.gpuConfidentialComputing && !hopper.gpuTEEIO)
        #expect(hopper.tier == .gpuConfidentialComputing)
        let off = PlatformProbe(root: guest, run: Self.smi(names: "NVIDIA H100 80GB HBM3\n", status: "CC status: OFF\n")).detect()
        #expect(!off.gpuConfidentialComputing && off.tier == .hsm)
        let blackwell = PlatformProbe(
            root: guest,
            run: Self.smi(
                names: "NVIDIA B200\n",
                status: "CC status: ON\nMulti-GPU Protected PCIe mode: ON\n")
        ).detect()
        #expect(blackwell.gpuTEEIO && blackwell.tier == .gpuTEEIO)
        let noTEE = PlatformProbe(
            root: try Self.tree([]), run: Self.smi(names: "NVIDIA B200\n", status: "CC status: ON\nMulti-GPU Protected PCIe mode: ON\n")
        ).detect()
        #expect(noTEE.tier == .encrypted, "a GPU in CC mode without a CPU TEE protects nothing from the host")
        #expect(noTEE.fallback(for: .gpuTEEIO) == (.encrypted, true))
        let json = blackwell.json
        #expect(json.contains("\"tier\":4") && json.contains("\"gpu_tee_io\":true"))
    }
}
