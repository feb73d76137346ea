import Foundation
import KBSPolicyTesting
import Testing

/// A fresh `kbs serve` in hardware mode, with nothing in `DATA_DIR/trust-anchors`, trusts the vendor roots shipped in
/// the binary: real SNP, Azure SNP and Azure TDX evidence (a TD quote with its PCK chain) sent through RCAR gets past
/// its certificate chain — the fixtures' report data cannot hold this session's nonce, so the refusal is
/// `evidence_binding`, never `evidence_chain` — while the simulator's evidence is refused at the chain, also with the
/// simulator's roots in `DATA_DIR/trust-anchors`. A real TD quote in Trustee's `{"quote"}` form gets past its chain too
/// and stops at the TCB collateral, which this test's server may not fetch. NVIDIA reports have no RCAR form with a
/// usable binding here; TrustCommandLineTests verifies them with the shipped roots alone.
@Suite(.serialized, .enabled(if: ServerProcess.binary != nil, "needs the kbs binary"))
struct ShippedRootsServerTests {
    static let fixtures = RepositoryPaths.path("Fixtures/evidence")
    /// A valid P-256 point (the curve's generator), as the session's `tee-pubkey`.
    static let teePublicKey: [String: String] = [
        "kty": "EC", "crv": "P-256", "alg": "ECDH-ES+A256KW", "x": "axfR8uEsQkf4vOblY6RA8ncDfYEt6zOg9KE5RdiYwpY",
        "y": "T-NC4v4af5uO5-tKfA-eFivOM1drMV7Oy7ZAaDe_UfU",
    ]

    /// One RCAR round: `/auth` for `tee`, then `/attest` with `evidence` as the primary evidence; the status and error code.
    static func attest(_ server: ServerProcess, tee: String, evidence: Any) async throws -> (status: Int, code: String?, body: String) {
        let auth = try await server.request("POST", "/kbs/v0/auth", body: #"{"version":"0.4.0","tee":"\#(tee)","extra-params":{}}"#)
        #expect(auth.status == 200, "\(auth.body)")
        let nonce = try #require(try ServerProcess.object(auth.body)["nonce"] as? String)
        let cookie = String(auth.headers["set-cookie"]?.split(separator: ";").first ?? "")
        let request: [String: Any] = [
            "runtime-data": ["nonce": nonce, "tee-pubkey": teePublicKey],
            "tee-evidence": ["primary_evidence": evidence, "additional_evidence": ""],
        ]
        let body = String(decoding: try JSONSerialization.data(withJSONObject: request), as: UTF8.self)
        let attest = try await server.request("POST", "/kbs/v0/attest", body: body, headers: ["Cookie": cookie])
        return (attest.status, try? ServerProcess.errorCode(attest.body), attest.body)
    }

    static func json(_ relative: String) throws -> Any {
        try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: fixtures + "/" + relative)))
    }

    @Test("real SNP and Azure SNP/TDX evidence gets past its AMD or Intel chain on a fresh hardware-mode server")
    func realEvidenceChainsToTheShippedRoots() async throws {
        let server = try ServerProcess(policies: RepositoryPaths.path("Policies/default"))
        defer { server.stop() }
        #expect(!FileManager.default.fileExists(atPath: server.dataDirectory + "/trust-anchors"))
        let cases: [(tee: String, evidence: Any, code: String)] = [
            ("snp", try Self.json("snp/trustee-as-e2e-evidence.json"), "evidence_binding"),
            ("az-snp-vtpm", try Self.json("az-vtpm/trustee-az-snp-vtpm-evidence-v1.json"), "evidence_binding"),
            ("az-snp-vtpm", try Self.json("az-vtpm/trustee-az-snp-vtpm-evidence-genoa.json"), "evidence_binding"),
            ("az-tdx-vtpm", try Self.json("az-vtpm/trustee-az-tdx-vtpm-evidence-v1.json"), "evidence_binding"),
            // A TD quote in Trustee's JSON form: past its PCK chain, it stops at the TCB collateral this server may
            // not fetch here (KBS_COLLATERAL_FETCH=false) and has not cached.
            (
                "tdx", ["quote": try Data(contentsOf: URL(fileURLWithPath: Self.fixtures + "/tdx/trustee-tdx_quote_4.dat")).base64EncodedString()],
                "evidence_collateral"
            ),
        ]
        for item in cases {
            let result = try await Self.attest(server, tee: item.tee, evidence: item.evidence)
            #expect(result.status == 401, "\(item.tee): \(result.body)")
            #expect(result.code == item.code, "\(item.tee): \(result.body)")
        }
    }

    @Test("simulator evidence is refused at the chain in hardware mode, with or without the simulator's roots in the data directory")
    func simulatorEvidenceIsRefused() async throws {
        let work = ServerProcess.temporaryDirectory("kbs-sim-hw")
        defer { try? FileManager.default.removeItem(atPath: work) }
        let binary = try #require(ServerProcess.binary)
        func simulated(_ reportData: String) throws -> Any {
            let process = Process()
            process.executableURL = URL(fileURLWithPath: binary)
            process.arguments = ["tee", "simulate", "--kind", "snp", "--report-data", reportData, "--ca", work + "/ca", "--out", work + "/out"]
            try process.run()
            process.waitUntilExit()
            #expect(process.terminationStatus == 0)
            return try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: work + "/out/rcar-evidence.json")))
        }
        let evidence = try simulated(String(repeating: "ab", count: 48))
        let data = ServerProcess.temporaryDirectory("kbs-data")
        for withSimulatorRoots in [false, true] {
            if withSimulatorRoots {
                try FileManager.default.createDirectory(atPath: data + "/trust-anchors", withIntermediateDirectories: true)
                for name in try FileManager.default.contentsOfDirectory(atPath: work + "/out/trust-anchors") {
                    try FileManager.default.copyItem(atPath: work + "/out/trust-anchors/" + name, toPath: data + "/trust-anchors/" + name)
                }
            }
            let server = try ServerProcess(policies: RepositoryPaths.path("Policies/default"), dataDirectory: data)
            defer { server.stop() }
            let result = try await Self.attest(server, tee: "snp", evidence: evidence)
            #expect(result.status == 401, "\(result.body)")
            #expect(result.code == "evidence_chain", "simulator roots in trust-anchors: \(withSimulatorRoots): \(result.body)")
        }
    }
}
