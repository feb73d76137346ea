import Foundation
import Glibc
import KBSEvidence
import KBSPolicyTesting
import Testing

@testable import KBSServer

/// `Tools/collateral-local` (a stand-in for AMD KDS and Intel PCS v4 following their documented paths and headers)
/// on a free loopback port with a TLS certificate it makes at start, stopped by the test that started it.
final class CollateralStandIn: @unchecked Sendable {
    static let script = RepositoryPaths.path("Tools/collateral-local")
    static let fixtures = RepositoryPaths.path("Fixtures/evidence")

    /// The real fixtures as Intel PCS serves them for `trustee-tdx_quote_4.dat` (FMSPC 50806f000000, PCK Platform CA)
    /// in July 2023, and the Genoa VCEK of `derived-trustee-as-e2e-genoa-report.bin` as AMD KDS serves it.
    static let genoaChip =
        "371c55d6d15cb50f16dc31d39a24e300caaabff4431e841111429b73ec45ad67ea6e687ffae7bf84b54a5d0e6d79b3ef6ff0bd8b4cff94c2163af5c5de8718e8"
    static var vendorManifest: [String: Any] {
        [
            "amd": ["vcek": ["Genoa/\(genoaChip)": "\(fixtures)/snp/derived-trustee-as-e2e-genoa-vcek.der"]],
            "intel": [
                "tcb": ["tdx/50806f000000": "\(fixtures)/tdx/go-tdx-guest-sample_tcbInfo_response"],
                "qe_identity": ["tdx": "\(fixtures)/tdx/go-tdx-guest-sample_qeIdentity_response"],
                "pckcrl": ["platform": "\(fixtures)/tdx/go-tdx-guest-pckcrl"],
                "tcb_issuer_chain": "\(fixtures)/tdx/extracted-go-tdx-guest-tcb-signing-issuer-chain.pem",
                "pck_crl_issuer_chain": "\(fixtures)/tdx/extracted-go-tdx-guest-pck-crl-issuer-chain.pem",
                "root_crl": "\(fixtures)/tdx/go-tdx-guest-rootcrl.der",
            ],
        ]
    }

    let process = Process()
    let directory: String
    let url: String
    private let stdout = Pipe()

    /// The CA that signed the stand-in's TLS certificate.
    var certificateAuthorityFile: String { directory + "/tls/ca.pem" }
    /// The port it listens on.
    var port: Int { Int(url.split(separator: ":").last ?? "") ?? 0 }

    /// Starts the stand-in serving `manifest` (see the script's usage; file paths absolute), with `faults` by path.
    init(manifest: [String: Any] = CollateralStandIn.vendorManifest, faults: [String: String] = [:]) throws {
        directory = ServerProcess.temporaryDirectory("kbs-collateral-local")
        var manifest = manifest
        manifest["faults"] = faults
        let manifestPath = directory + "/manifest.json"
        try JSONSerialization.data(withJSONObject: manifest).write(to: URL(fileURLWithPath: manifestPath))
        let stderrPath = directory + "/stderr.log"
        _ = FileManager.default.createFile(atPath: stderrPath, contents: nil)
        process.executableURL = URL(fileURLWithPath: TestVenv.python)
        process.arguments = [Self.script, "--port", "0", "--tls-dir", directory + "/tls", "--manifest", manifestPath]
        process.standardOutput = stdout
        process.standardError = try FileHandle(forWritingTo: URL(fileURLWithPath: stderrPath))
        try process.run()
        var text = ""
        let deadline = Date().addingTimeInterval(30)
        while !text.contains("\n"), Date() < deadline, process.isRunning {
            let chunk = stdout.fileHandleForReading.availableData
            if chunk.isEmpty { break }
            text += String(decoding: chunk, as: UTF8.self)
        }
        let prefix = "listening on "
        guard let line = text.split(separator: "\n").first, line.hasPrefix(prefix) else {
            if process.isRunning { process.terminate() }
            let stderr = (try? String(contentsOfFile: stderrPath, encoding: .utf8)) ?? ""
            throw ServerTestError("collateral-local did not start: \(text)\n\(stderr)")
        }
        url = String(line.dropFirst(prefix.count))
    }

    deinit { stop() }

    /// Stops the stand-in and waits for it; SIGKILL if SIGTERM has not stopped it within five seconds.
    func stop() {
        guard process.isRunning else { return }
        process.terminate()
        let deadline = Date().addingTimeInterval(5)
        while process.isRunning, Date() < deadline { usleep(20_000) }
        if process.isRunning { kill(process.processIdentifier, SIGKILL) }
        process.waitUntilExit()
    }

    /// Every request line so far (`GET /path?query`), in order.
    var requests: [String] {
        ((try? String(contentsOfFile: directory + "/tls/requests.log", encoding: .utf8)) ?? "").split(separator: "\n").map(String.init)
    }

    /// Every service at this stand-in.
    var endpoints: VendorCollateralFetcher.Endpoints {
        var endpoints = VendorCollateralFetcher.Endpoints()
        endpoints.amdKDS = url
        endpoints.intelPCS = url
        endpoints.intelRootCRL = url + "/IntelSGXRootCA.der"
        return endpoints
    }

    /// A fetcher for this stand-in that trusts its CA.
    func fetcher(timeoutSeconds: Double = 5, maximumBytes: Int = 1 << 20) throws -> VendorCollateralFetcher {
        try VendorCollateralFetcher(
            endpoints: endpoints, timeoutSeconds: timeoutSeconds, maximumBytes: maximumBytes, certificateAuthorityFile: certificateAuthorityFile)
    }

    /// A loopback port nothing listens on (bound, then closed).
    static func closedPort() -> Int {
        let descriptor = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        defer { close(descriptor) }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        address.sin_port = 0
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        _ = withUnsafeMutablePointer(to: &address) { pointer in
            pointer.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(descriptor, $0, length) }
        }
        _ = withUnsafeMutablePointer(to: &address) { pointer in
            pointer.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(descriptor, $0, &length) }
        }
        return Int(UInt16(bigEndian: address.sin_port))
    }
}
