import Crypto
import Foundation
import KBSClaims
import KBSKeys
import Testing

@testable import KBSBroker

/// The document session stores keep for an attested session (`Appraisal+Storage.swift`): what a replica reads back
/// must release, and refuse, exactly what the replica that attested would.
@Suite struct StoredAppraisalTests {
    @Test("an appraisal the broker made reads back whole and releases and refuses as the original does")
    func roundTripThroughTheBroker() async throws {
        let fixture = try InMemoryReleaseTests.Fixture()
        let secret = Array("stored \(UUID())".utf8)
        for (path, tier, labels) in [("mem/key/two", 2, [:]), ("mem/key/three", 3, [:]), ("mem/key/oidc", 2, ["identity_methods": "oidc"])] {
            _ = try await fixture.broker.vault.putResource(
                path: path, value: SecretBytes(copying: secret), requiredTier: tier, labels: labels, actor: "test")
        }
        let measurement = Hex.encode(fixture.measurement)
        _ = try await fixture.broker.vault.addReferenceValues(kind: "snp", name: "measurement", values: [measurement], actor: "test")
        let key = P256.KeyAgreement.PrivateKey()
        let challenge = try await fixture.broker.auth(AuthRequest(version: "0.4.0", tee: "snp", client: "192.0.2.7"))
        // An identity whose claims hold times and a nested record, which plain JSON would hand back as text and lose.
        let identity = CallerIdentity(
            subject: "oidc:https://issuer.example#alice", method: "oidc", issuer: "https://issuer.example",
            claims: ClaimRecord([
                ("id", .string("oidc:https://issuer.example#alice")), ("subject", .string("alice")), ("issuer", .string("https://issuer.example")),
                ("method", .string("oidc")), ("verified_at", .time(fixture.now + 0.123_456)),
                (
                    "jwt",
                    .record(
                        ClaimRecord([
                            ("aud", .list([.string("kbs")])), ("alg", .string("ES256")), ("email_verified", .bool(true)),
                            ("exp", .time(fixture.now + 3600)),
                        ]))
                ),
            ]),
            expires: Int64(fixture.now.timeIntervalSince1970) + 3600, capability: nil)
        _ = try await fixture.broker.attest(
            sessionID: challenge.sessionID, request: try fixture.request(key, nonce: challenge.nonce), identity: identity)
        let sessions = fixture.broker.ports.sessions
        let original = try #require(try await sessions.session(challenge.sessionID, now: fixture.now)?.appraisal)

        let document = try original.storedJSON()
        let back = try Appraisal(storedJSON: document)
        #expect(try back.storedJSON() == document, "reading and writing again changes nothing")
        #expect(back.id == original.id && back.kind == original.kind && back.tier == original.tier && back.tier == 2)
        #expect(back.claims == original.claims && back.deviceClaims == original.deviceClaims)
        #expect(back.claims.fields.contains { if case .hex = $0.value { true } else { false } }, "the evidence's bytes stay bytes")
        #expect(back.teePublicKeyJSON == original.teePublicKeyJSON && back.teePublicKey.algorithm == original.teePublicKey.algorithm)
        #expect(back.attestedAt == original.attestedAt)
        #expect(back.identity?.claims == identity.claims && back.identity?.subject == identity.subject)
        #expect(back.identity?.expires == identity.expires && back.identity?.method == "oidc")

        // A session carrying the read-back appraisal releases what the original does, to the same key, and is refused
        // what the original is refused.
        let copy = RCARSession(
            id: "copy-\(UUID())", nonce: "n", tee: "snp", client: "192.0.2.8", expires: fixture.now + 60, appraisal: back, attempted: true)
        try await sessions.insert(copy, now: fixture.now)
        for session in [challenge.sessionID, copy.id] {
            for path in ["mem/key/two", "mem/key/oidc"] {
                let jwe = try await fixture.broker.release(path: path, sessionID: session, bearer: nil)
                #expect(try ProtocolTests.decrypt(jwe, with: key) == secret)
            }
            let refusal = await InMemoryReleaseTests.code {
                _ = try await fixture.broker.release(path: "mem/key/three", sessionID: session, bearer: nil)
            }
            #expect(refusal == "policy_deny")
        }
        let releases = fixture.memory.audit.all.filter { $0.action == "release" }
        #expect(releases.map(\.outcome) == [.permit, .permit, .deny, .permit, .permit, .deny])
        #expect(Set(releases.map { $0.details["appraisal"] }) == [.string(original.id)])
        #expect(Set(releases.map { $0.details["subject"] }) == [.string(identity.subject)])
    }

    @Test("a capability grant is kept by id and capabilities, never with its token")
    func capabilityGrantLeavesItsToken() throws {
        var appraisal = try ProtocolTests.appraisal(at: Date(timeIntervalSinceReferenceDate: 800_000_000.25))
        appraisal.identity = CallerIdentity(
            agent: "builder", grant: .init(tokenID: "tok-1", token: "kbsc1.secret-bearer-token", capabilities: ["release:a/b/*"]),
            expires: 1_900_000_000, verifiedAt: Date(timeIntervalSince1970: 1_800_000_000))
        let document = try appraisal.storedJSON()
        #expect(!String(decoding: document, as: UTF8.self).contains("secret-bearer-token"))
        let back = try Appraisal(storedJSON: document)
        let grant = try #require(back.identity?.capability)
        #expect(grant.tokenID == "tok-1" && grant.token == nil && grant.capabilities == ["release:a/b/*"])
        #expect(back.identity?.claims == appraisal.identity?.claims)
        #expect(back.attestedAt == appraisal.attestedAt)
    }

    @Test("a document this server did not write is refused as an unreadable store, not believed")
    func foreignDocumentsAreRefused() throws {
        let good = String(decoding: try ProtocolTests.appraisal(at: Date()).storedJSON(), as: UTF8.self)
        #expect(try Appraisal(storedJSON: Array(good.utf8)).tier == 2)
        let bad = [
            good.replacingOccurrences(of: #""version":1"#, with: #""version":2"#),
            good.replacingOccurrences(of: #"{"hex":"ab"}"#, with: #"{"hex":"zz"}"#),
            good.replacingOccurrences(of: #"{"hex":"ab"}"#, with: #"{"hex":"ab","int":1}"#),
            good.replacingOccurrences(of: #""name":"debug""#, with: #""name":"kind""#),
            good.replacingOccurrences(of: #"\"kty\":\"EC\""#, with: #"\"kty\":\"oct\""#),
            "{}", "",
        ]
        for document in bad {
            #expect(document != good)
            #expect(throws: BrokerError(.unavailable, "store_unavailable", "the session store holds an appraisal this server cannot read")) {
                try Appraisal(storedJSON: Array(document.utf8))
            }
        }
    }
}
