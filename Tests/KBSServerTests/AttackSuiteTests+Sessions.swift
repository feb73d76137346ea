import Foundation
import KBSStore
import Testing

/// Findings 3 and 4: what the unauthenticated RCAR routes let anyone do with sessions. One session must buy one
/// attempt; refusals that cost the caller nothing must not each cost the server a durable audit record; one address
/// must not make requests without limit; and one address's sessions must not push out another's.
extension AttackSuiteTests {
    /// How many records the server's audit chain holds (read beside the running server, read-only).
    static func auditLength(_ server: ServerProcess) throws -> Int {
        try Store(path: server.dataDirectory + "/kbs.sqlite", readOnly: true).verifyAudit().records
    }

    /// The value of the `/metrics` sample whose name and labels contain every one of `parts`.
    static func metric(_ server: ServerProcess, _ parts: [String], token: String? = nil) async throws -> Double {
        let headers = token.map { ["Authorization": "Bearer \($0)"] } ?? [:]
        let text = try await server.request("GET", "/metrics", headers: headers).body
        let line = text.split(separator: "\n").first { line in !line.hasPrefix("#") && parts.allSatisfy { line.contains($0) } }
        return line.flatMap { Double($0.split(separator: " ").last ?? "") } ?? 0
    }
}

extension AttackSuiteTests.SimulatorMode {
    /// Checked to fail on 7009f10^ (59d0843; the nonce compared before the attempt was spent): the right evidence on
    /// the session after a wrong nonce attested (200).
    @Test("finding 3: a wrong nonce spends the session: honest evidence on it afterwards is refused as nonce_used")
    func aWrongNonceSpendsTheSession() async throws {
        let lab = try AttackLab.require()
        let client = AttackClient(server: lab.server)
        let session = try await client.auth()
        let wrong = try await client.attest(session, primary: "{}", nonce: Data(repeating: 7, count: 32).base64EncodedString())
        #expect(wrong.status == 401 && wrong.code == "nonce_mismatch", "\(wrong)")
        let honest = try await client.attestSimulated(on: session)
        #expect(honest.answer.status == 401, "\(honest.answer)")
        #expect(honest.answer.code == "nonce_used", "\(honest.answer)")
    }

    /// Checked to fail on 7009f10^ (59d0843; every attestation refusal was audited): each of the 60 refusals added
    /// an audit record.
    @Test("finding 3: refusals made before any signature check add nothing to the audit log; the metrics count them")
    func uncheckedRefusalsAreNotAudited() async throws {
        let lab = try AttackLab.require()
        let client = AttackClient(server: lab.server)
        let before = try AttackSuiteTests.auditLength(lab.server)
        let failures = try await AttackSuiteTests.metric(lab.server, ["kbs_attestations_total{", #"tee="snp""#, #"result="failure""#])
        let garbageKey = #"{"kty":"EC","crv":"P-256","x":"AAAA","y":"AAAA"}"#
        for _ in 0..<20 {
            // A wrong nonce, then the session again (spent), then a key that is no key: none gets near a signature.
            let session = try await client.auth()
            #expect(try await client.attest(session, primary: "{}", nonce: "not-the-nonce").code == "nonce_mismatch")
            #expect(try await client.attest(session, primary: "{}").code == "nonce_used")
            let other = try await client.auth()
            let runtime = #"{"nonce":"\#(other.nonce)","tee-pubkey":\#(garbageKey)}"#
            let bad = try await client.send(
                "POST", "/kbs/v0/attest", body: #"{"runtime-data":\#(runtime),"tee-evidence":{"primary_evidence":{}}}"#,
                headers: ["Cookie": other.cookie])
            #expect(bad.code == "invalid_tee_pubkey", "\(bad)")
        }
        #expect(try AttackSuiteTests.auditLength(lab.server) == before, "unchecked refusals were audited one by one")
        let counted = try await AttackSuiteTests.metric(lab.server, ["kbs_attestations_total{", #"tee="snp""#, #"result="failure""#])
        #expect(counted - failures == 60, "\(failures) → \(counted)")
    }

    /// Checked to fail on bd298bb^ (229e728; one table of 10,000 sessions, the oldest evicted when full): the victim's
    /// attested session was gone (401 no_session) and its pending one could not attest.
    @Test("finding 4: ten thousand auth calls from one address evict none of another address's sessions, only the flooder's own")
    func aSessionFloodEvictsOnlyTheFlooder() async throws {
        let lab = try AttackLab.require()
        // Two clients on one machine: the server counts sessions per peer address (it trusts no forwarding header).
        let victim = AttackClient(server: lab.server, source: "127.0.0.2")
        let attacker = AttackClient(server: lab.server)
        let attested = try await victim.attestSimulated()
        #expect(attested.answer.status == 200, "\(attested.answer)")
        let pending = try await victim.auth()
        let first = try await attacker.auth()

        let refused = try await withThrowingTaskGroup(of: Int.self) { group in
            for _ in 0..<8 {
                group.addTask {
                    var refused = 0
                    for _ in 0..<1250 {
                        let answer = try await lab.server.request("POST", "/kbs/v0/auth", body: #"{"version":"0.4.0","tee":"snp"}"#)
                        if answer.status != 200 { refused += 1 }
                    }
                    return refused
                }
            }
            return try await group.reduce(0, +)
        }
        #expect(refused == 0, "the flood is within one address's rights; only its own old sessions make room")

        // The flooder lost its own oldest session (64 per address)…
        let stale = try await attacker.attestSimulated(on: first)
        #expect(stale.answer.status == 401 && stale.answer.code == "no_session", "\(stale.answer)")
        // …and the victim kept both: the attested one still releases, the pending one still attests.
        let released = try await victim.resource("demo/keys/t2", cookie: attested.session.cookie)
        #expect(released.status == 200, "\(released)")
        let later = try await victim.attestSimulated(on: pending)
        #expect(later.answer.status == 200, "\(later.answer)")
    }
}

extension AttackSuiteTests.HardwareMode {
    /// Checked to fail on dc2350e^ (bd298bb; no rate limit): all 70 requests were served.
    @Test("finding 3: auth and attest are rate-limited per client address: 429 rate_limited with Retry-After, others unaffected")
    func unauthenticatedRoutesAreRateLimited() async throws {
        let lab = try AttackLab.require()
        let flooder = AttackClient(server: lab.server, source: "127.0.0.3")
        let bystander = AttackClient(server: lab.server, source: "127.0.0.4")
        let counted = try await AttackSuiteTests.metric(lab.server, ["kbs_rate_limited_total"], token: AttackServers.metricsToken)
        var statuses: [Int] = []
        for _ in 0..<70 { statuses.append(try await flooder.send("POST", "/kbs/v0/auth", body: #"{"version":"0.4.0","tee":"snp"}"#).status) }
        // The lab allows 60 at once and one every 20 s after.
        #expect(statuses.prefix(60).allSatisfy { $0 == 200 }, "\(statuses)")
        #expect(statuses.filter { $0 == 429 }.count >= 9, "\(statuses)")
        let limited = try await flooder.send("POST", "/kbs/v0/attest", body: "{}")
        #expect(limited.status == 429, "\(limited)")
        #expect(limited.code == "rate_limited", "\(limited)")
        #expect((Int(limited.headers["retry-after"] ?? "") ?? 0) >= 1, "\(limited.headers)")
        // Another address is served as before.
        #expect(try await bystander.send("POST", "/kbs/v0/auth", body: #"{"version":"0.4.0","tee":"snp"}"#).status == 200)
        let after = try await AttackSuiteTests.metric(lab.server, ["kbs_rate_limited_total"], token: AttackServers.metricsToken)
        #expect(after - counted >= 10)
    }

    /// The identity routes came after the rate limit and were limited from the start (afa5c65), so there is no commit
    /// before; checked to fail with dc2350e's limiter reverted: all 70 anonymous refusals were audited.
    @Test("finding 3: anonymous release refusals are audited one each (docs/identity.md), so the rate limit bounds them per address")
    func anonymousReleaseRefusalsAreRateLimited() async throws {
        let lab = try AttackLab.require()
        let anonymous = AttackClient(server: lab.server, source: "127.0.0.5")
        let before = try AttackSuiteTests.auditLength(lab.server)
        let body = try AttackClient.json(["recipient": AttackClient.teePublicKey])
        var statuses: [Int] = []
        for index in 0..<70 { statuses.append(try await anonymous.send("POST", "/kbs/v1/release/demo/keys/none\(index)", body: body).status) }
        #expect(statuses.prefix(60).allSatisfy { $0 == 403 }, "\(statuses)")
        #expect(statuses.filter { $0 == 429 }.count >= 9, "\(statuses)")
        // One record per request admitted, none for those refused at the door.
        let admitted = statuses.filter { $0 == 403 }.count
        #expect(try AttackSuiteTests.auditLength(lab.server) - before == admitted)
    }
}
