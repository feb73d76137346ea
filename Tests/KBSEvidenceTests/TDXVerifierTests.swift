import Foundation
import KBSClaims
import Testing

@testable import KBSEvidence

/// Intel TDX quotes against the fixtures' verdicts (SOURCES.md, tdx/).
struct TDXVerifierTests {
    let quote4 = "tdx/trustee-tdx_quote_4.dat"
    let quote5 = "tdx/trustee-tdx_quote_5.dat"
    let quote6 = "tdx/trustee-tdx_quote_6.dat"
    let sprE4 = "tdx/go-tdx-guest-tdx_prod_quote_SPR_E4.dat"
    let v5Sample = "tdx/go-tdx-guest-quote_v5_sample.dat"
    let cos113 = "tdx/go-tdx-guest-ccel-cos-113-tdx-quote.dat"
    let ccelData = "tdx/go-tdx-guest-ccel-ccel_data.dat"
    let ccelTable = "tdx/go-tdx-guest-ccel-ccel_table.dat"

    /// Quote v4 with 2023 collateral: TCB UpToDate (2023-02-15), QE UpToDate, a DEBUG TD.
    @Test func quote4UpToDateWithCollateral() async throws {
        let context = try DCAP.context(
            at: "2023-07-01T00:00:00Z", endorsements: [DCAP.signingChain, DCAP.tcbInfo2023, DCAP.qeIdentity2023])
        let result = try await DCAP.verify(try EvidenceFixtures.bytes(quote4), kind: .tdx, context)
        #expect(result.tcbStatus == "UpToDate")
        #expect(result.debug)
        #expect(Hex.encode(result.measurement).hasPrefix("705ee938"))
        #expect(Hex.encode(result.measurement).hasSuffix("9ce5f031"))
        let details = result.details
        #expect(DCAP.hex(details["tee_tcb_svn"])?.hasPrefix("030005") == true)
        #expect(DCAP.hex(details["xfam"]) == "e742060000000000")
        #expect(DCAP.hex(details["report_data"])?.hasPrefix("7c71fe2c") == true)
        #expect(DCAP.hex(details["report_data"])?.hasSuffix("71501429") == true)
        #expect(DCAP.hex(details["fmspc"]) == "50806f000000")
        #expect(DCAP.int(details["pce_svn"]) == 11)
        #expect(DCAP.int(details["qe_svn"]) == 4)
        #expect(DCAP.int(details["quote_version"]) == 4)
        #expect(DCAP.string(details["qe_tcb_status"]) == "UpToDate")
        #expect(details["tcb_date"] == .time(EvidenceFixtures.time("2023-02-15T00:00:00Z")))
        #expect(DCAP.bool(details["rtmr_replayed"]) == false)
        #expect(DCAP.int(details["tcb_evaluation_data_number"]) == 15)
        #expect(DCAP.hex(details["qe_vendor_id"]) == "939a7233f79c4ca9940a0db3957f0607")
        #expect(result.tcbSVN == 3)
        DCAP.expectMatches(details, TDXVerifier().schema.record)
        DCAP.expectMatches(result.claims, EvidenceSchemas.all[0].record)
    }

    /// Without collateral the quote verifies on signatures and chain alone, with no TCB status.
    @Test func quote4WithoutCollateral() async throws {
        let result = try await DCAP.verify(try EvidenceFixtures.bytes(quote4), kind: .tdx, try DCAP.context(at: "2023-07-01T00:00:00Z"))
        #expect(result.tcbStatus == nil)
        #expect(result.details["tcb_status"] == nil)
        #expect(result.details["qe_tcb_status"] == nil)
    }

    /// The 2018 TCB Signing certificate is valid in 2023, so no expiry override is needed there; the collateral must
    /// be current at the verification time.
    @Test func staleCollateralIsExpired() async throws {
        let quote = try EvidenceFixtures.bytes(quote4)
        await DCAP.expectRefusal(
            quote, kind: .tdx, try DCAP.context(at: "2023-08-01T00:00:00Z", endorsements: [DCAP.signingChain, DCAP.tcbInfo2023]), .expired)
        await DCAP.expectRefusal(
            quote, kind: .tdx, try DCAP.context(at: "2023-08-01T00:00:00Z", endorsements: [DCAP.signingChain, DCAP.qeIdentity2023]), .expired)
        // Collateral without its signer cannot be trusted.
        await DCAP.expectRefusal(quote, kind: .tdx, try DCAP.context(at: "2023-07-01T00:00:00Z", endorsements: [DCAP.tcbInfo2023]), .collateral)
    }

    /// The signature covers the exact served bytes of the `tcbInfo` member: a changed byte inside is refused, while
    /// different whitespace outside the member still verifies.
    @Test func collateralSignatureCoversServedBytes() async throws {
        let quote = try EvidenceFixtures.bytes(quote4)
        let original = try EvidenceFixtures.bytes(DCAP.tcbInfo2023)
        let text = String(decoding: original, as: UTF8.self)
        let chain = try EvidenceFixtures.file(DCAP.signingChain)
        let tampered = Array(text.replacingOccurrences(of: "\"tcbEvaluationDataNumber\":15", with: "\"tcbEvaluationDataNumber\":16").utf8)
        #expect(tampered != original)
        var context = try DCAP.context(at: "2023-07-01T00:00:00Z")
        context.endorsements = [chain, EvidenceFile(name: "tampered", bytes: tampered)]
        await DCAP.expectRefusal(quote, kind: .tdx, context, .signature)
        let spaced = Array(text.replacingOccurrences(of: ",\"signature\"", with: " ,\n  \"signature\"").utf8)
        #expect(spaced != original)
        context.endorsements = [chain, EvidenceFile(name: "spaced", bytes: spaced)]
        let result = try await DCAP.verify(quote, kind: .tdx, context)
        #expect(result.tcbStatus == "UpToDate")
    }

    /// Collateral can come from a `CollateralSource` instead of the endorsements, under the PCS paths.
    @Test func collateralFromSource() async throws {
        let source = FixtureCollateral(files: [
            "intel-pcs/tdx/certification/v4/tcb?fmspc=50806f000000&update=standard": try EvidenceFixtures.bytes(DCAP.tcbInfo2023),
            "intel-pcs/tdx/certification/v4/qe/identity?update=standard": try EvidenceFixtures.bytes(DCAP.qeIdentity2023),
        ])
        var context = try DCAP.context(at: "2023-07-01T00:00:00Z", endorsements: [DCAP.signingChain])
        context.collateral = source
        let result = try await DCAP.verify(try EvidenceFixtures.bytes(quote4), kind: .tdx, context)
        #expect(result.tcbStatus == "UpToDate")
        #expect(DCAP.string(result.details["qe_tcb_status"]) == "UpToDate")
    }

    /// Quote v5 (TD 1.5 body): signatures verify without collateral; with the v5 TCB info no level matches.
    @Test func quote5NoTCBLevel() async throws {
        let quote = try EvidenceFixtures.bytes(quote5)
        let result = try await DCAP.verify(quote, kind: .tdx, try DCAP.context(at: "2026-02-03T00:00:00Z"))
        let details = result.details
        #expect(DCAP.int(details["quote_version"]) == 5)
        #expect(Hex.encode(result.measurement).hasPrefix("dfba221b"))
        #expect(Hex.encode(result.measurement).hasSuffix("3886400a"))
        #expect(DCAP.hex(details["tee_tcb_svn"])?.hasPrefix("050102") == true)
        #expect(DCAP.hex(details["mr_servicetd"])?.hasPrefix("383c87d3") == true)
        #expect(details["tee_tcb_svn2"] != nil)
        #expect(!result.debug)
        #expect(DCAP.hex(details["report_data"])?.hasPrefix("6d6ab13b") == true)
        #expect(DCAP.hex(details["report_data"])?.hasSuffix("74fd049f") == true)
        #expect(DCAP.hex(details["fmspc"]) == "90c06f000000")
        DCAP.expectMatches(details, TDXVerifier().schema.record)
        await DCAP.expectRefusal(
            quote, kind: .tdx,
            try DCAP.context(at: "2026-02-03T00:00:00Z", endorsements: [DCAP.signingChain, DCAP.tcbInfoV5], ignoresSignerExpiry: true), .tcb)
    }

    /// Quote v4 with 70 trailing zero bytes and Trustee's 2025 collateral: OutOfDate platform, TDX_03 UpToDate.
    @Test func quote6OutOfDate() async throws {
        let quote = try EvidenceFixtures.bytes(quote6)
        let endorsements = [DCAP.signingChain, "tdx/trustee-tcbInfo.json", "tdx/trustee-enclaveIdentity.json"]
        let context = try DCAP.context(at: "2025-11-01T00:00:00Z", endorsements: endorsements, ignoresSignerExpiry: true)
        let result = try await DCAP.verify(quote, kind: .tdx, context)
        #expect(result.tcbStatus == "OutOfDate")
        let details = result.details
        #expect(DCAP.string(details["module_tcb_status"]) == "UpToDate")
        #expect(DCAP.string(details["qe_tcb_status"]) == "UpToDate")
        #expect(DCAP.int(details["pce_svn"]) == 11)
        #expect(DCAP.int(details["pck_sgx_type"]) == 2)
        #expect(DCAP.hex(details["fmspc"]) == "00a06d080000")
        #expect(details["tcb_date"] == .time(EvidenceFixtures.time("2018-01-04T00:00:00Z")))
        #expect(Hex.encode(result.measurement).hasPrefix("21e8dead"))
        #expect(Hex.encode(result.measurement).hasSuffix("ffbb1e88"))
        #expect(Hex.encode(result.hostData ?? []).hasPrefix("889abf47"))
        #expect(DCAP.hex(details["rtmr2"]) != String(repeating: "0", count: 96))
        let reportData = try #require(result.reportData)
        #expect(Hex.encode(reportData.prefix(48)).hasPrefix("26cae1c7"))
        #expect(Hex.encode(reportData.prefix(48)).hasSuffix("95b32cfd"))
        #expect(reportData.suffix(16).allSatisfy { $0 == 0 })
        DCAP.expectMatches(details, TDXVerifier().schema.record)

        // The 48-byte hash binds as Trustee's SHA-384 shape (padded to 64); another value is a binding error.
        var bound = context
        bound.expectedReportData = Array(reportData.prefix(48))
        _ = try await DCAP.verify(quote, kind: .tdx, bound)
        bound.expectedReportData = [UInt8](repeating: 0xAB, count: 48)
        await DCAP.expectRefusal(quote, kind: .tdx, bound, .binding)

        // The TCB Signing certificate expired 2025-05-21: without the override that is an `expired` refusal.
        await DCAP.expectRefusal(quote, kind: .tdx, try DCAP.context(at: "2025-11-01T00:00:00Z", endorsements: endorsements), .expired)
        // Outside issueDate…nextUpdate the collateral is stale even with the override.
        await DCAP.expectRefusal(
            quote, kind: .tdx, try DCAP.context(at: "2025-12-01T00:00:00Z", endorsements: endorsements, ignoresSignerExpiry: true), .expired)
    }

    /// A pre-production SPR E4 quote with 39 bytes of trailing junk: signatures verify, no TCB level matches.
    @Test func sprE4NoTCBLevel() async throws {
        let quote = try EvidenceFixtures.bytes(sprE4)
        let result = try await DCAP.verify(quote, kind: .tdx, try DCAP.context(at: "2023-07-01T00:00:00Z"))
        #expect(Hex.encode(result.measurement).hasPrefix("6363b804"))
        #expect(Hex.encode(result.measurement).hasSuffix("d7215cbb"))
        #expect(DCAP.hex(result.details["tee_tcb_svn"])?.hasPrefix("030004") == true)
        #expect(DCAP.hex(result.details["td_attributes"]) == "0000004000000000")
        #expect(DCAP.bool(result.details["pks"]) == true)
        #expect(!result.debug)
        #expect(Hex.encode(result.reportData ?? []).hasPrefix("6c62dec1"))
        #expect(Hex.encode(result.reportData ?? []).hasSuffix("281f1113"))
        await DCAP.expectRefusal(
            quote, kind: .tdx, try DCAP.context(at: "2023-07-01T00:00:00Z", endorsements: [DCAP.signingChain, DCAP.tcbInfo2023]), .tcb)
    }

    /// go-tdx-guest's v5 sample: UpToDate end to end with its v5 TCB info at 2026-02-03 when the expired TCB Signing
    /// certificate is tolerated; `expired` without that. The 2023 QE identity is stale in 2026.
    @Test func v5SampleUpToDate() async throws {
        let quote = try EvidenceFixtures.bytes(v5Sample)
        let context = try DCAP.context(at: "2026-02-03T00:00:00Z", endorsements: [DCAP.signingChain, DCAP.tcbInfoV5], ignoresSignerExpiry: true)
        let result = try await DCAP.verify(quote, kind: .tdx, context)
        #expect(result.tcbStatus == "UpToDate")
        let details = result.details
        #expect(DCAP.string(details["module_tcb_status"]) == "UpToDate")
        #expect(details["tcb_date"] == .time(EvidenceFixtures.time("2024-11-13T00:00:00Z")))
        #expect(Hex.encode(result.measurement).hasPrefix("7348651a"))
        #expect(Hex.encode(result.measurement).hasSuffix("3bc8f876"))
        #expect(DCAP.hex(details["tee_tcb_svn"])?.hasPrefix("0b0104") == true)
        #expect(DCAP.hex(details["tee_tcb_svn2"])?.hasPrefix("0d0104") == true)
        #expect(DCAP.hex(details["rtmr2"]) != String(repeating: "0", count: 96))
        #expect(Hex.encode(result.reportData ?? []).hasPrefix("945eaacf"))
        #expect(Hex.encode(result.reportData ?? []).hasSuffix("31c25c3a"))
        #expect(result.tcbSVN == 0x0b)
        DCAP.expectMatches(details, TDXVerifier().schema.record)

        await DCAP.expectRefusal(
            quote, kind: .tdx, try DCAP.context(at: "2026-02-03T00:00:00Z", endorsements: [DCAP.signingChain, DCAP.tcbInfoV5]), .expired)
        // The 2023 QE identity (nextUpdate 2023-07-08) is not current in 2026.
        await DCAP.expectRefusal(
            quote, kind: .tdx,
            try DCAP.context(
                at: "2026-02-03T00:00:00Z", endorsements: [DCAP.signingChain, DCAP.tcbInfoV5, DCAP.qeIdentity2023], ignoresSignerExpiry: true),
            .expired)
    }

    /// A GCP COS TD quote with 3065 trailing zeros; its CC event log replays to RTMR0…3.
    @Test func cos113EventLogReplays() async throws {
        let quote = try EvidenceFixtures.bytes(cos113)
        let context = try DCAP.context(at: "2024-08-01T00:00:00Z", endorsements: [ccelData, ccelTable])
        let result = try await DCAP.verify(quote, kind: .tdx, context)
        #expect(DCAP.bool(result.details["rtmr_replayed"]) == true)
        #expect(Hex.encode(result.measurement).hasPrefix("dae67181"))
        #expect(Hex.encode(result.measurement).hasSuffix("4231f94a"))
        #expect(result.reportData == (try EvidenceFixtures.bytes("tdx/go-tdx-guest-ccel-nonce.dat")))
        #expect(DCAP.hex(result.details["rtmr3"]) == String(repeating: "0", count: 96))
        #expect(DCAP.hex(result.details["fmspc"]) == "00806f050000")
        DCAP.expectMatches(result.details, TDXVerifier().schema.record)

        // The nonce file is the expected report data.
        var bound = context
        bound.expectedReportData = try EvidenceFixtures.bytes("tdx/go-tdx-guest-ccel-nonce.dat")
        _ = try await DCAP.verify(quote, kind: .tdx, bound)

        // A changed event digest no longer replays.
        var log = try EvidenceFixtures.bytes(ccelData)
        let replay = try CCEventLog.replay(log)
        #expect(replay.events == 43)
        log[0x60] ^= 0x01  // inside the first extended event's SHA-384 digest (RTMR0)
        var tampered = context
        tampered.endorsements = [EvidenceFile(name: "tampered-ccel", bytes: log)]
        let error = await evidenceError { () async throws(EvidenceError) -> VerifiedEvidence in try await DCAP.verify(quote, kind: .tdx, tampered) }
        #expect(error?.reason == .measurement)
        // The log belongs to this quote only.
        await DCAP.expectRefusal(
            try EvidenceFixtures.bytes(quote4), kind: .tdx, try DCAP.context(at: "2023-07-01T00:00:00Z", endorsements: [ccelData]), .measurement)
    }

    /// The ACPI CCEL table names where the log lives and how long its area is.
    @Test func ccelTableHeader() throws {
        let table = try CCELTable(try EvidenceFixtures.bytes(ccelTable))
        #expect(table.length == 56)
        #expect(table.ccType == 2)
        #expect(table.logLength == 256 * 1024)
        #expect(table.logLength == UInt64(try EvidenceFixtures.bytes(ccelData).count))
        #expect(throws: EvidenceError.self) { try CCELTable(Array("CCEL".utf8) + [0x38, 0, 0, 0]) }
    }

    /// CRLs are checked when given: current in mid-2023, listing none of the PCK serials; outside their window they
    /// are `expired`.
    @Test func revocationLists() async throws {
        let quote = try EvidenceFixtures.bytes(quote4)
        let crls = ["tdx/go-tdx-guest-pckcrl", "tdx/go-tdx-guest-rootcrl.der", DCAP.pckCRLChain]
        let result = try await DCAP.verify(quote, kind: .tdx, try DCAP.context(at: "2023-07-01T00:00:00Z", endorsements: crls))
        #expect(result.debug)
        let crl = try RevocationList(try EvidenceFixtures.bytes("tdx/go-tdx-guest-pckcrl"))
        let leaf = try Certificate.parseAll(try DCAPQuote(quote).pckChainPEM)[0]
        #expect(!crl.lists(leaf))
        // PCK CRL's nextUpdate is 2023-07-08; the root CRL runs to 2024-04-02.
        await DCAP.expectRefusal(quote, kind: .tdx, try DCAP.context(at: "2023-08-01T00:00:00Z", endorsements: ["tdx/go-tdx-guest-pckcrl"]), .expired)
        _ = try await DCAP.verify(quote, kind: .tdx, try DCAP.context(at: "2023-08-01T00:00:00Z", endorsements: ["tdx/go-tdx-guest-rootcrl.der"]))
        await DCAP.expectRefusal(
            quote, kind: .tdx, try DCAP.context(at: "2024-06-01T00:00:00Z", endorsements: ["tdx/go-tdx-guest-rootcrl.der"]), .expired)
    }

    /// The Intel root is the only anchor: without it, or with another, the PCK chain is refused.
    @Test func trustAnchorRequired() async throws {
        let quote = try EvidenceFixtures.bytes(quote4)
        await DCAP.expectRefusal(quote, kind: .tdx, try DCAP.context(at: "2023-07-01T00:00:00Z", anchors: []), .chain)
        await DCAP.expectRefusal(
            quote, kind: .tdx, try DCAP.context(at: "2023-07-01T00:00:00Z", anchors: ["snp/trustee-milan_ask_ark_asvk.pem"]), .chain)
        let root = try Certificate.parseAll(try EvidenceFixtures.bytes(DCAP.root))
        #expect(root.count == 1)
        #expect(root.first?.commonName == "Intel SGX Root CA")
    }

    /// Both extracted issuer chains chain to the Intel root; the TCB Signing certificate expired 2025-05-21.
    @Test func extractedIssuerChains() throws {
        let anchors = try Certificate.parseAll(try EvidenceFixtures.bytes(DCAP.root))
        let signing = try Certificate.parseAll(try EvidenceFixtures.bytes(DCAP.signingChain))
        #expect(signing.first?.commonName == "Intel SGX TCB Signing")
        try CertificateChain.verify(signing, anchors: anchors, at: EvidenceFixtures.time("2023-07-01T00:00:00Z"), what: "tcb signing")
        #expect(throws: EvidenceError.self) {
            try CertificateChain.verify(signing, anchors: anchors, at: EvidenceFixtures.time("2025-06-01T00:00:00Z"), what: "tcb signing")
        }
        let pckCRL = try Certificate.parseAll(try EvidenceFixtures.bytes(DCAP.pckCRLChain))
        #expect(pckCRL.first?.commonName == "Intel SGX PCK Platform CA")
        try CertificateChain.verify(pckCRL, anchors: anchors, at: EvidenceFixtures.time("2023-07-01T00:00:00Z"), what: "pck crl issuer")
    }

    /// Single-byte flips anywhere the attestation key, PCK key or chain vouch for are refused.
    @Test(arguments: [
        ("tdx/trustee-tdx_quote_4.dat", "2023-07-01T00:00:00Z"), ("tdx/trustee-tdx_quote_5.dat", "2026-02-03T00:00:00Z"),
        ("tdx/trustee-tdx_quote_6.dat", "2025-11-01T00:00:00Z"), ("tdx/go-tdx-guest-tdx_prod_quote_SPR_E4.dat", "2023-07-01T00:00:00Z"),
        ("tdx/go-tdx-guest-quote_v5_sample.dat", "2026-02-03T00:00:00Z"), ("tdx/go-tdx-guest-ccel-cos-113-tdx-quote.dat", "2024-08-01T00:00:00Z"),
    ])
    func byteFlipsAreRefused(file: String, time: String) async throws {
        let quote = try EvidenceFixtures.bytes(file)
        let context = try DCAP.context(at: time)
        _ = try await DCAP.verify(quote, kind: .tdx, context)
        try await DCAP.expectFlipsRefused(quote, kind: .tdx, context)
    }

    /// Truncated, empty, garbage and wrong-kind input is refused as `malformed` or `unsupported`, never a crash.
    @Test func malformedInput() async throws {
        let quote = try EvidenceFixtures.bytes(quote4)
        let context = try DCAP.context(at: "2023-07-01T00:00:00Z")
        let end = try DCAPQuote(quote).signatureDataRange.upperBound
        for length in [0, 1, 10, 47, 48, 100, 631, 632, 635, 700, 1000, 1200, 2000, end - 1] {
            await DCAP.expectRefusal(Array(quote.prefix(length)), kind: .tdx, context, .malformed)
        }
        await DCAP.expectRefusal([UInt8](repeating: 0xFF, count: 5000), kind: .tdx, context, .malformed)
        var generator = SystemRandomNumberGenerator()
        for _ in 0..<50 {
            let garbage = (0..<Int.random(in: 0..<6000, using: &generator)).map { _ in UInt8.random(in: 0...255, using: &generator) }
            let error = await evidenceError { () async throws(EvidenceError) -> VerifiedEvidence in
                try await DCAP.verify(garbage, kind: .tdx, context)
            }
            #expect(error?.reason == .malformed || error?.reason == .unsupported)
        }
        // A TDX quote with a huge signature-data length.
        var huge = quote
        huge[632] = 0xFF
        huge[633] = 0xFF
        huge[634] = 0xFF
        huge[635] = 0x7F
        await DCAP.expectRefusal(huge, kind: .tdx, context, .malformed)
        // Wrong kind both ways.
        await DCAP.expectRefusal(quote, kind: .sgx, context, .unsupported)
        await DCAP.expectRefusal(try EvidenceFixtures.bytes("sgx/trustee-occlum_quote.dat"), kind: .tdx, context, .unsupported)
        let snp = try EvidenceFixtures.bytes("snp/trustee-test-report.bin")
        let error = await evidenceError { () async throws(EvidenceError) -> VerifiedEvidence in try await DCAP.verify(snp, kind: .tdx, context) }
        #expect(error?.reason == .malformed || error?.reason == .unsupported)
    }

    /// Garbage endorsements are malformed collateral, not a crash.
    @Test func garbageCollateral() async throws {
        let quote = try EvidenceFixtures.bytes(quote4)
        var context = try DCAP.context(at: "2023-07-01T00:00:00Z", endorsements: [DCAP.signingChain])
        context.endorsements.append(EvidenceFile(name: "bad", bytes: Array("{\"tcbInfo\":{\"id\":\"TDX\"},\"signature\":\"00\"}".utf8)))
        await DCAP.expectRefusal(quote, kind: .tdx, context, .malformed)
        context.endorsements[1] = EvidenceFile(name: "bad", bytes: Array("{\"tcbInfo\":[1,2".utf8))
        await DCAP.expectRefusal(quote, kind: .tdx, context, .malformed)
    }
}

/// Serves collateral from a dictionary keyed by `service/path`, with issuer chains from another.
struct FixtureCollateral: CollateralSource {
    var files: [String: [UInt8]]
    var chains: [String: [UInt8]] = [:]

    func collateral(_ request: CollateralRequest, at time: Date) async throws(EvidenceError) -> Collateral {
        guard let bytes = files[request.description] else { throw EvidenceError(.collateral, "no \(request)") }
        return Collateral(body: bytes, issuerChain: chains[request.description] ?? [])
    }

    func discard(_ request: CollateralRequest) async {}
}
