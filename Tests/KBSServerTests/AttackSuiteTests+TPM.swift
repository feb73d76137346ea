import Crypto
import CryptoExtras
import Foundation
import KBSClaims
import KBSEvidence
import KBSPolicyTesting
import Testing

/// Finding 1: TPM evidence forged with a self-made key. No certificate vouches for a plain TPM's attestation key, so
/// a quote proves only that *some* RSA key signed it; anyone can make one. The forgery here is Trustee's TPM sample
/// with this session's report data in `extraData`, signed by a key made in the test.
extension AttackSuiteTests {
    /// A TPM quote binding `reportData`, signed by `key` and naming its public key as the AK.
    static func tpmQuote(reportData: [UInt8], key: _RSA.Signing.PrivateKey) throws -> String {
        let fixture = try Data(contentsOf: URL(fileURLWithPath: RepositoryPaths.path("Fixtures/evidence/other/trustee-tpm_evidence.json")))
        var root = try #require(try JSONSerialization.jsonObject(with: fixture) as? [String: Any])
        var quote = try #require(root["tpm_quote"] as? [String: Any])
        let text = try #require(quote["message"] as? String)
        let message = Array(try #require(Data(base64Encoded: text)))
        // TPMS_ATTEST: magic (4), type (2), qualifiedSigner (TPM2B), extraData (TPM2B), then the rest as it was.
        func size(at offset: Int) -> Int { Int(message[offset]) << 8 | Int(message[offset + 1]) }
        let extraData = 6 + 2 + size(at: 6)
        let rest = extraData + 2 + size(at: extraData)
        let forged = Array(message[..<extraData]) + [UInt8(reportData.count >> 8), UInt8(reportData.count & 0xFF)] + reportData + message[rest...]
        let signature = Array(try key.signature(for: forged, padding: .insecurePKCS1v1_5).rawRepresentation)
        // TPMT_SIGNATURE: RSASSA (0x0014) over SHA-256 (0x000B), the size, the signature.
        let tpmt: [UInt8] = [0x00, 0x14, 0x00, 0x0B, UInt8(signature.count >> 8), UInt8(signature.count & 0xFF)] + signature
        quote["message"] = Data(forged).base64EncodedString()
        quote["signature"] = Data(tpmt).base64EncodedString()
        root["tpm_quote"] = quote
        root["ak_public"] = key.publicKey.derRepresentation.base64EncodedString()
        return try AttackClient.json(root)
    }

    /// `auth` for `tpm`, then `attest` with a quote for the session signed by `key`.
    static func attestTPM(_ client: AttackClient, key: _RSA.Signing.PrivateKey) async throws -> AttackClient.Answer {
        let session = try await client.auth(tee: "tpm")
        let data = try AttackClient.reportData(nonce: session.nonce, additional: "", kind: .tpm)
        return try await client.attest(session, primary: try tpmQuote(reportData: data, key: key))
    }
}

extension AttackSuiteTests.HardwareMode {
    /// Checked to fail on 23c943a^ (the TPM verifier's pin check, the tier rule's `ak_pinned` and the AR4SI result
    /// reverted): with no key pinned the forgery attested at tier 2, `ear.status` affirming, `hardware` 2. (Where a key
    /// was pinned, any other was refused before too; the attack needs a deployment that pins none, as most do.)
    @Test("finding 1: in hardware mode a quote under a self-made AK is refused at the chain; under a pinned AK it is tier 2, affirming")
    func tpmQuoteUnderASelfMadeKey() async throws {
        let lab = try AttackLab.require()
        let forged = try await AttackSuiteTests.attestTPM(AttackClient(server: lab.server), key: try _RSA.Signing.PrivateKey(keySize: .bits2048))
        #expect(forged.status == 401, "\(forged)")
        #expect(forged.code == "evidence_chain", "\(forged)")
        #expect(forged.token == nil)

        // What tier 2 is for: an operator pins the key (trust-anchors/tpm/), and the result follows from that.
        let pinned = try _RSA.Signing.PrivateKey(keySize: .bits2048)
        let data = ServerProcess.temporaryDirectory("kbs-attack-tpm")
        try FileManager.default.createDirectory(atPath: data + "/trust-anchors/tpm", withIntermediateDirectories: true)
        try Data(pinned.publicKey.pemRepresentation.utf8).write(to: URL(fileURLWithPath: data + "/trust-anchors/tpm/ak.pem"))
        let server = try ServerProcess(policies: RepositoryPaths.path("Policies/default"), dataDirectory: data)
        defer { server.stop() }
        let honest = try await AttackSuiteTests.attestTPM(AttackClient(server: server), key: pinned)
        #expect(honest.status == 200, "\(honest)")
        let appraisal = try AttackClient.appraisal(try #require(honest.token))
        #expect(appraisal.tier == 2)
        #expect(appraisal.status == "affirming")
        #expect(appraisal.vector["hardware"] == 2)
    }
}

extension AttackSuiteTests.SimulatorMode {
    /// Checked to fail on 23c943a^ (tier_2_tpm without `ak_pinned`, a constant `affirming` result): tier 2,
    /// affirming, hardware 2.
    @Test("finding 1: in simulator mode a quote under a self-made AK attests at tier 1 only, with no hardware claim and a warning")
    func tpmQuoteUnderASelfMadeKeyStaysBelowTierTwo() async throws {
        let lab = try AttackLab.require()
        let answer = try await AttackSuiteTests.attestTPM(AttackClient(server: lab.server), key: try _RSA.Signing.PrivateKey(keySize: .bits2048))
        #expect(answer.status == 200, "simulator mode accepts an unpinned AK, marked so: \(answer)")
        let claims = try AttackClient.claims(try #require(answer.token))
        let annotated = ((claims["submods"] as? [String: Any])?["cpu0"] as? [String: Any])?["ear.veraison.annotated-evidence"] as? [String: Any]
        #expect(((annotated?["tpm"] as? [String: Any])?["tpm"] as? [String: Any])?["ak_pinned"] as? Bool == false, "\(annotated ?? [:])")
        let appraisal = try AttackClient.appraisal(try #require(answer.token))
        #expect(appraisal.tier == 1)
        #expect(appraisal.status == "warning")
        #expect(appraisal.vector["hardware"] == 0)
    }
}
