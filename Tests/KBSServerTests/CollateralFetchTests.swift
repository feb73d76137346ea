import Foundation
import KBSClaims
import KBSPolicyTesting
import Testing

@testable import KBSEvidence
@testable import KBSServer

/// Collateral over HTTPS from a local stand-in for AMD KDS and Intel PCS (`Tools/collateral-local`, serving the
/// real fixtures at the vendors' documented paths with their headers): the fetcher's policy, the cache in front of
/// it, and verification that checks revocation only through what it fetched.
@Suite(.enabled(if: TestVenv.available, "needs .venv-test (Tools/bootstrap makes it)"))
struct CollateralFetchTests {
    static let fixtures = CollateralStandIn.fixtures
    static let quote4Time = "2023-07-01T00:00:00Z"

    static func bytes(_ relative: String) throws -> [UInt8] {
        Array(try Data(contentsOf: URL(fileURLWithPath: fixtures + "/" + relative)))
    }

    static func time(_ text: String) -> Date {
        Date(timeIntervalSince1970: Double(Timestamp.nanoseconds(fromRFC3339: text) ?? 0) / 1e9)
    }

    /// `trustee-tdx_quote_4.dat` verified at its fixtures' time with the Intel root as the only input: TCB info, QE
    /// identity, their signing chain and both CRLs must come from `source`.
    static func verifyQuote4(_ source: any CollateralSource) async throws -> VerifiedEvidence {
        let context = VerificationContext(
            time: time(quote4Time), trustAnchors: [EvidenceFile(name: "root", bytes: try bytes("tdx/go-tdx-guest-trusted_root.pem"))],
            collateral: source)
        return try await EvidenceVerifiers.verify(try bytes("tdx/trustee-tdx_quote_4.dat"), kind: .tdx, context: context)
    }

    static func temporaryDirectory() -> URL { URL(fileURLWithPath: ServerProcess.temporaryDirectory("kbs-collateral-cache")) }

    /// The error `body` throws, or nil.
    static func failure(_ body: () async throws(EvidenceError) -> Collateral) async -> EvidenceError? {
        do { _ = try await body() } catch { return error }
        return nil
    }

    @Test func eachDocumentComesFromItsVendorPathWithItsIssuerChain() async throws {
        let standIn = try CollateralStandIn()
        defer { standIn.stop() }
        let fetcher = try standIn.fetcher()
        let now = Date()
        let tcb = try await fetcher.collateral(.tcbInfo(kind: .tdx, fmspc: [0x50, 0x80, 0x6f, 0, 0, 0]), at: now)
        #expect(tcb.body == (try Self.bytes("tdx/go-tdx-guest-sample_tcbInfo_response")))
        // The header's URL-encoded PEM, decoded, is the chain the vendor sent.
        let signing = try Certificate.parseAll(try Self.bytes("tdx/extracted-go-tdx-guest-tcb-signing-issuer-chain.pem")).map(\.der)
        #expect(try Certificate.parseAll(tcb.issuerChain).map(\.der) == signing)
        let identity = try await fetcher.collateral(.qeIdentity(kind: .tdx), at: now)
        #expect(try Certificate.parseAll(identity.issuerChain).map(\.der) == signing)
        let pckCRL = try await fetcher.collateral(.pckRevocationList(.platform), at: now)
        #expect(pckCRL.body == (try Self.bytes("tdx/go-tdx-guest-pckcrl")))
        #expect(!pckCRL.issuerChain.isEmpty)
        let rootCRL = try await fetcher.collateral(.intelRootRevocationList, at: now)
        #expect(rootCRL.body == (try Self.bytes("tdx/go-tdx-guest-rootcrl.der")) && rootCRL.issuerChain.isEmpty)
        let chip = try #require(Hex.decode(CollateralStandIn.genoaChip))
        let vcek = try await fetcher.collateral(
            .vcek(product: .genoa, hardwareID: chip, tcb: SNPTCB(bootloader: 10, tee: 0, snp: 23, microcode: 25)), at: now)
        #expect(vcek.body == (try Self.bytes("snp/derived-trustee-as-e2e-genoa-vcek.der")))
        #expect(
            standIn.requests == [
                "GET /tdx/certification/v4/tcb?fmspc=50806f000000&update=standard", "GET /tdx/certification/v4/qe/identity?update=standard",
                "GET /sgx/certification/v4/pckcrl?ca=platform&encoding=der", "GET /IntelSGXRootCA.der",
                "GET /vcek/v1/Genoa/\(CollateralStandIn.genoaChip)?blSPL=10&teeSPL=0&snpSPL=23&ucodeSPL=25",
            ])
    }

    /// Hardware-mode TDX verification with nothing but the Intel root: TCB status from fetched collateral, and
    /// `revocation_checked` only through the fetched PCK and root CRLs. Then the stand-in stops, and the cache answers.
    @Test func tdxVerifiesThroughTheCacheAndKeepsVerifyingOffline() async throws {
        let standIn = try CollateralStandIn()
        let directory = Self.temporaryDirectory()
        defer {
            standIn.stop()
            try? FileManager.default.removeItem(at: directory)
        }
        let cache = DiskCollateralCache(directory: directory, upstream: try standIn.fetcher())
        let first = try await Self.verifyQuote4(cache)
        #expect(first.tcbStatus == "UpToDate")
        #expect(first.claims["revocation_checked"] == .bool(true))
        #expect(standIn.requests.count == 4)

        // Nothing fetched CRLs: the same quote without the source is unchecked.
        let context = VerificationContext(
            time: Self.time(Self.quote4Time), trustAnchors: [EvidenceFile(name: "root", bytes: try Self.bytes("tdx/go-tdx-guest-trusted_root.pem"))])
        let bare = try await EvidenceVerifiers.verify(try Self.bytes("tdx/trustee-tdx_quote_4.dat"), kind: .tdx, context: context)
        #expect(bare.claims["revocation_checked"] == .bool(false) && bare.tcbStatus == nil)

        standIn.stop()
        let again = try await Self.verifyQuote4(DiskCollateralCache(directory: directory, upstream: try standIn.fetcher(timeoutSeconds: 1)))
        #expect(again.tcbStatus == "UpToDate" && again.claims["revocation_checked"] == .bool(true))
        let offline = try await Self.verifyQuote4(DiskCollateralCache(directory: directory))
        #expect(offline.claims["revocation_checked"] == .bool(true))
    }

    /// Near an item's `nextUpdate` (at the verification time) the cache asks the service again; with the service
    /// gone it serves its copy until `nextUpdate`, and not after.
    @Test func theCacheRefreshesBeforeNextUpdate() async throws {
        let standIn = try CollateralStandIn()
        let directory = Self.temporaryDirectory()
        defer {
            standIn.stop()
            try? FileManager.default.removeItem(at: directory)
        }
        let request = CollateralRequest.pckRevocationList(.platform)
        let next = try RevocationList(try Self.bytes("tdx/go-tdx-guest-pckcrl")).nextUpdate
        let cache = DiskCollateralCache(directory: directory, upstream: try standIn.fetcher(), refreshMargin: 86400)
        _ = try await cache.collateral(request, at: next - 5 * 86400)
        _ = try await cache.collateral(request, at: next - 2 * 86400)
        #expect(standIn.requests.count == 1)
        _ = try await cache.collateral(request, at: next - 3600)
        #expect(standIn.requests.count == 2)

        standIn.stop()
        let unreachable = DiskCollateralCache(directory: directory, upstream: try standIn.fetcher(timeoutSeconds: 1), refreshMargin: 86400)
        #expect(try await unreachable.collateral(request, at: next - 3600).body == (try Self.bytes("tdx/go-tdx-guest-pckcrl")))
        let error = await Self.failure { () async throws(EvidenceError) -> Collateral in try await unreachable.collateral(request, at: next + 60) }
        #expect(error?.reason == .collateral)
    }

    /// Answers other than the document asked for are `collateral` errors naming the service, and are not cached.
    @Test(arguments: [
        ("not-found", "intel-pcs answered 404"), ("server-error", "intel-pcs answered 500"), ("redirect", "intel-pcs answered 302"),
        ("garbage", "not an X.509 CRL"), ("oversize", "over 65536"),
    ])
    func badAnswersAreCollateralErrors(_ fault: String, _ message: String) async throws {
        let standIn = try CollateralStandIn(faults: ["/sgx/certification/v4/pckcrl": fault])
        let directory = Self.temporaryDirectory()
        defer {
            standIn.stop()
            try? FileManager.default.removeItem(at: directory)
        }
        let cache = DiskCollateralCache(directory: directory, upstream: try standIn.fetcher(maximumBytes: 65536))
        let request = CollateralRequest.pckRevocationList(.platform)
        let error = await Self.failure { () async throws(EvidenceError) -> Collateral in try await cache.collateral(request, at: Date()) }
        #expect(error?.reason == .collateral)
        #expect(error?.message.contains(message) == true, "\(error?.message ?? "no error")")
        #expect(!FileManager.default.fileExists(atPath: cache.file(for: request).path))
        // The redirect was not followed: the stand-in saw one request.
        #expect(standIn.requests.count == 1)
        // Verification goes on without the CRL: revocation unchecked, the policy decides.
        let verified = try await Self.verifyQuote4(cache)
        #expect(verified.claims["revocation_checked"] == .bool(false) && verified.tcbStatus == "UpToDate")
    }

    /// The wrong document (QE identity served as TCB info), or TCB info whose signature does not verify, fails the
    /// verification; the bad copy does not stay in the cache.
    @Test func wrongOrTamperedTCBInfoIsRefused() async throws {
        var manifest = CollateralStandIn.vendorManifest
        var intel = try #require(manifest["intel"] as? [String: Any])
        intel["tcb"] = ["tdx/50806f000000": "\(Self.fixtures)/tdx/go-tdx-guest-sample_qeIdentity_response"]
        manifest["intel"] = intel
        let wrong = try CollateralStandIn(manifest: manifest)
        defer { wrong.stop() }
        let directory = Self.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        do {
            _ = try await Self.verifyQuote4(DiskCollateralCache(directory: directory, upstream: try wrong.fetcher()))
            Issue.record("QE identity passed for TCB info")
        } catch let error as EvidenceError {
            #expect(error.reason == .collateral && error.message.contains("tcbInfo"), "\(error)")
        }

        let tampered = try CollateralStandIn(faults: ["/tdx/certification/v4/tcb": "bad-signature"])
        defer { tampered.stop() }
        let cache = DiskCollateralCache(directory: directory, upstream: try tampered.fetcher())
        do {
            _ = try await Self.verifyQuote4(cache)
            Issue.record("TCB info with a bad signature verified")
        } catch let error as EvidenceError {
            #expect(error.reason == .signature, "\(error)")
        }
        #expect(!FileManager.default.fileExists(atPath: cache.file(for: .tcbInfo(kind: .tdx, fmspc: [0x50, 0x80, 0x6f, 0, 0, 0])).path))
    }

    @Test func aServiceThatNeverAnswersTimesOut() async throws {
        let standIn = try CollateralStandIn(faults: ["/IntelSGXRootCA.der": "hang"])
        defer { standIn.stop() }
        let fetcher = try standIn.fetcher(timeoutSeconds: 1)
        let error = await Self.failure { () async throws(EvidenceError) -> Collateral in
            try await fetcher.collateral(.intelRootRevocationList, at: Date())
        }
        // The timeout, not the stand-in (which holds the request for two minutes), ended it. No wall-clock bound: on a
        // loaded machine the answer may wait for a thread long after the timeout fired.
        #expect(error?.reason == .collateral, "\(error?.message ?? "")")
        #expect(error?.message == "intel-root-crl did not answer IntelSGXRootCA.der within 1.0 s", "\(error?.message ?? "")")
    }

    @Test func anUnreachableServiceIsACollateralError() async throws {
        var endpoints = VendorCollateralFetcher.Endpoints()
        endpoints.amdKDS = "https://127.0.0.1:\(CollateralStandIn.closedPort())"
        let fetcher = try VendorCollateralFetcher(endpoints: endpoints, timeoutSeconds: 2)
        let error = await Self.failure { () async throws(EvidenceError) -> Collateral in
            try await fetcher.collateral(.amdRevocationList(product: .milan, signingKey: .vcek), at: Date())
        }
        #expect(error?.reason == .collateral, "\(error?.message ?? "")")
        #expect(error?.message.hasPrefix("amd-kds cannot be reached for vcek/v1/Milan/crl") == true, "\(error?.message ?? "")")
    }

    /// TLS is verified: without the stand-in's CA its certificate is refused.
    @Test func anUntrustedCertificateIsRefused() async throws {
        let standIn = try CollateralStandIn()
        defer { standIn.stop() }
        let fetcher = try VendorCollateralFetcher(endpoints: standIn.endpoints, timeoutSeconds: 2)
        let error = await Self.failure { () async throws(EvidenceError) -> Collateral in
            try await fetcher.collateral(.intelRootRevocationList, at: Date())
        }
        #expect(error?.reason == .collateral)
        #expect(standIn.requests.isEmpty)
    }

    /// Only https (http to this machine, for a local mirror), no credentials, and only the requests verifiers build.
    @Test func urlsAndRequestsAreChecked() async throws {
        for bad in ["http://kdsintf.amd.com", "https://user:pw@kdsintf.amd.com", "https://kdsintf.amd.com?x=1", "kdsintf.amd.com", "ftp://x"] {
            var endpoints = VendorCollateralFetcher.Endpoints()
            endpoints.amdKDS = bad
            #expect(throws: EvidenceError.self, "\(bad)") { try VendorCollateralFetcher(endpoints: endpoints) }
        }
        var endpoints = VendorCollateralFetcher.Endpoints()
        endpoints.intelPCS = "http://127.0.0.1:8081/"
        let fetcher = try VendorCollateralFetcher(endpoints: endpoints)
        #expect(try fetcher.url(for: .qeIdentity(kind: .sgx)) == "http://127.0.0.1:8081/sgx/certification/v4/qe/identity?update=standard")
        #expect(try fetcher.url(for: .intelRootRevocationList) == "https://certificates.trustedservices.intel.com/IntelSGXRootCA.der")
        let steered = CollateralRequest(service: .amdKDS, path: "vcek/v1/Milan/../../admin", item: .revocationList)
        #expect(throws: EvidenceError.self) { try fetcher.url(for: steered) }
    }

    /// `kbs serve` in hardware mode, pointed at the stand-in by the environment: real Genoa evidence sent without its
    /// VCEK gets it from "KDS" (the refusal is then `evidence_binding`, past the chain and signature, as the session's
    /// nonce is not in the fixture), kept in `DATA_DIR/collateral`; with fetching off the same evidence lacks its VCEK.
    @Test(.enabled(if: ServerProcess.binary != nil, "needs the kbs binary"))
    func theServerFetchesThroughTheConfiguredServices() async throws {
        let standIn = try CollateralStandIn()
        defer { standIn.stop() }
        var evidence = try #require(
            try JSONSerialization.jsonObject(with: Data(try Self.bytes("snp/trustee-as-e2e-evidence.json"))) as? [String: Any])
        evidence["cert_chain"] = []
        let environment = [
            "KBS_COLLATERAL_FETCH": "true", "KBS_COLLATERAL_AMD_KDS_URL": standIn.url, "KBS_COLLATERAL_INTEL_PCS_URL": standIn.url,
            "KBS_COLLATERAL_CA_FILE": standIn.certificateAuthorityFile, "KBS_COLLATERAL_TIMEOUT_SECONDS": "5",
        ]
        let server = try ServerProcess(policies: RepositoryPaths.path("Policies/default"), environment: environment)
        defer { server.stop() }
        let fetched = try await ShippedRootsServerTests.attest(server, tee: "snp", evidence: evidence)
        #expect(fetched.status == 401 && fetched.code == "evidence_binding", "\(fetched.body)\n\(server.stderr)")
        #expect(standIn.requests == ["GET /vcek/v1/Genoa/\(CollateralStandIn.genoaChip)?blSPL=10&teeSPL=0&snpSPL=23&ucodeSPL=25"])
        let cached = server.dataDirectory + "/collateral/amd-kds/vcek_v1_Genoa_\(CollateralStandIn.genoaChip)_blSPL_10_teeSPL_0_snpSPL_23_ucodeSPL_25"
        #expect(FileManager.default.fileExists(atPath: cached))

        let offline = try ServerProcess(policies: RepositoryPaths.path("Policies/default"))
        defer { offline.stop() }
        let missing = try await ShippedRootsServerTests.attest(offline, tee: "snp", evidence: evidence)
        #expect(missing.status == 401 && missing.code == "evidence_collateral", "\(missing.body)")
        #expect(standIn.requests.count == 1)
    }

    /// `kbs evidence verify --fetch-collateral` in hardware mode (the Intel root only, no endorsement): the claims say
    /// `revocation_checked: true` only with the fetched CRLs.
    @Test(.enabled(if: ServerProcess.binary != nil, "needs the kbs binary"))
    func evidenceVerifyFetchesWhatTheEndorsementsLack() throws {
        let standIn = try CollateralStandIn()
        defer { standIn.stop() }
        let cache = ServerProcess.temporaryDirectory("kbs-cli-collateral")
        defer { try? FileManager.default.removeItem(atPath: cache) }
        let arguments = [
            "evidence", "verify", "--kind", "tdx", "--evidence", Self.fixtures + "/tdx/trustee-tdx_quote_4.dat", "--at", Self.quote4Time,
            "--no-shipped-roots", "--trust-anchor", Self.fixtures + "/tdx/go-tdx-guest-trusted_root.pem",
        ]
        let environment = [
            "KBS_COLLATERAL_INTEL_PCS_URL": standIn.url, "KBS_COLLATERAL_INTEL_ROOT_CRL_URL": standIn.url + "/IntelSGXRootCA.der",
            "KBS_COLLATERAL_CA_FILE": standIn.certificateAuthorityFile,
        ]
        func claims(_ run: (status: Int32, out: String, err: String)) throws -> [String: Any] {
            #expect(run.status == 0, "\(run.err)")
            return try ServerProcess.object(run.out)
        }
        let unchecked = try claims(try ConfigurationFileTests.kbs(arguments, environment: environment))
        #expect(unchecked["revocation_checked"] as? Bool == false && unchecked["tcb_status"] == nil)
        #expect(standIn.requests.isEmpty)
        let fetched = try claims(
            try ConfigurationFileTests.kbs(arguments + ["--collateral-cache", cache, "--fetch-collateral"], environment: environment))
        #expect(fetched["revocation_checked"] as? Bool == true && fetched["tcb_status"] as? String == "UpToDate")
        #expect(standIn.requests.count == 4)
        // Kept in the cache: offline, the same verification still has it all.
        standIn.stop()
        let offline = try claims(try ConfigurationFileTests.kbs(arguments + ["--collateral-cache", cache], environment: environment))
        #expect(offline["revocation_checked"] as? Bool == true)
    }

    /// SNP through the fetcher: the real Genoa report gets its VCEK from the stand-in (KDS has no CRL for it here, so
    /// revocation stays unchecked); the simulator's Milan report gets the ARK's CRL and is checked.
    @Test func snpFetchesItsVCEKAndTheARKsCRL() async throws {
        let now = Date()
        let authorities = try SimulatedSNP.authorities(now: now)
        let simulated = try SimulatedSNP.make(reportData: [7], measurement: nil, debug: false, now: now, authorities: authorities)
        let work = ServerProcess.temporaryDirectory("kbs-snp-kds")
        defer { try? FileManager.default.removeItem(atPath: work) }
        let crl = try TestChain.revocationList(by: authorities[0], revoking: [], thisUpdate: now - 86400, nextUpdate: now + 7 * 86400)
        try Data(crl).write(to: URL(fileURLWithPath: work + "/milan.crl"))
        try Data(simulated.endorsements[0].bytes).write(to: URL(fileURLWithPath: work + "/vcek.der"))
        let report = try SNPReport(simulated.evidence)
        var manifest = CollateralStandIn.vendorManifest
        manifest["amd"] = [
            "vcek": [
                "Genoa/\(CollateralStandIn.genoaChip)": "\(Self.fixtures)/snp/derived-trustee-as-e2e-genoa-vcek.der",
                "Milan/\(Hex.encode(report.chipID))": work + "/vcek.der",
            ],
            "crl": ["vcek/Milan": work + "/milan.crl"],
        ]
        let standIn = try CollateralStandIn(manifest: manifest)
        defer { standIn.stop() }
        let cache = DiskCollateralCache(directory: URL(fileURLWithPath: work + "/cache"), upstream: try standIn.fetcher())

        let genoaContext = VerificationContext(
            time: Self.time("2026-01-01T00:00:00Z"),
            trustAnchors: [EvidenceFile(name: "genoa", bytes: try Self.bytes("snp/trustee-genoa_ask_ark_asvk.pem"))], collateral: cache)
        let genoa = try await SNPVerifier().verify(try Self.bytes("snp/derived-trustee-as-e2e-genoa-report.bin"), context: genoaContext)
        #expect(genoa.claims["revocation_checked"] == .bool(false))

        let context = VerificationContext(time: now, trustAnchors: simulated.trustAnchors, collateral: cache)
        let milan = try await SNPVerifier().verify(simulated.evidence, context: context)
        #expect(milan.claims["revocation_checked"] == .bool(true))
        #expect(
            standIn.requests.map { String($0.split(separator: "?")[0]) }.suffix(2) == [
                "GET /vcek/v1/Milan/\(Hex.encode(report.chipID))", "GET /vcek/v1/Milan/crl",
            ])
    }
}
