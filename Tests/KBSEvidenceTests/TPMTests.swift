import Crypto
import CryptoExtras
import Foundation
import KBSClaims
import Testing

@testable import KBSEvidence

/// Plain TPM 2.0 quotes (`tpm`): Trustee's `tpm_evidence.json`, signed by an RSA-2048 AK over a quote of all 24
/// SHA-256 PCRs, with a 64-byte nonce (a 48-byte hash and 16 zero bytes).
struct TPMQuoteTests {
    static let fixture = "other/trustee-tpm_evidence.json"
    static let nonce = Hex.decode(
        "a04182b506878d4f29b91ee606a71a0d3361ccf1b22db20c98adcaa537bea393ef0e41a18b3569ab678f1497fbc5c120"
            + "00000000000000000000000000000000")!
    static let pcrDigest = "019de64c9318655e422c3d03831169896e31f02a1d74e4d8fef575bf4e0d75fa"
    static let akDigest = "a517f03ffdaee469aef1a19569547e330726335d0461c3ef6383409c6295679e"
    static let time = "2025-06-01T00:00:00Z"

    /// The fixture's AK as a `PUBLIC KEY` trust anchor (what pins it).
    static let pinnedAK = "other/derived-trustee-tpm-ak.pem"

    /// Verifies in hardware mode with the fixture's AK pinned, unless `anchors` or `simulator` say otherwise.
    static func verify(
        _ evidence: [UInt8], reportData: [UInt8]? = nonce, anchors: [EvidenceFile]? = nil, simulator: Bool = false
    ) async throws(EvidenceError) -> VerifiedEvidence {
        var context = VerificationContext(time: EvidenceFixtures.time(time), expectedReportData: reportData, allowSimulator: simulator)
        context.trustAnchors = anchors ?? [(try? EvidenceFixtures.file(pinnedAK)) ?? EvidenceFile(name: pinnedAK, bytes: [])]
        return try await TPMVerifier().verify(evidence, context: context)
    }

    /// The fixture as a mutable JSON object.
    static func json() throws -> [String: Any] {
        try #require(JSONSerialization.jsonObject(with: Data(EvidenceFixtures.bytes(fixture))) as? [String: Any])
    }

    static func akBase64() throws -> String {
        try #require(try json()["ak_public"] as? String)
    }

    /// The quote's TPMS_ATTEST message.
    static func message() throws -> [UInt8] {
        let quote = try #require(try json()["tpm_quote"] as? [String: Any])
        let text = try #require(quote["message"] as? String)
        return Array(try #require(Data(base64Encoded: text)))
    }

    static func encode(_ object: [String: Any]) throws -> [UInt8] {
        Array(try JSONSerialization.data(withJSONObject: object))
    }

    /// The fixture with `tpm_quote.<member>` (base64) decoded, changed by `change`, and encoded again.
    static func changing(_ member: String, _ change: (inout [UInt8]) -> Void) throws -> [UInt8] {
        var root = try json()
        var quote = try #require(root["tpm_quote"] as? [String: Any])
        let text = try #require(quote[member] as? String)
        var bytes = Array(try #require(Data(base64Encoded: text)))
        change(&bytes)
        quote[member] = Data(bytes).base64EncodedString()
        root["tpm_quote"] = quote
        return try encode(root)
    }

    @Test func validQuoteVerifiesWithItsClaims() async throws {
        let verified = try await Self.verify(try EvidenceFixtures.bytes(Self.fixture))
        #expect(verified.kind == .tpm)
        #expect(Hex.encode(verified.measurement) == Self.pcrDigest)
        #expect(verified.reportData == Self.nonce)
        #expect(verified.debug == false)
        let details = verified.details
        #expect(details["nonce"] == .hex(Self.nonce))
        #expect(details["pcr_digest"] == .hex(Hex.decode(Self.pcrDigest)!))
        #expect(details["ak_digest"] == .hex(Hex.decode(Self.akDigest)!))
        #expect(details["ak_pinned"] == .bool(true))
        #expect(details["pcr_selection"] == .list((0..<24).map { .int(Int64($0)) }))
        guard case .list(let pcrs)? = details["pcrs"] else {
            Issue.record("no pcrs")
            return
        }
        #expect(pcrs.count == 24)
        for (index, pcr) in pcrs.enumerated() {
            let fill: UInt8 = (17...22).contains(index) ? 0xFF : 0x00
            #expect(pcr == .hex([UInt8](repeating: fill, count: 32)), "PCR \(index)")
        }
        #expect(details["firmware_version"] == .hex(Hex.decode("2019102300163636")!))
        #expect(details["reset_count"] == .int(2))
        #expect(details["safe"] == .bool(true))
        let ak = try #require(Data(base64Encoded: try Self.akBase64()))
        #expect(details["ak_public"] == .hex(Array(ak)))
        #expect(verified.claims["kind"] == .string("tpm"))
    }

    @Test func nothingExpectedSkipsTheNonceCheck() async throws {
        let verified = try await Self.verify(try EvidenceFixtures.bytes(Self.fixture), reportData: nil)
        #expect(verified.reportData == Self.nonce)
    }

    /// The nonce is compared exactly: the 48-byte hash without its 16 zero bytes is not the 64-byte extraData.
    @Test func nonceIsComparedExactly() async throws {
        let evidence = try EvidenceFixtures.bytes(Self.fixture)
        let unpadded = await evidenceError { () async throws(EvidenceError) in
            try await Self.verify(evidence, reportData: Array(Self.nonce.prefix(48)))
        }
        #expect(unpadded?.reason == .binding)
        var other = Self.nonce
        other[0] ^= 1
        let wrong = await evidenceError { () async throws(EvidenceError) in try await Self.verify(evidence, reportData: other) }
        #expect(wrong?.reason == .binding)
    }

    @Test func detailsMatchTheSchema() async throws {
        let verified = try await Self.verify(try EvidenceFixtures.bytes(Self.fixture))
        #expect(tpmSchemaViolations(verified.details, TPMVerifier().schema.record) == [])
        #expect(EvidenceSchemas.all.contains { $0.typeName == "TPMClaims" })
    }

    /// A trust anchor holding the AK pins it; one holding another key refuses it; certificates pin nothing.
    @Test func trustAnchorPublicKeysPinTheAK() async throws {
        let evidence = try EvidenceFixtures.bytes(Self.fixture)
        let ak = try Self.akBase64()
        let pem = "-----BEGIN PUBLIC KEY-----\n\(ak)\n-----END PUBLIC KEY-----\n"
        let pinned = try await Self.verify(evidence, anchors: [EvidenceFile(name: "ak.pem", bytes: Array(pem.utf8))])
        #expect(pinned.details["ak_pinned"] == .bool(true))
        let der = Array(try #require(Data(base64Encoded: ak)))
        let pinnedDER = try await Self.verify(evidence, anchors: [EvidenceFile(name: "ak.der", bytes: der)])
        #expect(pinnedDER.details["ak_pinned"] == .bool(true))

        let other = P256.Signing.PrivateKey().publicKey.pemRepresentation
        let refused = await evidenceError { () async throws(EvidenceError) in
            try await Self.verify(evidence, anchors: [EvidenceFile(name: "other.pem", bytes: Array(other.utf8))])
        }
        #expect(refused?.reason == .chain)
        // Among several pinned keys, one match is enough.
        let either = try await Self.verify(
            evidence,
            anchors: [
                EvidenceFile(name: "other.pem", bytes: Array(other.utf8)), EvidenceFile(name: "ak.pem", bytes: Array(pem.utf8)),
            ])
        #expect(either.details["ak_pinned"] == .bool(true))

        // Certificates pin nothing, so this AK is unpinned: refused outside simulator mode (see below).
        let certificates = try EvidenceFixtures.file("snp/trustee-milan_ask_ark_asvk.pem")
        let unpinned = try await Self.verify(evidence, anchors: [certificates], simulator: true)
        #expect(unpinned.details["ak_pinned"] == .bool(false))
    }

    /// Anyone can make an RSA key and sign a TPMS_ATTEST with it: an AK that no trust anchor pins proves nothing
    /// about hardware, so outside simulator mode it is refused (`chain`); simulator mode accepts it, marked
    /// `ak_pinned: false` (which no tier rule above 1 accepts).
    @Test func unpinnedAKIsRefusedOutsideSimulatorMode() async throws {
        let evidence = try EvidenceFixtures.bytes(Self.fixture)
        for anchors in [[], [try EvidenceFixtures.file("snp/trustee-milan_ask_ark_asvk.pem")]] {
            let refused = await evidenceError { () async throws(EvidenceError) in try await Self.verify(evidence, anchors: anchors) }
            #expect(refused?.reason == .chain, "\(String(describing: refused))")
            let simulated = try await Self.verify(evidence, anchors: anchors, simulator: true)
            #expect(simulated.details["ak_pinned"] == .bool(false))
        }
        let pinned = try await Self.verify(evidence)
        #expect(pinned.details["ak_pinned"] == .bool(true))
    }

    /// A quote made here with a fresh, self-made AK (the forgery the finding describes) verifies its signature, yet
    /// is refused unless that very key is pinned.
    @Test func selfMadeAKIsRefusedUnlessPinned() async throws {
        let key = try _RSA.Signing.PrivateKey(keySize: .bits2048)
        let message = try Self.message()
        let signature = try key.signature(for: message, padding: .insecurePKCS1v1_5)
        var root = try Self.json()
        var quote = try #require(root["tpm_quote"] as? [String: Any])
        // TPMT_SIGNATURE: sigAlg RSASSA (0x0014), hashAlg SHA-256 (0x000B), size, the signature.
        let raw = Array(signature.rawRepresentation)
        let tpmt: [UInt8] = [0x00, 0x14, 0x00, 0x0B, UInt8(raw.count >> 8), UInt8(raw.count & 0xFF)] + raw
        quote["signature"] = Data(tpmt).base64EncodedString()
        quote["message"] = Data(message).base64EncodedString()
        root["tpm_quote"] = quote
        root["ak_public"] = key.publicKey.derRepresentation.base64EncodedString()
        let forged = try Self.encode(root)
        let refused = await evidenceError { () async throws(EvidenceError) in try await Self.verify(forged) }
        #expect(refused?.reason == .chain, "\(String(describing: refused))")
        let bare = await evidenceError { () async throws(EvidenceError) in try await Self.verify(forged, anchors: []) }
        #expect(bare?.reason == .chain, "\(String(describing: bare))")
        let pem = Array(key.publicKey.pemRepresentation.utf8)
        let pinned = try await Self.verify(forged, anchors: [EvidenceFile(name: "own.pem", bytes: pem)])
        #expect(pinned.details["ak_pinned"] == .bool(true))
    }

    /// The signed region is the whole TPMS_ATTEST `message` (177 bytes): a flip anywhere in it is refused, as is a
    /// flip anywhere in the RSA signature.
    @Test func byteFlipsInTheMessageAndSignatureAreRefused() async throws {
        let message = try Self.message()
        #expect(message.count == 177)
        for position in Array(stride(from: 0, to: message.count, by: 3)) + [message.count - 1] {
            let evidence = try Self.changing("message") { $0[position] ^= 0x01 }
            let error = await evidenceError { () async throws(EvidenceError) in try await Self.verify(evidence, reportData: nil) }
            #expect(error != nil, "flip at message byte \(position) verified")
        }
        // TPMT_SIGNATURE: 6 bytes of algorithm and size, then 256 bytes of RSA signature.
        for position in Array(stride(from: 6, to: 262, by: 7)) + [261] {
            let evidence = try Self.changing("signature") { $0[position] ^= 0x80 }
            let error = await evidenceError { () async throws(EvidenceError) in try await Self.verify(evidence, reportData: nil) }
            #expect(error?.reason == .signature, "flip at signature byte \(position)")
        }
    }

    @Test func otherSignatureAlgorithmsAreUnsupported() async throws {
        let ecdsa = try Self.changing("signature") { $0[1] = 0x18 }
        #expect(await evidenceError { () async throws(EvidenceError) in try await Self.verify(ecdsa) }?.reason == .unsupported)
        let sha384 = try Self.changing("signature") { $0[3] = 0x0C }
        #expect(await evidenceError { () async throws(EvidenceError) in try await Self.verify(sha384) }?.reason == .unsupported)
        let rsapss = try Self.changing("signature") { $0[1] = 0x16 }
        #expect(await evidenceError { () async throws(EvidenceError) in try await Self.verify(rsapss) }?.reason == .unsupported)
    }

    @Test func attestationKeysOtherThanRSAAreRefused() async throws {
        var root = try Self.json()
        root["ak_public"] = P256.Signing.PrivateKey().publicKey.derRepresentation.base64EncodedString()
        let ecc = try Self.encode(root)
        #expect(await evidenceError { () async throws(EvidenceError) in try await Self.verify(ecc) }?.reason == .unsupported)
        root["ak_public"] = Data([0x30, 0x03, 0x02, 0x01, 0x01]).base64EncodedString()
        let junk = try Self.encode(root)
        #expect(await evidenceError { () async throws(EvidenceError) in try await Self.verify(junk) }?.reason == .malformed)
        root["ak_public"] = "not base64!"
        let text = try Self.encode(root)
        #expect(await evidenceError { () async throws(EvidenceError) in try await Self.verify(text) }?.reason == .malformed)
    }

    @Test func aChangedPCRValueIsAMeasurementError() async throws {
        var root = try Self.json()
        var quote = try #require(root["tpm_quote"] as? [String: Any])
        var pcrs = try #require(quote["pcrs"] as? [String])
        pcrs[8] = String(repeating: "ab", count: 32)
        quote["pcrs"] = pcrs
        root["tpm_quote"] = quote
        let changed = try Self.encode(root)
        let error = await evidenceError { () async throws(EvidenceError) in try await Self.verify(changed) }
        #expect(error?.reason == .measurement)
        // One PCR value fewer than the quote selects cannot be hashed the way the TPM did.
        quote["pcrs"] = Array(pcrs.dropLast())
        root["tpm_quote"] = quote
        let fewer = try Self.encode(root)
        let short = await evidenceError { () async throws(EvidenceError) in try await Self.verify(fewer) }
        #expect(short?.reason == .malformed)
    }

    @Test func garbageTruncatedAndWrongKindAreMalformed() async throws {
        let evidence = try EvidenceFixtures.bytes(Self.fixture)
        var inputs: [[UInt8]] = [[], Array("garbage".utf8), [0xFF, 0x54, 0x43, 0x47], Array("{}".utf8), Array("[1,2]".utf8)]
        inputs += [1, 10, 100, 1000, evidence.count / 2, evidence.count - 2].map { Array(evidence.prefix($0)) }
        inputs.append(try EvidenceFixtures.bytes("az-vtpm/trustee-az-snp-vtpm-evidence-v1.json"))
        inputs.append(try EvidenceFixtures.bytes("snp/trustee-test-report.bin"))
        for input in inputs {
            let error = await evidenceError { () async throws(EvidenceError) in try await Self.verify(input) }
            #expect(error?.reason == .malformed, "input of \(input.count) bytes: \(String(describing: error))")
        }
        // A truncated message or signature inside well-formed JSON.
        for count in [0, 4, 6, 60, 176] {
            let short = try Self.changing("message") { $0 = Array($0.prefix(count)) }
            let error = await evidenceError { () async throws(EvidenceError) in try await Self.verify(short) }
            #expect(error?.reason == .malformed, "message of \(count) bytes")
        }
        let shortSignature = try Self.changing("signature") { $0 = Array($0.prefix(100)) }
        #expect(await evidenceError { () async throws(EvidenceError) in try await Self.verify(shortSignature) }?.reason == .malformed)
        let trailing = try Self.changing("message") { $0.append(0) }
        #expect(await evidenceError { () async throws(EvidenceError) in try await Self.verify(trailing) }?.reason == .malformed)
    }

    /// Every byte of the attestation, cut short at every length, parses or fails with `malformed`; never a trap.
    @Test func attestParserRefusesEveryTruncation() throws {
        let message = try Self.message()
        let attest = try TPMAttest(message)
        #expect(attest.extraData == Self.nonce)
        #expect(Hex.encode(attest.pcrDigest) == Self.pcrDigest)
        #expect(attest.selections == [TPMAttest.Selection(hash: 0x000B, indices: Array(0..<24))])
        for count in 0..<message.count {
            #expect(throws: EvidenceError.self) { try TPMAttest(Array(message.prefix(count))) }
        }
        var certify = message
        certify[5] = 0x17  // TPM_ST_ATTEST_CERTIFY
        let error = #expect(throws: EvidenceError.self) { try TPMAttest(certify) }
        #expect(error?.reason == .unsupported)
    }

    @Test func base64AcceptsBothAlphabets() {
        #expect(Base64URL.decodeLenient("+/8=") == [0xFB, 0xFF])
        #expect(Base64URL.decodeLenient("-_8") == [0xFB, 0xFF])
        #expect(Base64URL.decodeLenient("-_8=") == [0xFB, 0xFF])
        #expect(Base64URL.decodeLenient("a") == nil)
        #expect(Base64URL.decodeLenient("ab=c") == nil)
        #expect(Base64URL.decodeLenient("!!!!") == nil)
    }
}
